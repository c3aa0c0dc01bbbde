// Token revocation (RFC 7009 §2.1) through oauth4webapi.
import * as oauth from "oauth4webapi";
import type { App } from "../apps/app-store.ts";
import { authorizationServerFor, clientAuthFor, insecureRequestsOption, oauthClientFor } from "./client-auth.ts";
import type { OAuthContext } from "./grants.ts";
import { providerFetch, unavailableFailure } from "./provider-fetch.ts";
import { ProviderFailure } from "./provider-failure.ts";
import { protocolFailure } from "./protocol-failure.ts";
import { failureInAnswer, readAnswerBody, withoutRequestSecrets } from "./token-answer.ts";

/** RFC 7009 §2.1: revoke a token; resolves when the provider accepted or the app has no revocation endpoint. */
export async function revokeToken(
  ctx: OAuthContext,
  app: App,
  token: string,
  hint: "refresh_token" | "access_token",
): Promise<void> {
  if (!app.revocationEndpoint) return;
  const as = authorizationServerFor(app);
  const client = oauthClientFor(ctx, app);
  const clientAuth = clientAuthFor(ctx, app);
  try {
    const response = await oauth.revocationRequest(as, client, clientAuth, token, {
      // RFC 7009 §2.1: token_type_hint helps the server find the token.
      additionalParameters: { token_type_hint: hint },
      [oauth.customFetch]: providerFetch(ctx),
      ...insecureRequestsOption(ctx),
    });
    // RFC 7009 §2.2.1: 503 (with Retry-After) means try again later.
    const unavailable = unavailableFailure(response, ctx.clock, "the revocation endpoint");
    if (unavailable) throw unavailable;
    // RFC 7009 §2.2: 200 means revoked, or the token was already invalid.
    if (response.status === 200) return await oauth.processRevocationResponse(response);
    const body = await readAnswerBody(response, "the revocation endpoint").catch(() => ({}));
    throw (
      failureInAnswer(body, response.status) ??
      new ProviderFailure("bad_answer", `the revocation endpoint answered HTTP ${response.status}`, { status: response.status })
    );
  } catch (err) {
    // An error text that quotes the token being revoked must not carry it on.
    throw withoutRequestSecrets(protocolFailure(err, "the revocation"), [token]);
  }
}
