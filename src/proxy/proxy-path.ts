// Where a proxied call may go: apiBaseUrl + the caller's path, and nowhere else.
// Checked on the RAW path (before any decoding), because a decoder that turns %2e%2e into ".."
// after our check is exactly how a path escapes its base.
import { AppError } from "../errors/problem.ts";

// `..` or `.` segments in any spelling (literal, percent-encoded, mixed case), encoded slashes
// and backslashes, `@`, `//`, control characters, and `%` not followed by two hex digits.
const FORBIDDEN: Array<[RegExp, string]> = [
  [/(^|\/)(\.|%2e){1,2}(\/|$|\?|#)/i, "dot segments (. or ..) are not allowed"],
  [/%2f|%5c|\\/i, "encoded slashes and backslashes are not allowed"],
  [/\/\//, "empty path segments (//) are not allowed"],
  [/@|%40/i, "@ is not allowed in the path"],
  [/[\x00-\x1f\x7f]|%[01][0-9a-f]|%7f/i, "control characters are not allowed"],
  [/%(?![0-9a-f]{2})/i, "malformed percent-encoding"],
  [/#/, "fragments are not allowed"],
];

/**
 * Builds the target URL for `rawPathAndQuery` (what follows `/proxy/{appId}/{userId}`, starting
 * with "/" or empty) under `apiBaseUrl`. Throws invalid_request when it would leave the base.
 */
export function proxyTarget(apiBaseUrl: string, rawPathAndQuery: string): URL {
  const q = rawPathAndQuery.indexOf("?");
  const rawPath = q === -1 ? rawPathAndQuery : rawPathAndQuery.slice(0, q);
  const rawQuery = q === -1 ? "" : rawPathAndQuery.slice(q);
  if (rawPath !== "" && !rawPath.startsWith("/")) throw new AppError("invalid_request", "path: must start with /");
  if (/^\/*[a-z][a-z0-9+.-]*:/i.test(rawPath.slice(1))) throw new AppError("invalid_request", "path: absolute URLs are not allowed");
  for (const [pattern, why] of FORBIDDEN) {
    if (pattern.test(rawPath)) throw new AppError("invalid_request", `path: ${why}`);
  }
  if (/[\x00-\x1f\x7f#]/.test(rawQuery)) throw new AppError("invalid_request", "query: control characters are not allowed");
  const base = new URL(apiBaseUrl);
  const basePath = base.pathname.replace(/\/+$/, "");
  const target = new URL(`${base.origin}${basePath}${rawPath}${rawQuery}`);
  // Belt and braces: whatever the URL parser made of it, it must still be under the base.
  if (target.origin !== base.origin || !(target.pathname === basePath || target.pathname.startsWith(`${basePath}/`) || (basePath === "" && target.pathname.startsWith("/")))) {
    throw new AppError("invalid_request", "path: leaves the app's apiBaseUrl");
  }
  return target;
}
