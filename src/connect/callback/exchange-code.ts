// Rule: RFC 6749 §4.1.3 + RFC 7636 §4.5: the code is redeemed once, at the app's token endpoint,
// with its tokenEndpointAuthMethod, the redirect URI of the request and the stored PKCE verifier.
// Runs only after the state was consumed, so a code is never exchanged twice by us.
import { redirectUriFor } from "../../apps/app-service.ts";
import { AppError } from "../../errors/problem.ts";
import { exchangeCode as exchangeAuthorizationCode } from "../../oauth/grants.ts";
import { ProviderFailure } from "../../oauth/provider-failure.ts";
import { FlowFailure } from "../flow-failure.ts";
import { established, type CallbackCheck } from "./callback-flow.ts";
import { adviceFor } from "./check-provider-error.ts";
import { idTokenRejected } from "./validate-id-token.ts";

export const exchangeCode: CallbackCheck = async (ctx, flow) => {
  const transaction = established(flow.consumed && flow.transaction, "consumed transaction");
  const code = flow.query.get("code");
  if (!code) {
    throw new FlowFailure("invalid_request", 400, "The provider's answer has neither a code nor an error.", "Start connecting again from the application.");
  }
  const redirectUri = redirectUriFor(ctx.config.publicUrl, flow.app.id);
  try {
    flow.tokens = await exchangeAuthorizationCode(ctx, flow.app, {
      code,
      codeVerifier: transaction.codeVerifier,
      redirectUri,
      nonce: transaction.nonce,
      iss: flow.query.get("iss") ?? null,
    });
  } catch (err) {
    if (err instanceof AppError) {
      throw new FlowFailure("provider_error", 502, "We could not ask the provider for your tokens.", adviceFor("", err.detail, redirectUri), err.detail);
    }
    if (!(err instanceof ProviderFailure)) throw err;
    if (isIdTokenClaimFailure(err)) throw idTokenRejected(err.message);
    if (err.kind === "unavailable") {
      throw new FlowFailure("provider_unavailable", 503, "The provider did not answer when we asked for your tokens.", "Nothing was connected. Try again in a few minutes.", err.message);
    }
    const said = err.oauthError ? `The provider refused to issue tokens: ${err.oauthError}.` : "The provider's answer to our token request was not usable.";
    throw new FlowFailure("provider_error", 502, said, adviceFor(err.oauthError ?? "", err.message, redirectUri), err.message);
  }
};

/** oauth4webapi checks the ID token's claims during the exchange; report those as validateIdToken would. */
function isIdTokenClaimFailure(err: ProviderFailure): boolean {
  return err.kind === "bad_answer" && err.concerns === "id_token";
}
