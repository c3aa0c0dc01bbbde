// getToken: the ONE path every reader takes (the token route, the proxy, the background
// refresher, the CLI). Exactly one refresh per expiry, however many callers and instances:
//
//   valid enough?            → answer from the row (no lock, no provider)
//   provider cooling down?   → 503 at once (a dead provider is not hammered by every read)
//   single-flight            → callers in this process share one refresh per connection
//   lease (refresh-lease.ts) → one refresher across instances; a dead holder blocks ≤ leaseMs
//   re-read under the lease  → someone else refreshed meanwhile? use theirs
//   refresh (with retries)   → commit the tokens, rotated refresh token included, CAS on
//                              version, BEFORE any caller sees the new access token
import type { App } from "../apps/app-store.ts";
import { getApp } from "../apps/app-service.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { recordEvent } from "../events/record-event.ts";
import { revokeToken } from "../oauth/grants.ts";
import type { ProviderFailure } from "../oauth/provider-failure.ts";
import { connectionKey } from "../store/change-feed.ts";
import { connectionStore, iso, notConnected, tokenWriteFrom } from "./connection-service.ts";
import { ConnectionStore, openAccessToken, openTokens, type ConnectionRecord, type TokenWrite } from "./connection-store.ts";
import { acquireRefreshLease, type HeldLease } from "./refresh-lease.ts";
import { backoffDelay, refreshSettings, validFor } from "./refresh-policy.ts";
import { asProviderFailure, identityChange, refreshWithRetry } from "./provider-refresh.ts";

/** The Token resource of SPEC §4. */
export interface Token {
  accessToken: string;
  tokenType: string;
  expiresAt: string | null;
  scopes: string[];
}

export interface GetTokenOptions {
  /**
   * Refresh even if the token is still valid, unless the row's version moved past this one
   * (someone refreshed since the caller looked). The refresher and the CLI use it.
   */
  forceUnlessVersionAfter?: number;
}

/** Per-instance state: one engine per running service (tests run several in one process). */
interface Engine {
  inFlight: Map<string, Promise<Token>>;
  /** connection id → clock time until which reads answer 503 without calling the provider. */
  coolingDown: Map<string, number>;
}
const engines = new Map<string, Engine>();
function engineOf(ctx: Pick<Context, "instanceId">): Engine {
  let e = engines.get(ctx.instanceId);
  if (!e) engines.set(ctx.instanceId, (e = { inFlight: new Map(), coolingDown: new Map() }));
  return e;
}

function answerFrom(ctx: Context, rec: ConnectionRecord): Token {
  return { accessToken: openAccessToken(ctx, rec), tokenType: rec.tokenType, expiresAt: iso(rec.expiresAt), scopes: rec.scopes };
}

function needsReconnect(rec: Pick<ConnectionRecord, "lastError">): AppError {
  return new AppError("needs_reconnect", `the provider no longer accepts this connection's grant${rec.lastError ? `: ${rec.lastError}` : ""}; the user must connect again`);
}

/** A token valid for at least `minValidity` seconds, refreshing first when needed. */
export async function getToken(ctx: Context, appId: string, userId: string, minValidity: number, opts: GetTokenOptions = {}): Promise<Token> {
  const store = connectionStore(ctx);
  const force = opts.forceUnlessVersionAfter !== undefined;
  // The first look may come from the read cache; everything that decides a refresh re-reads
  // the row under the lease, so a row that went stale a moment ago costs time, not correctness.
  const rec = ctx.caches && !force ? await ctx.caches.connections.read(connectionKey(appId, userId), () => store.get(appId, userId)) : await store.get(appId, userId);
  if (!rec) throw notConnected(appId, userId);
  if (force && rec.version > opts.forceUnlessVersionAfter!) return resultOfOthers(ctx, rec);
  if (rec.status === "needs_reconnect" && !force) throw needsReconnect(rec);
  const now = ctx.clock.now();
  if (!force && validFor(rec.expiresAt, now, minValidity * 1000)) return answerFrom(ctx, rec);

  const engine = engineOf(ctx);
  if (!force) {
    // Cooling down after a failed refresh: this instance remembers the provider's Retry-After;
    // other instances see the failure on the row (refresh_failures, updated_at).
    const s = refreshSettings(ctx);
    const coolUntil = Math.max(engine.coolingDown.get(rec.id) ?? 0, rec.refreshFailures > 0 ? rec.updatedAt + s.cooldownMs : 0);
    if (coolUntil > now) {
      throw new AppError("provider_unavailable", `the provider failed a moment ago (${rec.lastError ?? "unavailable"}); not asking it again yet`, { retryAfter: (coolUntil - now) / 1000 });
    }
    ctx.metrics.tokenReadsWaited.labels(appId).inc();
  }
  let flight = engine.inFlight.get(rec.id);
  if (!flight) {
    flight = refreshUnderLease(ctx, store, rec).finally(() => engine.inFlight.delete(rec.id));
    engine.inFlight.set(rec.id, flight);
  }
  // SPEC §4: when even a fresh token is shorter-lived than asked, the fresh one.
  return withinReadWait(flight, refreshSettings(ctx).readWaitMs);
}

/** A slow provider must not hold a read for ever: 503 after readWaitMs; the flight goes on. */
async function withinReadWait(flight: Promise<Token>, ms: number): Promise<Token> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AppError("provider_unavailable", "the provider is slow to refresh this token; try again shortly", { retryAfter: 2 })), ms);
  });
  try {
    return await Promise.race([flight, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function refreshUnderLease(ctx: Context, store: ConnectionStore, seen: ConnectionRecord): Promise<Token> {
  const s = refreshSettings(ctx);
  const got = await acquireRefreshLease(ctx, store, seen, s);
  if (got.kind === "changed") return resultOfOthers(ctx, got.record);
  const { lease } = got;
  try {
    // Re-read under the lease: another caller may have refreshed between our read and our lease.
    const current = await store.getById(seen.id);
    if (!current) throw notConnected(seen.appId, seen.userId);
    if (current.version !== seen.version || current.status !== seen.status) return resultOfOthers(ctx, current);
    return await refreshHeld(ctx, store, current, lease);
  } finally {
    await lease.release();
  }
}

/** After another holder's write: its tokens, or its verdict. */
function resultOfOthers(ctx: Context, rec: ConnectionRecord): Token {
  if (rec.status === "needs_reconnect") throw needsReconnect(rec);
  return answerFrom(ctx, rec);
}

async function refreshHeld(ctx: Context, store: ConnectionStore, current: ConnectionRecord, lease: HeldLease): Promise<Token> {
  const s = refreshSettings(ctx);
  const held = { version: current.version, leaseOwner: lease.owner };
  const tokens = openTokens(ctx, current);
  if (!tokens.refreshToken) {
    // Nothing to refresh with. A token that still works (or never expires: GitHub, Slack) is
    // the best there is, so it is the answer; only an expired one means the user must reconnect.
    if (current.expiresAt === null || current.expiresAt > ctx.clock.now()) return answerFrom(ctx, current);
    return markNeedsReconnect(ctx, current, held, "the access token expired and the provider issued no refresh token");
  }
  const app = await getApp(ctx, current.appId);
  const started = performance.now();
  let answer;
  try {
    answer = await refreshWithRetry(ctx, app, tokens.refreshToken, s);
  } catch (err) {
    ctx.metrics.refreshSeconds.labels(app.id).observe((performance.now() - started) / 1000);
    return onRefreshFailure(ctx, store, current, held, asProviderFailure(err));
  }
  ctx.metrics.refreshSeconds.labels(app.id).observe((performance.now() - started) / 1000);

  const changedIdentity = identityChange(tokens.idToken, answer.idToken);
  if (changedIdentity) return markNeedsReconnect(ctx, current, held, changedIdentity);

  const now = ctx.clock.now();
  const write = tokenWriteFrom(ctx, answer, { now, fallbackScopes: current.scopes, previousRefreshToken: tokens.refreshToken, previousIdToken: tokens.idToken });
  const stored = await ctx.db.transaction().execute(async (trx) => {
    const ok = await new ConnectionStore(trx, ctx.keyring).writeRefreshed(current.id, held, { tokens: write, now });
    if (ok && current.status === "needs_reconnect") {
      await recordEvent(trx, ctx, { type: "connection.recovered", appId: current.appId, userId: current.userId, data: { by: "refresh" } });
    }
    return ok;
  });
  lease.clearedByWrite();
  if (!stored) return afterLostWrite(ctx, store, app, current, { ...write, refreshToken: write.refreshToken === tokens.refreshToken ? null : write.refreshToken });
  ctx.metrics.refreshes.labels(app.id, "ok").inc();
  engineOf(ctx).coolingDown.delete(current.id);
  return { accessToken: write.accessToken, tokenType: write.tokenType, expiresAt: iso(write.expiresAt), scopes: write.scopes };
}

/**
 * Our CAS write changed nothing. Deleted during the refresh: it stays deleted (no resurrection)
 * and the tokens we were just given are revoked so they do not outlive the connection. Otherwise
 * another writer (a reconnect, a holder after our lease ran out) stored newer tokens: use those.
 */
async function afterLostWrite(ctx: Context, store: ConnectionStore, app: App, current: ConnectionRecord, issued: Pick<TokenWrite, "accessToken" | "refreshToken">): Promise<Token> {
  const latest = await store.getById(current.id);
  if (latest) return resultOfOthers(ctx, latest);
  ctx.metrics.refreshes.labels(app.id, "deleted").inc();
  // RFC 7009 §2.1: the rotated refresh token first (null when the answer kept the old one).
  const revokeQuietly = async (token: string, hint: "refresh_token" | "access_token") => {
    try {
      await revokeToken(ctx, app, token, hint);
    } catch (err) {
      ctx.log.warn({ appId: app.id, hint, reason: (err as Error).message }, "could not revoke the tokens of a connection deleted during its refresh");
    }
  };
  if (issued.refreshToken) await revokeQuietly(issued.refreshToken, "refresh_token");
  await revokeQuietly(issued.accessToken, "access_token");
  throw notConnected(current.appId, current.userId);
}

async function onRefreshFailure(
  ctx: Context,
  store: ConnectionStore,
  current: ConnectionRecord,
  held: { version: number; leaseOwner: string },
  failure: ProviderFailure,
): Promise<Token> {
  const s = refreshSettings(ctx);
  const now = ctx.clock.now();
  if (failure.kind === "grant_invalid") {
    // A refresh-race loser (its lease ran out while a slow call was in flight and another holder
    // rotated the token) sees invalid_grant for a token that is already replaced: the row tells.
    const latest = await store.getById(current.id);
    if (!latest) throw notConnected(current.appId, current.userId);
    if (latest.version !== current.version) return resultOfOthers(ctx, latest);
    return markNeedsReconnect(ctx, current, held, failure.message);
  }
  ctx.metrics.refreshes.labels(current.appId, failure.kind === "unavailable" ? "transient" : "error").inc();
  const retryAfterMs = Math.max(s.cooldownMs, (failure.retryAfter ?? 0) * 1000);
  engineOf(ctx).coolingDown.set(current.id, now + retryAfterMs);
  await store.noteTransientFailure(current.id, held.leaseOwner, {
    lastError: failure.message,
    retryAt: now + Math.max(retryAfterMs, backoffDelay(s, current.refreshFailures)),
    now,
  });
  ctx.log.warn({ appId: current.appId, connectionId: current.id, kind: failure.kind, reason: failure.message }, "refresh failed; the connection stays active");
  if (failure.kind === "unavailable") {
    throw new AppError("provider_unavailable", `the provider did not refresh the token: ${failure.message}`, { retryAfter: retryAfterMs / 1000 });
  }
  throw new AppError("provider_error", `the provider's refresh answer was not usable: ${failure.message}`);
}

/** invalid_grant / invalid_client: needs_reconnect at once with the provider's message, event in the same transaction. */
async function markNeedsReconnect(ctx: Context, current: ConnectionRecord, held: { version: number; leaseOwner: string }, lastError: string): Promise<never> {
  const now = ctx.clock.now();
  const marked = await ctx.db.transaction().execute(async (trx) => {
    const ok = await new ConnectionStore(trx, ctx.keyring).markNeedsReconnect(current.id, held, { lastError, now });
    if (ok && current.status !== "needs_reconnect") {
      await recordEvent(trx, ctx, { type: "connection.needs_reconnect", appId: current.appId, userId: current.userId, data: { error: lastError } });
    }
    return ok;
  });
  ctx.metrics.refreshes.labels(current.appId, "needs_reconnect").inc();
  ctx.log.warn({ appId: current.appId, connectionId: current.id, reason: lastError, marked }, "the provider refused the grant; the connection needs reconnecting");
  throw needsReconnect({ lastError });
}
