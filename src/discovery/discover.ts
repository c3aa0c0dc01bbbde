// Provider discovery (OIDC Discovery 1.0 §4, RFC 8414 §3) on oauth4webapi's request/validate
// pair, with the checks it leaves to us: a deadline and a size limit, and a detail that names
// exactly what was wrong with the answer, since the person reading it is registering an app.
import * as oauth from "oauth4webapi";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { BlockedDestinationError, readBodyWithLimit, ResponseTooLargeError } from "../net/outbound-fetch.ts";
import { parseDiscoveryUrl, type DiscoveryAlgorithm } from "./discovery-url.ts";
import type { ProviderMetadata } from "./provider-metadata.ts";

/** The whole discovery (both well-known documents when given an issuer) must finish in this time. */
export const DISCOVERY_TIMEOUT_MS = 10_000;
/** Real metadata documents are a few KiB; this leaves room and no more. */
export const DISCOVERY_MAX_BYTES = 512 * 1024;

export interface DiscoverOptions {
  timeoutMs?: number;
}

export async function discoverProvider(
  ctx: Pick<Context, "fetch" | "config">,
  url: string,
  opts: DiscoverOptions = {},
): Promise<ProviderMetadata> {
  const target = parseDiscoveryUrl(url, ctx.config.allowPrivateUrls);
  const timeoutMs = opts.timeoutMs ?? DISCOVERY_TIMEOUT_MS;
  // One deadline for the whole discovery, bodies included (the signal reaches ctx.fetch, which
  // then drops its own default). A plain timer, so our deadline is told apart from other aborts.
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DOMException("discovery deadline", "TimeoutError")), timeoutMs);
  let documentUrl = target.issuer;
  const notFound: string[] = [];
  try {
    for (const [i, algorithm] of target.algorithms.entries()) {
      documentUrl = wellKnownUrl(target.issuer, algorithm);
      const response = await requestDocument(ctx, target.issuer, algorithm, deadline.signal);
      // An issuer alone: no OpenID configuration (404) means try the RFC 8414 document next.
      if (response.status === 404 && i < target.algorithms.length - 1) {
        notFound.push(documentUrl.href);
        continue;
      }
      if (response.status === 404 && notFound.length > 0) {
        throw new AppError("provider_error", `neither ${notFound.join(", ")} nor ${documentUrl.href} exists (HTTP 404): is this the provider's issuer URL?`);
      }
      const document = await readDocument(response, documentUrl, target.issuer);
      return toProviderMetadata(document, documentUrl, algorithm);
    }
    throw new Error("unreachable: the last algorithm always returns or throws");
  } catch (err) {
    throw asAppError(err, documentUrl, deadline.signal.aborted ? timeoutMs : null);
  } finally {
    clearTimeout(timer);
  }
}

function wellKnownUrl(issuer: URL, algorithm: DiscoveryAlgorithm): URL {
  const path = issuer.pathname === "/" ? "" : issuer.pathname.replace(/\/$/, "");
  return algorithm === "oidc"
    ? new URL(`${issuer.origin}${path}/.well-known/openid-configuration`)
    : new URL(`${issuer.origin}/.well-known/oauth-authorization-server${path}`);
}

/** GET the well-known document through ctx.fetch (the SSRF guard), its body read within the size limit. */
async function requestDocument(ctx: Pick<Context, "fetch" | "config">, issuer: URL, algorithm: DiscoveryAlgorithm, signal: AbortSignal): Promise<Response> {
  return oauth.discoveryRequest(issuer, {
    algorithm,
    signal,
    [oauth.customFetch]: async (input, init) => {
      const response = await ctx.fetch(input, init as unknown as RequestInit);
      const body = await readBodyWithLimit(response, DISCOVERY_MAX_BYTES);
      const nullBody = [204, 205, 304].includes(response.status);
      return new Response(nullBody ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
    // The loud opt-out: plain http only for local providers, which the same setting allows.
    ...(issuer.protocol === "http:" && ctx.config.allowPrivateUrls ? { [oauth.allowInsecureRequests]: true } : {}),
  });
}

/** The checks in order, each failing with a detail that says what the document got wrong. */
async function readDocument(response: Response, documentUrl: URL, issuer: URL): Promise<Record<string, unknown>> {
  if (response.status !== 200) {
    const location = response.headers.get("location");
    const why =
      response.status === 404
        ? "there is no metadata document there"
        : response.status >= 300 && response.status < 400
          ? `a redirect${location ? ` to ${shown(location)}` : ""}; give the URL it redirects to instead`
          : "expected 200 with the metadata document";
    throw new AppError("provider_error", `${documentUrl.href} answered HTTP ${response.status} (${why})`);
  }
  const text = await response.clone().text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const type = response.headers.get("content-type") ?? "no content type";
    throw new AppError("provider_error", `${documentUrl.href} did not answer JSON (it sent ${type}); expected the metadata document`);
  }
  if (Array.isArray(json)) throw new AppError("provider_error", `${documentUrl.href} answered a JSON array; a metadata document is a JSON object`);
  if (json === null || typeof json !== "object") {
    throw new AppError("provider_error", `${documentUrl.href} answered a JSON ${json === null ? "null" : typeof json}; a metadata document is a JSON object`);
  }
  const claimed = (json as Record<string, unknown>).issuer;
  if (typeof claimed !== "string" || claimed === "") {
    throw new AppError("provider_error", `the metadata document at ${documentUrl.href} has no "issuer" (a required member)`);
  }
  if (!URL.canParse(claimed)) {
    throw new AppError("provider_error", `the metadata document at ${documentUrl.href} has an "issuer" that is not a URL`);
  }
  // A trailing slash typed after an issuer's path leads to the same well-known URL (both forms
  // drop it), so the document's own spelling is the issuer that was asked for.
  const sameLocation = new URL(claimed).href.replace(/\/$/, "") === issuer.href.replace(/\/$/, "");
  const expected = sameLocation ? new URL(claimed) : issuer;
  try {
    // OIDC Discovery 1.0 §4.3, RFC 8414 §3.3: the issuer in the document must be the one the
    // document was fetched for, or an attacker's document could speak for another provider.
    return (await oauth.processDiscoveryResponse(expected, response)) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof oauth.OperationProcessingError && err.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
      throw new AppError(
        "provider_error",
        `issuer mismatch: the document at ${documentUrl.href} says its issuer is "${shown(claimed)}", but it was fetched for the issuer "${issuer.href}"; they must be identical`,
        { cause: err },
      );
    }
    throw err;
  }
}

function toProviderMetadata(doc: Record<string, unknown>, documentUrl: URL, algorithm: DiscoveryAlgorithm): ProviderMetadata {
  const grantTypes = stringList(doc, "grant_types_supported", documentUrl);
  // RFC 8414 §2: authorization_endpoint is required unless no supported grant uses it;
  // OIDC Discovery 1.0 §3 requires it and jwks_uri outright. Every flow this service runs
  // ends at the token endpoint, so that one is required here in any case.
  const usesAuthorization = grantTypes === null || grantTypes.some((g) => g === "authorization_code" || g === "implicit");
  return {
    issuer: doc.issuer as string,
    authorizationEndpoint: endpoint(doc, "authorization_endpoint", documentUrl, algorithm === "oidc" || usesAuthorization),
    tokenEndpoint: endpoint(doc, "token_endpoint", documentUrl, true),
    revocationEndpoint: endpoint(doc, "revocation_endpoint", documentUrl, false),
    userinfoEndpoint: endpoint(doc, "userinfo_endpoint", documentUrl, false),
    introspectionEndpoint: endpoint(doc, "introspection_endpoint", documentUrl, false),
    jwksUri: endpoint(doc, "jwks_uri", documentUrl, algorithm === "oidc"),
    scopesSupported: stringList(doc, "scopes_supported", documentUrl),
    codeChallengeMethodsSupported: stringList(doc, "code_challenge_methods_supported", documentUrl),
    tokenEndpointAuthMethodsSupported: stringList(doc, "token_endpoint_auth_methods_supported", documentUrl),
    authorizationResponseIssParameterSupported: doc.authorization_response_iss_parameter_supported === true,
  };
}

function endpoint(doc: Record<string, unknown>, member: string, documentUrl: URL, required: boolean): string | null {
  const value = doc[member];
  if (value === undefined || value === null) {
    if (required) throw new AppError("provider_error", `the metadata document at ${documentUrl.href} has no "${member}" (a required member)`);
    return null;
  }
  const url = typeof value === "string" && URL.canParse(value) ? new URL(value) : null;
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new AppError("provider_error", `the metadata document at ${documentUrl.href} has a "${member}" that is not an absolute http(s) URL`);
  }
  return value as string;
}

function stringList(doc: Record<string, unknown>, member: string, documentUrl: URL): string[] | null {
  const value = doc[member];
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new AppError("provider_error", `the metadata document at ${documentUrl.href} has a "${member}" that is not a list of strings`);
  }
  return value as string[];
}

/** Every failure as the problem SPEC §4 names: refused 400, not valid metadata 502, no answer 503. */
function asAppError(err: unknown, documentUrl: URL, timedOutAfterMs: number | null): AppError {
  if (err instanceof AppError) return err;
  const host = documentUrl.host;
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    // The SSRF guard refused the destination before connecting: the URL is the problem, not the provider.
    if (e instanceof BlockedDestinationError) {
      return new AppError("invalid_request", `the discovery URL is not allowed: ${e.message}`, { cause: err });
    }
  }
  if (timedOutAfterMs !== null || isTimeout(err)) {
    const within = timedOutAfterMs === null ? "in time" : `within ${timedOutAfterMs / 1000} s`;
    return new AppError("provider_unavailable", `${host} did not answer ${within}`, { cause: err });
  }
  if (err instanceof ResponseTooLargeError) {
    return new AppError("provider_error", `the metadata document at ${documentUrl.href} is larger than ${DISCOVERY_MAX_BYTES / 1024} KiB`, { cause: err });
  }
  if (err instanceof oauth.OperationProcessingError) {
    return new AppError("provider_error", `the metadata document at ${documentUrl.href} is not valid: ${err.message.replace(/"response" /g, "")}`, { cause: err });
  }
  const code = (err as { cause?: { code?: string } } | undefined)?.cause?.code;
  return new AppError("provider_unavailable", `could not reach ${host}${code ? ` (${describeNetworkError(code)})` : ""}`, { cause: err });
}

function isTimeout(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === "TimeoutError" || name === "AbortError";
}

function describeNetworkError(code: string): string {
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ENOTFOUND: "no such host",
    EAI_AGAIN: "the host name could not be resolved",
    ECONNRESET: "the connection was reset",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
    UND_ERR_SOCKET: "the connection was closed",
  };
  if (known[code]) return known[code];
  if (/CERT|SSL|TLS/.test(code)) return `TLS certificate problem: ${code}`;
  return code;
}

/** A value from the provider's answer, cut short so a hostile document cannot flood the detail. */
function shown(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}…` : value;
}
