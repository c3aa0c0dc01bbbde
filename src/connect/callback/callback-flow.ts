// What the callback checks pass along. Each check reads what earlier ones established and adds
// its own result; a check that needs an earlier result asks for it with `established`, so a
// reordered table fails loudly instead of running a step on unchecked input.
import type { App } from "../../apps/app-store.ts";
import type { Connection } from "../../connections/connection-service.ts";
import type { Context } from "../../context.ts";
import type { ProviderAccount, TokenSet } from "../../oauth/token-set.ts";
import type { ConnectTransaction } from "../transaction-store.ts";
import type { CallbackQuery } from "./callback-query.ts";

export interface CallbackFlow {
  readonly app: App;
  readonly query: CallbackQuery;
  /** SHA-256 of this browser's binding cookie, null without one. */
  readonly browserHash: string | null;
  /** bindToBrowser: the transaction `state` names, started in this browser. */
  transaction?: ConnectTransaction;
  /** consumeState: this callback won the transaction (no other callback will use it). */
  consumed?: true;
  /** exchangeCode */
  tokens?: TokenSet;
  /** validateIdToken: the validated claims, when an ID token came back. */
  idTokenClaims?: Record<string, unknown>;
  /** loadAccount */
  account?: ProviderAccount;
  /** persistConnection */
  connection?: Connection;
}

/** One named check of the callback: throws a FlowFailure to stop the flow. */
export type CallbackCheck = (ctx: Context, flow: CallbackFlow) => Promise<void>;

export function established<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`callback pipeline out of order: ${what} not established`);
  return value;
}
