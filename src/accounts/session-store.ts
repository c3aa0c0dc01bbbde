// SessionStore: signed-in browser sessions (web_sessions). Only the SHA-256 of the cookie value
// is stored, so a database dump cannot be replayed as a cookie.
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";

export interface WebSession {
  idHash: string;
  userId: string;
  csrfToken: string;
  expiresAt: number;
}

export class SessionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(session: WebSession, createdAt: number): Promise<void> {
    await this.db
      .insertInto("web_sessions")
      .values({ id_hash: session.idHash, user_id: session.userId, csrf_token: session.csrfToken, created_at: createdAt, expires_at: session.expiresAt })
      .execute();
  }

  /** The session with this hash, if it has not expired at `now`. */
  async live(idHash: string, now: number): Promise<WebSession | undefined> {
    const row = await this.db
      .selectFrom("web_sessions")
      .selectAll()
      .where("id_hash", "=", idHash)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return row && { idHash: row.id_hash, userId: row.user_id, csrfToken: row.csrf_token, expiresAt: Number(row.expires_at) };
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom("web_sessions").where("id_hash", "=", idHash).execute();
  }

  /** Expired rows are dead weight; removed whenever someone signs in. */
  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom("web_sessions").where("expires_at", "<=", now).execute();
  }

  async countForUser(userId: string): Promise<number> {
    const row = await this.db
      .selectFrom("web_sessions")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
