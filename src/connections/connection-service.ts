// Connections: one user's tokens for one app. Saving a finished connect flow, listing, reading
// and deleting (with RFC 7009 revocation). Refreshing lives in token.ts.
import type { App } from "../apps/app-store.ts";
import { getApp } from "../apps/app-service.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { recordEvent } from "../events/record-event.ts";
import { revokeToken } from "../oauth/grants.ts";
import type { ProviderAccount, TokenSet } from "../oauth/token-set.ts";
import { ConnectionStore, newConnectionId, openTokens, type ConnectionRecord, type TokenWrite } from "./connection-store.ts";
import { nextRefreshAt, refreshSettings } from "./refresh-policy.ts";

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

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function notConnected(appId: string, userId: string): AppError {
  return new AppError("not_connected", `user "${userId}" has no connection to app "${appId}"`);
}

export function toConnection(rec: ConnectionRecord): Connection {
  return {
    appId: rec.appId,
    userId: rec.userId,
    status: rec.status,
    scopes: rec.scopes,
    account: rec.account,
    expiresAt: iso(rec.expiresAt),
    lastRefreshedAt: iso(rec.lastRefreshedAt),
    lastError: rec.lastError,
    createdAt: iso(rec.createdAt)!,
    updatedAt: iso(rec.updatedAt)!,
  };
}

export function connectionStore(ctx: Pick<Context, "db" | "keyring">): ConnectionStore {
  return new ConnectionStore(ctx.db, ctx.keyring);
}

/**
 * What a token answer stores: `expiresAt` from `expires_in`, the granted scopes (or the
 * requested ones when the answer states none, RFC 6749 §5.1), the refresh schedule. A refresh
 * token missing from the answer keeps the one we hold (RFC 6749 §6: the server MAY issue one).
 */
export function tokenWriteFrom(
  ctx: Pick<Context, "config">,
  tokens: TokenSet,
  p: { now: number; fallbackScopes: string[]; previousRefreshToken: string | null; previousIdToken?: string | null },
): TokenWrite {
  const expiresAt = tokens.expiresIn === null ? null : p.now + tokens.expiresIn * 1000;
  const refreshToken = tokens.refreshToken ?? p.previousRefreshToken;
  return {
    accessToken: tokens.accessToken,
    refreshToken,
    idToken: tokens.idToken ?? p.previousIdToken ?? null,
    tokenType: tokens.tokenType,
    scopes: tokens.scopes ?? p.fallbackScopes,
    expiresAt,
    nextRefreshAt: nextRefreshAt(refreshSettings(ctx), { now: p.now, expiresAt, hasRefreshToken: refreshToken !== null }),
  };
}

/**
 * Stores the tokens of a finished connect flow, sealed, in one transaction with its event
 * (connection.created, or connection.recovered when it needed reconnecting). Reconnecting the
 * same user replaces the tokens of the existing connection.
 */
export async function saveConnection(
  ctx: Context,
  p: { appId: string; userId: string; tokens: TokenSet; account: ProviderAccount; requestedScopes: string[] },
): Promise<{ connection: Connection; created: boolean }> {
  const now = ctx.clock.now();
  return ctx.db.transaction().execute(async (trx) => {
    const store = new ConnectionStore(trx, ctx.keyring);
    const fresh = (previousRefreshToken: string | null) =>
      tokenWriteFrom(ctx, p.tokens, { now, fallbackScopes: p.requestedScopes, previousRefreshToken });
    const id = newConnectionId();
    if (await store.insert({ id, appId: p.appId, userId: p.userId, account: p.account, tokens: fresh(null), now })) {
      await recordEvent(trx, ctx, { type: "connection.created", appId: p.appId, userId: p.userId });
      return { connection: toConnection((await store.getById(id))!), created: true };
    }
    const existing = await store.get(p.appId, p.userId);
    if (!existing) throw new Error("connection vanished while being replaced");
    // A provider that issues a refresh token only at first consent (Google without
    // prompt=consent) leaves the one we hold valid: keep it.
    const previous = p.tokens.refreshToken === null ? openTokens(ctx, existing).refreshToken : null;
    await store.replaceAfterReconnect(existing.id, { account: p.account, tokens: fresh(previous), now });
    if (existing.status === "needs_reconnect") {
      await recordEvent(trx, ctx, { type: "connection.recovered", appId: p.appId, userId: p.userId, data: { by: "reconnect" } });
    }
    return { connection: toConnection((await store.getById(existing.id))!), created: false };
  });
}

export async function listConnectionsForUser(ctx: Context, userId: string): Promise<Connection[]> {
  return (await connectionStore(ctx).listByUser(userId)).map(toConnection);
}

export async function listConnections(ctx: Pick<Context, "db" | "keyring">, appId: string, status?: Connection["status"]): Promise<Connection[]> {
  return (await connectionStore(ctx).listByApp(appId, status)).map(toConnection);
}

export async function getConnectionRecord(ctx: Pick<Context, "db" | "keyring">, appId: string, userId: string): Promise<ConnectionRecord> {
  const rec = await connectionStore(ctx).get(appId, userId);
  if (!rec) throw notConnected(appId, userId);
  return rec;
}

export async function getConnection(ctx: Pick<Context, "db" | "keyring">, appId: string, userId: string): Promise<Connection> {
  return toConnection(await getConnectionRecord(ctx, appId, userId));
}

/**
 * RFC 7009 §2.1: revoke the refresh token first (a server revoking it also drops the access
 * tokens of the grant, §2.1 "SHOULD"), then the access token for servers that do not. A failed
 * revocation is logged and does not stop the local delete: the user asked to be disconnected.
 */
export async function revokeConnectionTokens(ctx: Context, app: App, rec: ConnectionRecord): Promise<void> {
  if (!app.revocationEndpoint) return;
  let tokens;
  try {
    tokens = openTokens(ctx, rec);
  } catch (err) {
    ctx.log.warn({ appId: rec.appId, connectionId: rec.id, reason: (err as Error).message }, "cannot open the tokens to revoke; deleting without revocation");
    return;
  }
  const attempts: Array<[string | null, "refresh_token" | "access_token"]> = [
    [tokens.refreshToken, "refresh_token"],
    [tokens.accessToken, "access_token"],
  ];
  for (const [token, hint] of attempts) {
    if (token === null) continue;
    try {
      await revokeToken(ctx, app, token, hint);
    } catch (err) {
      ctx.log.warn({ appId: rec.appId, connectionId: rec.id, hint, reason: (err as Error).message }, "revocation at the provider failed; deleting locally anyway");
    }
  }
}

/** Deletes the row and records connection.deleted, in one transaction. */
export async function deleteConnectionRow(ctx: Context, rec: ConnectionRecord): Promise<void> {
  await ctx.db.transaction().execute(async (trx) => {
    if (await new ConnectionStore(trx, ctx.keyring).delete(rec.id)) {
      await recordEvent(trx, ctx, { type: "connection.deleted", appId: rec.appId, userId: rec.userId });
    }
  });
}

/** Revokes at the provider (RFC 7009) when possible, then deletes; records connection.deleted. */
export async function deleteConnection(ctx: Context, appId: string, userId: string): Promise<void> {
  const app = await getApp(ctx, appId);
  const rec = await getConnectionRecord(ctx, appId, userId);
  await revokeConnectionTokens(ctx, app, rec);
  await deleteConnectionRow(ctx, rec);
}

/** Before an app is deleted (SPEC §4): each of its connections is revoked and deleted, with its event. */
export async function deleteConnectionsOfApp(ctx: Context, app: App): Promise<void> {
  for (const rec of await connectionStore(ctx).listByApp(app.id)) {
    await revokeConnectionTokens(ctx, app, rec);
    await deleteConnectionRow(ctx, rec);
  }
}
