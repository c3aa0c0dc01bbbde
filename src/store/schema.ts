// Row types of every table, as Kysely sees them. Times are epoch milliseconds (bigint in
// PostgreSQL, integer in SQLite); JSON columns are text; sealed columns hold seal.ts output.
import type { Generated } from "kysely";

export interface ApiKeysTable {
  id: string;
  name: string;
  /** SHA-256 of the whole key (crypto/api-key-hash.ts). */
  hash: string;
  created_at: number;
  last_used_at: number | null;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  is_admin: number;
  created_at: number;
}

export interface WebSessionsTable {
  /** SHA-256 of the session cookie value. */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface AppsTable {
  id: string;
  name: string;
  template: string | null;
  discovery_url: string | null;
  issuer: string | null;
  authorization_endpoint: string | null;
  token_endpoint: string | null;
  revocation_endpoint: string | null;
  userinfo_endpoint: string | null;
  introspection_endpoint: string | null;
  jwks_uri: string | null;
  client_id: string | null;
  /** Sealed, bound to (apps, id, client_secret). */
  client_secret: string | null;
  /** JSON string[] */
  scopes: string;
  /** JSON Record<string,string> */
  extra_params: string;
  token_endpoint_auth_method: string;
  pkce: string;
  api_base_url: string | null;
  scope_separator: string;
  token_response_path: string | null;
  default_expires_in: number | null;
  token_request_format: string;
  /** JSON string[] | null: code_challenge_methods_supported from discovery (pkce "auto"). */
  code_challenge_methods: string | null;
  /** 1 when discovery said authorization_response_iss_parameter_supported (RFC 9207 §3). */
  iss_parameter_supported: number;
  /** JSON string[] | null: token_endpoint_auth_methods_supported from discovery. */
  token_endpoint_auth_methods: string | null;
  created_at: number;
  updated_at: number;
}

/** Client-credentials tokens of an app ("backend app flow"), cached until shortly before expiry. */
export interface AppTokensTable {
  app_id: string;
  /** Sealed, bound to (app_tokens, app_id, access_token). */
  access_token: string;
  token_type: string;
  scopes: string;
  expires_at: number | null;
  created_at: number;
}

export interface ConnectionsTable {
  id: string;
  app_id: string;
  user_id: string;
  status: string;
  /** JSON string[] */
  scopes: string;
  account_sub: string | null;
  account_email: string | null;
  account_name: string | null;
  /** Sealed token columns, bound to (connections, id, <column>). */
  access_token: string;
  refresh_token: string | null;
  id_token: string | null;
  token_type: string;
  expires_at: number | null;
  last_refreshed_at: number | null;
  last_error: string | null;
  /** Compare-and-swap version: every token write increments it. */
  version: number;
  /** When the background refresher should take it next (null: never). */
  next_refresh_at: number | null;
  /** Refresh lease (cross-instance lock): who holds it and until when. */
  lease_owner: string | null;
  lease_until: number | null;
  /** Consecutive transient refresh failures, for backoff. */
  refresh_failures: number;
  created_at: number;
  updated_at: number;
}

export interface ConnectTransactionsTable {
  /** SHA-256 of the `state` value. */
  state_hash: string;
  app_id: string;
  user_id: string;
  /** SHA-256 of the browser-binding cookie value. */
  browser_hash: string;
  /** Sealed, bound to (connect_transactions, state_hash, code_verifier). */
  code_verifier: string | null;
  nonce: string | null;
  return_to: string | null;
  /** JSON string[]: the scopes requested. */
  scopes: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface ConnectSessionsTable {
  /** SHA-256 of the session token in the link. */
  token_hash: string;
  app_id: string;
  user_id: string;
  return_to: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface EventsTable {
  seq: Generated<number>;
  id: string;
  type: string;
  app_id: string | null;
  user_id: string | null;
  /** JSON object, never a token or secret. */
  data: string;
  created_at: number;
  /** Outbox delivery state. */
  attempts: number;
  next_attempt_at: number | null;
  delivered_at: number | null;
  last_status: string | null;
  lease_owner: string | null;
  lease_until: number | null;
}

export interface MetaTable {
  key: string;
  value: string;
}

/** One failed sign-in: SHA-256 of (email, client address), never the email or address itself. */
export interface LoginFailuresTable {
  key_hash: string;
  at: number;
}

export interface Database {
  api_keys: ApiKeysTable;
  users: UsersTable;
  web_sessions: WebSessionsTable;
  apps: AppsTable;
  app_tokens: AppTokensTable;
  connections: ConnectionsTable;
  connect_transactions: ConnectTransactionsTable;
  connect_sessions: ConnectSessionsTable;
  events: EventsTable;
  meta: MetaTable;
  login_failures: LoginFailuresTable;
}
