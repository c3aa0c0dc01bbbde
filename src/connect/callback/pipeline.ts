// The callback /oauth/callback/{appId} as one ordered table of named checks, as node-oidc-provider
// lays out its endpoints. Each runs only if every check above it passed; each is its own module
// opening with the rule it enforces. Nothing is written before consumeState, and nothing but the
// consumed mark before persistConnection, so a failure never leaves a half-stored connection.
import type { Context } from "../../context.ts";
import { bindToBrowser } from "./bind-to-browser.ts";
import type { CallbackCheck, CallbackFlow } from "./callback-flow.ts";
import { checkIssuer } from "./check-issuer.ts";
import { checkProviderError } from "./check-provider-error.ts";
import { consumeState } from "./consume-state.ts";
import { exchangeCode } from "./exchange-code.ts";
import { loadAccount } from "./load-account.ts";
import { persistConnection } from "./persist-connection.ts";
import { validateIdToken } from "./validate-id-token.ts";

export const callbackChecks: ReadonlyArray<readonly [name: string, check: CallbackCheck]> = [
  ["bindToBrowser",      bindToBrowser],      // the binding cookie matches the state's transaction
  ["consumeState",       consumeState],       // exists, this app, unexpired, unused: consumed atomically
  ["checkIssuer",        checkIssuer],        // RFC 9207 §2.4
  ["checkProviderError", checkProviderError], // RFC 6749 §4.1.2.1
  ["exchangeCode",       exchangeCode],       // RFC 6749 §4.1.3, RFC 7636 §4.5
  ["validateIdToken",    validateIdToken],    // OIDC Core §3.1.3.7
  ["loadAccount",        loadAccount],        // sub, email, name
  ["persistConnection",  persistConnection],  // sealed, one transaction, event in the outbox
];

/** Runs the table in order; on the first failure, says which check stopped the flow and why. */
export async function runCallback(ctx: Context, flow: CallbackFlow): Promise<{ failedCheck: string; error: unknown } | null> {
  for (const [name, check] of callbackChecks) {
    try {
      await check(ctx, flow);
    } catch (error) {
      return { failedCheck: name, error };
    }
  }
  return null;
}
