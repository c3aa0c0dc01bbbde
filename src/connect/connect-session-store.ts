// ConnectSessionStore: the connect_sessions table. Rows hold only the SHA-256 of the link's token.
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";

export interface ConnectSessionRecord {
  appId: string;
  userId: string;
  returnTo: string | null;
  expiresAt: number;
  usedAt: number | null;
}

export class ConnectSessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(p: { tokenHash: string; appId: string; userId: string; returnTo: string | null; now: number; expiresAt: number }): Promise<void> {
    await this.db
      .insertInto("connect_sessions")
      .values({ token_hash: p.tokenHash, app_id: p.appId, user_id: p.userId, return_to: p.returnTo, created_at: p.now, expires_at: p.expiresAt, used_at: null })
      .execute();
  }

  async get(tokenHash: string): Promise<ConnectSessionRecord | undefined> {
    const row = await this.db.selectFrom("connect_sessions").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    return (
      row && {
        appId: row.app_id,
        userId: row.user_id,
        returnTo: row.return_to,
        expiresAt: Number(row.expires_at),
        usedAt: row.used_at === null ? null : Number(row.used_at),
      }
    );
  }

  /** Marks the session used if it is still unused and unexpired; one conditional UPDATE, so two opens spend it once. */
  async spend(tokenHash: string, appId: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable("connect_sessions")
      .set({ used_at: now })
      .where("token_hash", "=", tokenHash)
      .where("app_id", "=", appId)
      .where("used_at", "is", null)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Drops sessions that expired before `before` (swept as new ones are minted). */
  async deleteExpired(before: number): Promise<void> {
    await this.db.deleteFrom("connect_sessions").where("expires_at", "<", before).execute();
  }
}
