// The protocol steps the rest of the service calls, one file per step, built on oauth4webapi
// (requests and their validation) and jose (ID token signatures). Every token answer goes
// through the one reader in token-answer.ts; every failure is a ProviderFailure
// (provider-failure.ts) or, for an app that lacks what a step needs, an AppError.
import type { Context } from "../context.ts";

export type OAuthContext = Pick<Context, "fetch" | "keyring" | "clock" | "log" | "config"> & {
  /** How long one provider call may take (default PROVIDER_TIMEOUT_MS, 10 s). */
  providerTimeoutMs?: number;
};

export interface AuthorizationRequest {
  redirectUri: string;
  state: string;
  /** S256 challenge, or null when PKCE is off for this app/provider. */
  codeChallenge: string | null;
  /** OIDC nonce, or null when the scopes hold no `openid`. */
  nonce: string | null;
}

export { buildAuthorizationUrl, usesPkce } from "./authorize.ts";
export { exchangeCode } from "./code-grant.ts";
export { validateIdToken, assertSameIdentity } from "./id-token.ts";
export { fetchUserinfo } from "./userinfo.ts";
export { refreshGrant } from "./refresh-grant.ts";
export { clientCredentialsGrant } from "./client-credentials.ts";
export { revokeToken } from "./revoke.ts";
