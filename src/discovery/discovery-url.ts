// What a user may give discovery: an issuer, its OpenID configuration URL, or its RFC 8414
// metadata URL. Each is read back to the issuer it names and the well-known form to fetch, so
// the document's `issuer` can be checked against the URL it was fetched for.
import { AppError } from "../errors/problem.ts";

export type DiscoveryAlgorithm = "oidc" | "oauth2";

export interface DiscoveryTarget {
  /** The issuer the document must name (OIDC Discovery 1.0 §4.3, RFC 8414 §3.3). */
  issuer: URL;
  /** Which well-known documents to try, in order: an issuer alone tries OIDC, then RFC 8414. */
  algorithms: DiscoveryAlgorithm[];
}

const OIDC_SUFFIX = "/.well-known/openid-configuration";
const OAUTH_PREFIX = "/.well-known/oauth-authorization-server";

/** Reads `input` into a discovery target, or throws invalid_request saying what is wrong with it. */
export function parseDiscoveryUrl(input: string, allowPrivateUrls: boolean): DiscoveryTarget {
  const url = URL.canParse(input) ? new URL(input) : null;
  if (!url) throw invalid("it is not an absolute URL (expected something like https://login.example.com)");
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid(`it must start with https:// (not ${url.protocol})`);
  }
  if (url.protocol === "http:" && !allowPrivateUrls) {
    throw invalid("it must use https; plain http is allowed only with CONNECTED_APPS_ALLOW_PRIVATE_URLS=true, for local providers");
  }
  if (url.username || url.password) throw invalid("it must not contain a user name or password");
  // RFC 8414 §2: an issuer has no query or fragment components.
  if (url.search || url.hash) throw invalid("it must not have a query (?) or fragment (#)");

  const path = url.pathname;
  if (path.endsWith(OIDC_SUFFIX)) {
    // OIDC Discovery 1.0 §4: the configuration lives at the issuer's path + /.well-known/openid-configuration.
    return { issuer: issuerAt(url, path.slice(0, -OIDC_SUFFIX.length)), algorithms: ["oidc"] };
  }
  if (path === OAUTH_PREFIX || path.startsWith(`${OAUTH_PREFIX}/`)) {
    // RFC 8414 §3: the well-known segment is inserted between the host and the issuer's path.
    return { issuer: issuerAt(url, path.slice(OAUTH_PREFIX.length)), algorithms: ["oauth2"] };
  }
  if (path.includes("/.well-known/")) {
    throw invalid(
      `it must be an issuer, or end with ${OIDC_SUFFIX}, or start with ${OAUTH_PREFIX} (RFC 8414 §3); ` +
        "for a metadata document elsewhere, give the issuer URL instead",
    );
  }
  return { issuer: issuerAt(url, path), algorithms: ["oidc", "oauth2"] };
}

function issuerAt(url: URL, path: string): URL {
  return new URL(`${url.origin}${path === "" ? "/" : path}`);
}

function invalid(why: string): AppError {
  return new AppError("invalid_request", `the discovery URL is not usable: ${why}`);
}
