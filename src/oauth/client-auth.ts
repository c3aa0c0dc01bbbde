// The oauth4webapi view of an app: its authorization server (from the app's stored fields, no
// discovery at request time), its client, how it authenticates at the token endpoint, and the
// options every request carries.
import * as oauth from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import { openClientSecret } from "../apps/app-service.ts";
import { AppError } from "../errors/problem.ts";
import type { OAuthContext } from "./grants.ts";
import { ID_TOKEN_ALGORITHMS } from "./id-token.ts";
import { expectedIssuer, hasFixedIssuer } from "./issuer.ts";

// oauth4webapi requires an issuer string; a plain OAuth 2 provider (GitHub, Slack) has none.
const NO_ISSUER = "urn:connected-apps:app-without-issuer";

// oauth4webapi's hook for issuers that are not one fixed string (openid-client uses it for the
// same multi-tenant case); it is exported but not in its type declarations.
const expectedIssuerHook = (oauth as unknown as { _expectedIssuer: symbol })._expectedIssuer;

export function authorizationServerFor(app: App): oauth.AuthorizationServer {
  const as: oauth.AuthorizationServer = {
    issuer: app.issuer ?? NO_ISSUER,
    // RFC 9207 §3: only meaningful when we know the issuer to compare with.
    authorization_response_iss_parameter_supported: hasFixedIssuer(app) && app.issParameterSupported,
    // oauth4webapi assumes RS256 for ID tokens unless told; we accept the asymmetric algorithms
    // validateIdToken verifies (ES256 and EdDSA providers exist).
    id_token_signing_alg_values_supported: ID_TOKEN_ALGORITHMS,
  };
  if (!hasFixedIssuer(app)) {
    // See issuer.ts: a templated issuer is filled from the token's tid; with none, any iss
    // passes here and the signature check against the app's JWKS (validateIdToken) decides.
    Object.assign(as, {
      [expectedIssuerHook]: (result: { claims: Record<string, unknown> }) => expectedIssuer(app, result.claims) ?? result.claims.iss,
    });
  }
  const endpoints = {
    authorization_endpoint: app.authorizationEndpoint,
    token_endpoint: app.tokenEndpoint,
    revocation_endpoint: app.revocationEndpoint,
    userinfo_endpoint: app.userinfoEndpoint,
    introspection_endpoint: app.introspectionEndpoint,
    jwks_uri: app.jwksUri,
  };
  for (const [name, url] of Object.entries(endpoints)) if (url) Object.assign(as, { [name]: url });
  return as;
}

export function requireClientId(app: App): string {
  if (!app.clientId) throw new AppError("invalid_request", `the app "${app.id}" has no client ID`);
  return app.clientId;
}

export function requireTokenEndpoint(app: App): string {
  if (!app.tokenEndpoint) throw new AppError("invalid_request", `the app "${app.id}" has no token endpoint`);
  return app.tokenEndpoint;
}

/**
 * The client as oauth4webapi sees it. clockSkew makes its JWT time checks (ID token exp/iat)
 * use ctx.clock rather than the machine's clock, so the rules hold under a fixed test clock.
 */
export function oauthClientFor(ctx: Pick<OAuthContext, "clock">, app: App): oauth.Client {
  return {
    client_id: requireClientId(app),
    [oauth.clockSkew]: Math.round((ctx.clock.now() - Date.now()) / 1000),
  };
}

/** RFC 6749 §2.3.1 / OIDC Core §9: the app's tokenEndpointAuthMethod, with its secret opened only here. */
export function clientAuthFor(ctx: Pick<OAuthContext, "keyring" | "config" | "log">, app: App): oauth.ClientAuth {
  if (app.tokenEndpointAuthMethod === "none") return oauth.None();
  const secret = openClientSecret(ctx, app);
  if (!secret) {
    throw new AppError("invalid_request", `the app "${app.id}" uses ${app.tokenEndpointAuthMethod} but has no client secret`);
  }
  return app.tokenEndpointAuthMethod === "client_secret_post" ? oauth.ClientSecretPost(secret) : oauth.ClientSecretBasic(secret);
}

/**
 * Plain http endpoints are refused by oauth4webapi (RFC 6749 §3.1 requires TLS) unless the
 * deployment allows private URLs, the setting that exists for local providers and tests.
 */
export function insecureRequestsOption(ctx: Pick<OAuthContext, "config">): { [oauth.allowInsecureRequests]?: true } {
  return ctx.config.allowPrivateUrls ? { [oauth.allowInsecureRequests]: true } : {};
}
