// TransactionStore: connect_transactions, one row per authorization request in flight.
//   state_hash    SHA-256 of `state` (the key); the state itself is never stored
//   app_id        the app the flow is for; a callback for another app cannot use it
//   user_id       whose connection the flow makes
//   browser_hash  SHA-256 of the browser-binding cookie of the browser that started it
//   code_verifier PKCE verifier, sealed and bound to (connect_transactions, state_hash, code_verifier)
//   nonce         OIDC nonce (only with `openid`), compared with the ID token's
//   return_to     where the user lands afterwards (validated when the flow started)
//   scopes        JSON string[]: the scopes requested (granted scopes when the answer has none)
//   expires_at    10 minutes after created_at
//   consumed_at   set once, by the one callback that wins the conditional UPDATE
import type { Kysely } from "kysely";
import { openOptional, sealOptional, type RowBinding } from "../crypto/seal.ts";
import type { Keyring } from "../crypto/keyring.ts";
import type { Database } from "../store/schema.ts";

export interface ConnectTransaction {
  stateHash: string;
  appId: string;
  userId: string;
  browserHash: string;
  codeVerifier: string | null;
  nonce: string | null;
  returnTo: string | null;
  scopes: string[];
  expiresAt: number;
  consumedAt: number | null;
}

const verifierBinding = (stateHash: string): RowBinding => ({ table: "connect_transactions", id: stateHash, field: "code_verifier" });

export class TransactionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
  ) {}

  async insert(t: Omit<ConnectTransaction, "consumedAt">, now: number): Promise<void> {
    await this.db
      .insertInto("connect_transactions")
      .values({
        state_hash: t.stateHash,
        app_id: t.appId,
        user_id: t.userId,
        browser_hash: t.browserHash,
        code_verifier: sealOptional(this.keyring, t.codeVerifier, verifierBinding(t.stateHash)),
        nonce: t.nonce,
        return_to: t.returnTo,
        scopes: JSON.stringify(t.scopes),
        created_at: now,
        expires_at: t.expiresAt,
        consumed_at: null,
      })
      .execute();
  }

  async get(stateHash: string): Promise<ConnectTransaction | undefined> {
    const row = await this.db.selectFrom("connect_transactions").selectAll().where("state_hash", "=", stateHash).executeTakeFirst();
    if (!row) return undefined;
    return {
      stateHash: row.state_hash,
      appId: row.app_id,
      userId: row.user_id,
      browserHash: row.browser_hash,
      codeVerifier: openOptional(this.keyring, row.code_verifier, verifierBinding(row.state_hash)),
      nonce: row.nonce,
      returnTo: row.return_to,
      scopes: JSON.parse(row.scopes) as string[],
      expiresAt: Number(row.expires_at),
      consumedAt: row.consumed_at === null ? null : Number(row.consumed_at),
    };
  }

  /**
   * Marks the transaction consumed if it is for this app, unexpired and unused. One conditional
   * UPDATE: of two concurrent callbacks with one state, exactly one sees `true`.
   */
  async consume(stateHash: string, appId: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable("connect_transactions")
      .set({ consumed_at: now })
      .where("state_hash", "=", stateHash)
      .where("app_id", "=", appId)
      .where("consumed_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Drops transactions that expired before `before` (swept as new flows start, so the table stays small). */
  async deleteExpired(before: number): Promise<void> {
    await this.db.deleteFrom("connect_transactions").where("expires_at", "<", before).execute();
  }
}
