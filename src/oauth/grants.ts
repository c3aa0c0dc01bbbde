// The protocol steps the rest of the service calls. INTERFACE STUB: the oauth work replaces the
// bodies (built on oauth4webapi + jose); keep these signatures, others code against them.
import type { App } from "../apps/app-store.ts";
import type { Context } from "../context.ts";
import type { ProviderAccount, TokenSet } from "./token-set.ts";

export type OAuthContext = Pick<Context, "fetch" | "keyring" | "clock" | "log" | "config">;

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  /** S256 challenge, or null when PKCE is off for this app/provider. */
  codeChallenge: string | null;
  /** OIDC nonce, or null when the scopes hold no `openid`. */
  nonce: string | null;
}

/** Whether this app's flow uses PKCE S256 (SPEC §6: "auto" is on when S256 or nothing is advertised). */
export function usesPkce(app: App): boolean {
  if (app.pkce === "off") return false;
  if (app.pkce === "S256") return true;
  return app.codeChallengeMethodsSupported === null || app.codeChallengeMethodsSupported.includes("S256");
}

/** The authorization URL: scopes joined by the app's scopeSeparator, extra params that never override ours. */
export function buildAuthorizationUrl(_app: App, _req: AuthorizationRequest): URL {
  throw new Error("not implemented yet");
}

/** RFC 6749 §4.1.3 (+ RFC 7636 §4.5): exchange the code; throws ProviderFailure. */
export async function exchangeCode(
  _ctx: OAuthContext,
  _app: App,
  _p: { code: string; codeVerifier: string | null; redirectUri: string; nonce: string | null; iss: string | null },
): Promise<TokenSet> {
  throw new Error("not implemented yet");
}

/** OIDC Core §3.1.3.7: signature (JWKS, cached, one refetch on unknown kid), iss, aud, azp, exp, iat, nonce. */
export async function validateIdToken(
  _ctx: OAuthContext,
  _app: App,
  _idToken: string,
  _p: { nonce: string | null },
): Promise<Record<string, unknown>> {
  throw new Error("not implemented yet");
}

/** OIDC Core §5.3: the account from userinfo, when there is no ID token. */
export async function fetchUserinfo(_ctx: OAuthContext, _app: App, _accessToken: string): Promise<ProviderAccount | null> {
  throw new Error("not implemented yet");
}

/** RFC 6749 §6: refresh; throws ProviderFailure (grant_invalid / unavailable / bad_answer). */
export async function refreshGrant(_ctx: OAuthContext, _app: App, _refreshToken: string): Promise<TokenSet> {
  throw new Error("not implemented yet");
}

/** RFC 6749 §4.4: client credentials for the app itself. */
export async function clientCredentialsGrant(_ctx: OAuthContext, _app: App): Promise<TokenSet> {
  throw new Error("not implemented yet");
}

/** RFC 7009 §2.1: revoke a token; resolves when the provider accepted or the app has no revocation endpoint. */
export async function revokeToken(
  _ctx: OAuthContext,
  _app: App,
  _token: string,
  _hint: "refresh_token" | "access_token",
): Promise<void> {
  throw new Error("not implemented yet");
}
