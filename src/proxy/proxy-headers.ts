// Which headers cross the proxy. RFC 9110 §7.6.1: hop-by-hop headers (and any the Connection
// header names) belong to one connection and are never forwarded. The caller's Authorization
// (our API key), Host and cookies never reach the provider; the provider's cookies never reach
// the caller.
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"];
const NEVER_FORWARDED = ["host", "authorization", "cookie", "content-length", "expect", "forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip", "origin", "referer"];
// The body is streamed as it came (chunked), so the provider's length is not ours to repeat;
// its content-encoding is, since the bytes pass through undecoded.
const NEVER_RETURNED = ["set-cookie", "content-length"];

const DROPPED_ON_THE_WAY_OUT = new Set([...HOP_BY_HOP, ...NEVER_FORWARDED]);
const DROPPED_ON_THE_WAY_BACK = new Set([...HOP_BY_HOP, ...NEVER_RETURNED]);

type HeaderRecord = Record<string, string | string[] | undefined>;

/** The headers without the fixed set and without those the Connection header names (lower-cased names). */
function passing(headers: HeaderRecord, fixed: Set<string>): Record<string, string | string[]> {
  const c = headers.connection;
  const named = (Array.isArray(c) ? c.join(",") : (c ?? "")).toLowerCase().split(",").map((h) => h.trim());
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value !== undefined && !fixed.has(lower) && !named.includes(lower)) out[lower] = value;
  }
  return out;
}

export function requestHeadersForProvider(incoming: HeaderRecord, accessToken: string, tokenType: string): Record<string, string | string[]> {
  const out = passing(incoming, DROPPED_ON_THE_WAY_OUT);
  // RFC 6750 §2.1: the token as a Bearer credential (providers that say "bearer" get "Bearer").
  out.authorization = `${tokenType.toLowerCase() === "bearer" ? "Bearer" : tokenType} ${accessToken}`;
  return out;
}

export function responseHeadersForCaller(upstream: HeaderRecord): Record<string, string | string[]> {
  return passing(upstream, DROPPED_ON_THE_WAY_BACK);
}
