// Refreshing an access token (RFC 6749 §6) through oauth4webapi and the one token reader.
import * as oauth from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import { AppError } from "../errors/problem.ts";
import { authorizationServerFor, clientAuthFor, insecureRequestsOption, oauthClientFor, requireTokenEndpoint } from "./client-auth.ts";
import type { OAuthContext } from "./grants.ts";
import { validateIdToken } from "./id-token.ts";
import { ProviderFailure } from "./provider-failure.ts";
import { protocolFailure } from "./protocol-failure.ts";
import { tokenEndpointFetch, toTokenSet } from "./token-answer.ts";
import type { TokenSet } from "./token-set.ts";

/**
 * RFC 6749 §6: refresh; throws ProviderFailure (grant_invalid / unavailable / bad_answer /
 * refused). refreshToken is null when the answer has none (the caller keeps the old one).
 * An ID token in the answer is verified (signature included); comparing its identity with the
 * original one (OIDC Core §12.2) is the caller's, with assertSameIdentity.
 */
export async function refreshGrant(ctx: OAuthContext, app: App, refreshToken: string): Promise<TokenSet> {
  requireTokenEndpoint(app);
  const as = authorizationServerFor(app);
  const client = oauthClientFor(ctx, app);
  const clientAuth = clientAuthFor(ctx, app);
  let tokens: TokenSet;
  try {
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, {
      [oauth.customFetch]: tokenEndpointFetch(ctx, app),
      ...insecureRequestsOption(ctx),
    });
    tokens = toTokenSet(await oauth.processRefreshTokenResponse(as, client, response));
  } catch (err) {
    throw protocolFailure(err, "the refresh");
  }
  // OIDC Core §12.2: a refreshed ID token is validated as in §3.1.3.7 (without a nonce), and
  // oauth4webapi has checked its claims above. Its signature is checked when the app has a
  // JWKS URI; without one, §3.1.3.7 step 6 lets the TLS connection to the token endpoint stand
  // in for it, rather than failing every refresh of such an app.
  if (tokens.idToken !== null && app.jwksUri !== null) {
    try {
      await validateIdToken(ctx, app, tokens.idToken, { nonce: null });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const kind = err.code === "provider_unavailable" ? "unavailable" : "bad_answer";
      throw new ProviderFailure(kind, `the refreshed ID token was refused: ${err.detail}`, { cause: err });
    }
  }
  return tokens;
}
