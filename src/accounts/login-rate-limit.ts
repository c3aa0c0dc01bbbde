// Sign-in attempts are limited per (email, client address): after MAX_FAILURES wrong passwords in
// WINDOW_MS that pair is refused until the window has passed, so a password cannot be guessed
// online, while the same account can still sign in from elsewhere. Failures are rows in the
// database, so every instance counts the same ones and a restart forgets none. The pair is
// stored hashed: the table holds no email or address.
import { hash } from "node:crypto";
import type { Context } from "../context.ts";

export const MAX_FAILURES = 5;
export const WINDOW_MS = 15 * 60 * 1000;

export class LoginRateLimit {
  constructor(private readonly ctx: Pick<Context, "db" | "clock">) {}

  private key(email: string, ip: string): string {
    return hash("sha256", `${email.trim().toLowerCase()}\u0000${ip}`, "base64url");
  }

  /** Milliseconds until this pair may try again, or 0 when it may try now. */
  async blockedFor(email: string, ip: string): Promise<number> {
    const now = this.ctx.clock.now();
    const recent = await this.ctx.db
      .selectFrom("login_failures")
      .select("at")
      .where("key_hash", "=", this.key(email, ip))
      .where("at", ">", now - WINDOW_MS)
      .orderBy("at", "desc")
      .limit(MAX_FAILURES)
      .execute();
    if (recent.length < MAX_FAILURES) return 0;
    // The oldest of the last MAX_FAILURES failures leaving the window frees one attempt.
    return Number(recent[MAX_FAILURES - 1]!.at) + WINDOW_MS - now;
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const now = this.ctx.clock.now();
    await this.ctx.db.insertInto("login_failures").values({ key_hash: this.key(email, ip), at: now }).execute();
    // Failures older than the window count for nothing: the table holds at most a window's worth.
    await this.ctx.db.deleteFrom("login_failures").where("at", "<=", now - WINDOW_MS).execute();
  }

  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.ctx.db.deleteFrom("login_failures").where("key_hash", "=", this.key(email, ip)).execute();
  }
}
