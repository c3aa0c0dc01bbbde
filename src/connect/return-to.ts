// Where the user lands after the flow. A connect session's returnTo comes from the host app's
// trusted backend (any http(s) URL); a signed-in user's `?returnTo=` comes from a link anyone
// can craft, so it must be a path on this origin, or it becomes an open redirect.
export type ReturnToVerdict = { ok: true; url: string } | { ok: false; reason: string };

/**
 * A same-origin path such as `/` or `/apps?tab=1`, resolved against PUBLIC_URL. Refuses
 * scheme-relative (`//evil.example`), backslashes (browsers read `/\evil` as `//evil`),
 * absolute URLs (`https://host@evil.example`, `javascript:`) and control characters.
 */
export function sameOriginReturnTo(publicUrl: string, value: string): ReturnToVerdict {
  if (value.length > 2000) return { ok: false, reason: "is longer than 2000 characters" };
  if (!value.startsWith("/")) return { ok: false, reason: "must be a path on this site, starting with /" };
  if (value.startsWith("//")) return { ok: false, reason: "must not start with // (that names another site)" };
  if (value.includes("\\")) return { ok: false, reason: "must not contain a backslash" };
  if (/[\u0000-\u001f\u007f]/.test(value)) return { ok: false, reason: "must not contain control characters" };
  const origin = new URL(publicUrl).origin;
  let resolved: URL;
  try {
    resolved = new URL(value, `${origin}/`);
  } catch {
    return { ok: false, reason: "is not a valid path" };
  }
  if (resolved.origin !== origin) return { ok: false, reason: "must stay on this site" };
  return { ok: true, url: resolved.toString() };
}

/** The returnTo URL with one more query parameter (`connected=<appId>` or `error=<code>`). */
export function withResult(returnTo: string, name: "connected" | "error", value: string): string {
  const url = new URL(returnTo);
  url.searchParams.delete("connected");
  url.searchParams.delete("error");
  url.searchParams.append(name, value);
  return url.toString();
}
