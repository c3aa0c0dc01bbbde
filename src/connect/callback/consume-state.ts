// Rule: `state` names a transaction for this app, unexpired (10 minutes) and unused; it is used
// up exactly once, by a conditional UPDATE, so of two concurrent callbacks with one state only
// one goes on to exchange the code. RFC 6749 §10.12, RFC 9700 §4.7.1 (one-time use of state).
import { FlowFailure } from "../flow-failure.ts";
import { TransactionStore } from "../transaction-store.ts";
import { established, type CallbackCheck } from "./callback-flow.ts";

export function invalidState(summary: string): FlowFailure {
  return new FlowFailure("invalid_state", 400, summary, "Start connecting again from the application.");
}

export const consumeState: CallbackCheck = async (ctx, flow) => {
  const transaction = established(flow.transaction, "transaction");
  const now = ctx.clock.now();
  if (transaction.appId !== flow.app.id) throw invalidState("This sign-in response is for another app.");
  if (transaction.consumedAt !== null) throw invalidState("This sign-in response was already used.");
  if (transaction.expiresAt <= now) throw invalidState("This connect attempt expired (after 10 minutes).");
  const won = await new TransactionStore(ctx.db, ctx.keyring).consume(transaction.stateHash, flow.app.id, now);
  if (!won) throw invalidState("This sign-in response was already used.");
  flow.consumed = true;
};
