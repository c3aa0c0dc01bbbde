// The authorization code grant's token request (RFC 6749 §4.1.3) with the PKCE verifier
// (RFC 7636 §4.5), through oauth4webapi's request/validate pair and the one token reader.
import * as oauth from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import { authorizationServerFor, clientAuthFor, insecureRequestsOption, oauthClientFor, requireTokenEndpoint } from "./client-auth.ts";
import type { OAuthContext } from "./grants.ts";
import { hasFixedIssuer } from "./issuer.ts";
import { protocolFailure } from "./protocol-failure.ts";
import { tokenEndpointFetch, toTokenSet } from "./token-answer.ts";
import type { TokenSet } from "./token-set.ts";

export interface CodeExchange {
  code: string;
  codeVerifier: string | null;
  redirectUri: string;
  nonce: string | null;
  /** The callback's RFC 9207 `iss`, when it had one. */
  iss: string | null;
}

/** RFC 6749 §4.1.3 (+ RFC 7636 §4.5): exchange the code; throws ProviderFailure. */
export async function exchangeCode(ctx: OAuthContext, app: App, p: CodeExchange): Promise<TokenSet> {
  requireTokenEndpoint(app);
  const as = authorizationServerFor(app);
  const client = oauthClientFor(ctx, app);
  const clientAuth = clientAuthFor(ctx, app);
  const options = { [oauth.customFetch]: tokenEndpointFetch(ctx, app), ...insecureRequestsOption(ctx) };
  try {
    // oauth4webapi only exchanges a validated callback. The callback pipeline has already
    // checked state against its stored transaction (bound to the browser), hence
    // skipStateCheck here; `iss` is passed on so RFC 9207 §2.4 is enforced again. Without one
    // fixed issuer (plain OAuth 2 provider, multi-tenant) there is nothing to compare it with.
    const callback = new URLSearchParams({ code: p.code });
    if (p.iss !== null && hasFixedIssuer(app)) callback.set("iss", p.iss);
    const validated = oauth.validateAuthResponse(as, client, callback, oauth.skipStateCheck);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      validated,
      p.redirectUri,
      // RFC 7636 §4.5: the verifier whose challenge went out; nopkce only when none did.
      p.codeVerifier ?? oauth.nopkce,
      options,
    );
    // OIDC Core §3.1.3.7 step 11: the ID token's nonce must be the one we sent.
    const answer = await oauth.processAuthorizationCodeResponse(as, client, response, p.nonce === null ? {} : { expectedNonce: p.nonce });
    return toTokenSet(answer);
  } catch (err) {
    throw protocolFailure(err, "the code exchange");
  }
}
