// Rule: OIDC Core §3.1.3.7: an ID token that came back is accepted only with a valid signature
// (the provider's JWKS), `iss` = the app's issuer, `aud` holding the client id (`azp` when there
// are several), unexpired `exp`, a sane `iat`, and `nonce` equal to the one we sent (§3.1.2.1).
// No ID token (a plain OAuth 2.0 provider) passes: the account then comes from userinfo.
import { validateIdToken as validateIdTokenAt } from "../../oauth/grants.ts";
import { FlowFailure } from "../flow-failure.ts";
import { established, type CallbackCheck } from "./callback-flow.ts";

export const validateIdToken: CallbackCheck = async (ctx, flow) => {
  const tokens = established(flow.tokens, "tokens");
  const transaction = established(flow.transaction, "transaction");
  if (tokens.idToken === null) return;
  try {
    flow.idTokenClaims = await validateIdTokenAt(ctx, flow.app, tokens.idToken, { nonce: transaction.nonce });
  } catch (err) {
    throw idTokenRejected((err as Error).message);
  }
};

export function idTokenRejected(internal: string): FlowFailure {
  return new FlowFailure(
    "invalid_id_token",
    502,
    "The provider's ID token did not pass validation, so we cannot trust who you signed in as.",
    "Nothing was connected. Start connecting again; if it keeps failing, an administrator should check the app's issuer and client id.",
    internal,
  );
}
