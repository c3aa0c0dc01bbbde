// Connections: one user's tokens for one app. INTERFACE STUB: the connections work replaces the
// bodies; keep these signatures, the connect flow and the UI code against them.
import type { Context } from "../context.ts";
import type { ProviderAccount, TokenSet } from "../oauth/token-set.ts";

/** The Connection resource of SPEC §4 (tokens never appear here). */
export interface Connection {
  appId: string;
  userId: string;
  status: "active" | "needs_reconnect";
  scopes: string[];
  account: ProviderAccount;
  expiresAt: string | null;
  lastRefreshedAt: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * Stores the tokens of a finished connect flow, sealed, in one transaction with its event
 * (connection.created, or connection.recovered when it needed reconnecting). Reconnecting the
 * same user replaces the tokens of the existing connection.
 */
export async function saveConnection(
  _ctx: Context,
  _p: { appId: string; userId: string; tokens: TokenSet; account: ProviderAccount; requestedScopes: string[] },
): Promise<{ connection: Connection; created: boolean }> {
  throw new Error("not implemented yet");
}

export async function listConnectionsForUser(_ctx: Context, _userId: string): Promise<Connection[]> {
  throw new Error("not implemented yet");
}

/** Revokes at the provider (RFC 7009) when possible, then deletes; records connection.deleted. */
export async function deleteConnection(_ctx: Context, _appId: string, _userId: string): Promise<void> {
  throw new Error("not implemented yet");
}
