import type { Kysely } from "kysely";
import { isPostgres } from "../dialect.ts";

// Times are epoch milliseconds in bigint columns on both databases (see schema.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  const pg = isPostgres(db);

  await db.schema
    .createTable("meta")
    .addColumn("key", "text", (c) => c.primaryKey())
    .addColumn("value", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("api_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull().unique())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("last_used_at", "bigint")
    .execute();

  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull().unique())
    .addColumn("password_hash", "text", (c) => c.notNull())
    .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("web_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("csrf_token", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("apps")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("template", "text")
    .addColumn("discovery_url", "text")
    .addColumn("issuer", "text")
    .addColumn("authorization_endpoint", "text")
    .addColumn("token_endpoint", "text")
    .addColumn("revocation_endpoint", "text")
    .addColumn("userinfo_endpoint", "text")
    .addColumn("introspection_endpoint", "text")
    .addColumn("jwks_uri", "text")
    .addColumn("client_id", "text")
    .addColumn("client_secret", "text")
    .addColumn("scopes", "text", (c) => c.notNull().defaultTo("[]"))
    .addColumn("extra_params", "text", (c) => c.notNull().defaultTo("{}"))
    .addColumn("token_endpoint_auth_method", "text", (c) => c.notNull())
    .addColumn("pkce", "text", (c) => c.notNull())
    .addColumn("api_base_url", "text")
    .addColumn("scope_separator", "text", (c) => c.notNull().defaultTo(" "))
    .addColumn("token_response_path", "text")
    .addColumn("default_expires_in", "integer")
    .addColumn("token_request_format", "text", (c) => c.notNull().defaultTo("form"))
    .addColumn("code_challenge_methods", "text")
    .addColumn("iss_parameter_supported", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("token_endpoint_auth_methods", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("app_tokens")
    .addColumn("app_id", "text", (c) => c.primaryKey().references("apps.id").onDelete("cascade"))
    .addColumn("access_token", "text", (c) => c.notNull())
    .addColumn("token_type", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("connections")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("account_sub", "text")
    .addColumn("account_email", "text")
    .addColumn("account_name", "text")
    .addColumn("access_token", "text", (c) => c.notNull())
    .addColumn("refresh_token", "text")
    .addColumn("id_token", "text")
    .addColumn("token_type", "text", (c) => c.notNull())
    .addColumn("expires_at", "bigint")
    .addColumn("last_refreshed_at", "bigint")
    .addColumn("last_error", "text")
    .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("next_refresh_at", "bigint")
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "bigint")
    .addColumn("refresh_failures", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("updated_at", "bigint", (c) => c.notNull())
    .addUniqueConstraint("connections_app_user", ["app_id", "user_id"])
    .execute();
  await db.schema.createIndex("connections_next_refresh").on("connections").column("next_refresh_at").execute();

  await db.schema
    .createTable("connect_transactions")
    .addColumn("state_hash", "text", (c) => c.primaryKey())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("browser_hash", "text", (c) => c.notNull())
    .addColumn("code_verifier", "text")
    .addColumn("nonce", "text")
    .addColumn("return_to", "text")
    .addColumn("scopes", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("consumed_at", "bigint")
    .execute();

  await db.schema
    .createTable("connect_sessions")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("app_id", "text", (c) => c.notNull().references("apps.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("return_to", "text")
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("expires_at", "bigint", (c) => c.notNull())
    .addColumn("used_at", "bigint")
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("seq", pg ? "bigserial" : "integer", (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn("id", "text", (c) => c.notNull().unique())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("app_id", "text")
    .addColumn("user_id", "text")
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_at", "bigint", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "bigint")
    .addColumn("delivered_at", "bigint")
    .addColumn("last_status", "text")
    .addColumn("lease_owner", "text")
    .addColumn("lease_until", "bigint")
    .execute();
  await db.schema.createIndex("events_next_attempt").on("events").column("next_attempt_at").execute();
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
