// Rule: the callback is completed only in the browser that started the flow: the binding
// cookie's hash must equal the one stored with the transaction `state` names.
// RFC 9700 §4.7.1 (CSRF on the redirect URI), RFC 6749 §10.12: state bound to the user agent.
// A mismatch leaves the transaction unconsumed, so an injected response cannot burn it.
import { hashesEqual } from "../../crypto/api-key-hash.ts";
import { FlowFailure } from "../flow-failure.ts";
import { hashOpaqueToken } from "../opaque-token.ts";
import { TransactionStore } from "../transaction-store.ts";
import { invalidState } from "./consume-state.ts";
import type { CallbackCheck } from "./callback-flow.ts";

export const bindToBrowser: CallbackCheck = async (ctx, flow) => {
  const state = flow.query.get("state");
  if (!state) throw invalidState("The provider's answer has no state parameter.");
  const transaction = await new TransactionStore(ctx.db, ctx.keyring).get(hashOpaqueToken(state));
  if (!transaction) throw invalidState("This sign-in response does not belong to any connect attempt we started.");
  if (flow.browserHash === null || !hashesEqual(flow.browserHash, transaction.browserHash)) {
    throw new FlowFailure(
      "browser_mismatch",
      400,
      "This sign-in response was opened in a different browser from the one that started connecting.",
      "Start connecting again, and finish in the same browser (links copied to another browser or device do not work).",
    );
  }
  flow.transaction = transaction;
};
