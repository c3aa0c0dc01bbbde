// Rule: RFC 9207 §2.4: when the provider advertises authorization_response_iss_parameter_supported,
// `iss` is required; when present at all it must equal the app's issuer by simple string
// comparison (no normalisation). This stops mix-up attacks: a response from one provider
// redeemed at another's token endpoint. Checked on error responses too (§2: "and error").
import { FlowFailure } from "../flow-failure.ts";
import type { CallbackCheck } from "./callback-flow.ts";

const mixUp = (summary: string) =>
  new FlowFailure("invalid_issuer", 400, summary, "Start connecting again. If it keeps happening, an administrator should check the app's issuer setting.");

export const checkIssuer: CallbackCheck = async (_ctx, flow) => {
  const iss = flow.query.get("iss");
  if (iss === undefined) {
    if (flow.app.issParameterSupported) throw mixUp("The provider's answer does not say who issued it (the iss parameter is missing).");
    return;
  }
  // An app entered by hand without an issuer has nothing to compare with (and cannot be
  // advertising the parameter, which only discovery sets).
  if (flow.app.issuer !== null && iss !== flow.app.issuer) {
    throw mixUp("The sign-in response came from a different provider than the one this app uses.");
  }
};
