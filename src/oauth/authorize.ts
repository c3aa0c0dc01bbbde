// The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): the URL the
// user's browser is sent to. The protocol parameters are ours; the app's extra parameters are
// added around them and can never replace one.
import type { App } from "../apps/app-store.ts";
import { AppError } from "../errors/problem.ts";
import type { AuthorizationRequest } from "./grants.ts";

/** Parameters the flow's security rests on: an app's extraParams never set these. */
const PROTOCOL_PARAMS = new Set([
  "response_type",
  "client_id",
  "redirect_uri",
  "scope",
  "state",
  "code_challenge",
  "code_challenge_method",
  "nonce",
]);

/** Whether this app's flow uses PKCE S256 (SPEC §6: "auto" is on when S256 or nothing is advertised). */
export function usesPkce(app: App): boolean {
  if (app.pkce === "off") return false;
  if (app.pkce === "S256") return true;
  return app.codeChallengeMethodsSupported === null || app.codeChallengeMethodsSupported.includes("S256");
}

/** The authorization URL: scopes joined by the app's scopeSeparator, extra params that never override ours. */
export function buildAuthorizationUrl(app: App, req: AuthorizationRequest): URL {
  if (!app.authorizationEndpoint) throw new AppError("invalid_request", `the app "${app.id}" has no authorization endpoint`);
  if (!app.clientId) throw new AppError("invalid_request", `the app "${app.id}" has no client ID`);
  let url: URL;
  try {
    url = new URL(app.authorizationEndpoint);
  } catch {
    throw new AppError("invalid_request", `the app "${app.id}" has an authorization endpoint that is not a URL`);
  }
  const params = url.searchParams;
  // An endpoint URL may carry its own query (e.g. a tenant); protocol parameters in it would
  // be sent twice, so they go, and ours are set below.
  for (const name of PROTOCOL_PARAMS) params.delete(name);
  for (const [name, value] of Object.entries(app.extraParams)) {
    if (!PROTOCOL_PARAMS.has(name)) params.set(name, value);
  }
  params.set("response_type", "code");
  params.set("client_id", app.clientId);
  params.set("redirect_uri", req.redirectUri);
  // RFC 6749 §3.3 joins scopes with a space; the app's scopeSeparator is the quirk field for
  // providers that want another (Slack: ","). No scope member when there are none.
  if (app.scopes.length > 0) params.set("scope", app.scopes.join(app.scopeSeparator));
  params.set("state", req.state);
  if (req.codeChallenge !== null) {
    // RFC 7636 §4.3: S256 is the only method we send; "plain" gives no protection.
    params.set("code_challenge", req.codeChallenge);
    params.set("code_challenge_method", "S256");
  }
  // OIDC Core §3.1.2.1: nonce binds the ID token to this request.
  if (req.nonce !== null) params.set("nonce", req.nonce);
  return url;
}
