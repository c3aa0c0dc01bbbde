// Rule: the connection is stored whole or not at all: tokens sealed (row-bound) and its event,
// in one database transaction (saveConnection). Reconnecting replaces the existing tokens.
import { saveConnection } from "../../connections/connection-service.ts";
import { FlowFailure } from "../flow-failure.ts";
import { established, type CallbackCheck } from "./callback-flow.ts";

export const persistConnection: CallbackCheck = async (ctx, flow) => {
  const transaction = established(flow.transaction, "transaction");
  try {
    const saved = await saveConnection(ctx, {
      appId: flow.app.id,
      userId: transaction.userId,
      tokens: established(flow.tokens, "tokens"),
      account: established(flow.account, "account"),
      requestedScopes: transaction.scopes,
    });
    flow.connection = saved.connection;
  } catch (err) {
    throw new FlowFailure("server_error", 503, "We could not save the connection.", "Nothing was stored. Start connecting again in a moment.", (err as Error).message);
  }
};
