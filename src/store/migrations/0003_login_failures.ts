import type { Kysely } from "kysely";

// Failed sign-ins, shared by every instance (accounts/login-rate-limit.ts): a limit kept in
// one process's memory lets N instances take N times the guesses, and forgets at restart.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("login_failures")
    .addColumn("key_hash", "text", (c) => c.notNull())
    .addColumn("at", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("login_failures_key_at").on("login_failures").columns(["key_hash", "at"]).execute();
  await db.schema.createIndex("login_failures_at").on("login_failures").column("at").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("login_failures").execute();
}
