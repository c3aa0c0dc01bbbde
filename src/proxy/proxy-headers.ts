// Which headers cross the proxy. RFC 9110 §7.6.1: hop-by-hop headers (and any the Connection
// header names) belong to one connection and are never forwarded. The caller's Authorization
// (our API key), Host and cookies never reach the provider; the provider's cookies never reach
// the caller.
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
const NEVER_FORWARDED = ["host", "authorization", "cookie", "content-length", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "origin", "referer"];
// The body is streamed as it came (chunked), so the provider's length is not ours to repeat;
// its content-encoding is, since the bytes pass through undecoded.
const NEVER_RETURNED = ["set-cookie", "content-length"];

function connectionNamed(headers: Record<string, string | string[] | undefined>): string[] {
  const c = headers.connection;
  const text = Array.isArray(c) ? c.join(",") : (c ?? "");
  return text.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
}

export function requestHeadersForProvider(incoming: Record<string, string | string[] | undefined>, accessToken: string, tokenType: string): Record<string, string | string[]> {
  const drop = new Set([...HOP_BY_HOP, ...NEVER_FORWARDED, ...connectionNamed(incoming)]);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(incoming)) {
    const lower = name.toLowerCase();
    if (value === undefined || drop.has(lower)) continue;
    out[lower] = value;
  }
  // RFC 6750 §2.1: the token as a Bearer credential (providers that say "bearer" get "Bearer").
  out.authorization = `${tokenType.toLowerCase() === "bearer" ? "Bearer" : tokenType} ${accessToken}`;
  return out;
}

export function responseHeadersForCaller(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const drop = new Set([...HOP_BY_HOP, ...NEVER_RETURNED, ...connectionNamed(upstream)]);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && !drop.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}
