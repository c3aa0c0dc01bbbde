// When to refresh, how long a lease lasts, how to back off: the numbers of the token engine,
// and the pure rules over them (tested with a fixed clock and a fixed random source).
import type { Context } from "../context.ts";

export interface RefreshSettings {
  /** Refresh this long before expiry in the background... */
  marginMs: number;
  /** ...plus a random share of this, so a batch connected together does not refresh together. */
  jitterMs: number;
  /** Keep-alive refresh period for connections with a refresh token and no known expiry. */
  keepAliveMs: number;
  /** The cross-instance refresh lease: how long a dead holder can block a connection. */
  leaseMs: number;
  /** How long a read waiting on another holder's lease polls the row between looks. */
  leasePollMs: number;
  /**
   * Longest a read waits on a refresh in flight before answering 503 (the refresh itself goes
   * on, and stores its result for the next read).
   */
  readWaitMs: number;
  /** Total time a read spends retrying an unavailable provider before answering 503. */
  retryBudgetMs: number;
  /** First backoff step; doubles per attempt, with full jitter. */
  backoffBaseMs: number;
  /** After an unavailable provider, reads answer 503 at once for this long (or Retry-After). */
  cooldownMs: number;
  /** Longest background retry delay after repeated transient failures. */
  maxRetryDelayMs: number;
  /** How often the background refresher looks for due connections (± 20 %). */
  refresherIntervalMs: number;
  /** Rows one refresher claims per look. */
  refresherBatch: number;
  /** Refreshes one instance runs at once towards one app's provider. */
  perAppConcurrency: number;
  /** On stop, how long in-flight refreshes may finish before they are abandoned (their leases then run out). */
  stopGraceMs: number;
}

export const defaultRefreshSettings: RefreshSettings = {
  marginMs: 5 * 60_000,
  jitterMs: 60_000,
  keepAliveMs: 24 * 3600_000,
  leaseMs: 30_000,
  leasePollMs: 50,
  readWaitMs: 10_000,
  retryBudgetMs: 8_000,
  backoffBaseMs: 250,
  cooldownMs: 5_000,
  maxRetryDelayMs: 30 * 60_000,
  refresherIntervalMs: 5_000,
  refresherBatch: 100,
  perAppConcurrency: 4,
  stopGraceMs: 10_000,
};

const overrides = new WeakMap<object, RefreshSettings>();

/** Tests and benchmarks shorten the times of one service instance. */
export function setRefreshSettings(ctx: Pick<Context, "config">, patch: Partial<RefreshSettings>): void {
  overrides.set(ctx.config, { ...refreshSettings(ctx), ...patch });
}

export function refreshSettings(ctx: Pick<Context, "config">): RefreshSettings {
  return overrides.get(ctx.config) ?? defaultRefreshSettings;
}

export type Random = () => number;

/**
 * When the background refresher should take a connection next. Ahead of expiry by the margin
 * plus jitter, but never more than half the token's lifetime ahead (a 60-second token is not
 * refreshed the moment it is issued); keep-alive when the lifetime is unknown; never without a
 * refresh token.
 */
export function nextRefreshAt(
  s: RefreshSettings,
  p: { now: number; expiresAt: number | null; hasRefreshToken: boolean },
  random: Random = Math.random,
): number | null {
  if (!p.hasRefreshToken) return null;
  if (p.expiresAt === null) return p.now + s.keepAliveMs - Math.floor(random() * s.jitterMs);
  const lifetime = Math.max(0, p.expiresAt - p.now);
  const lead = Math.min(s.marginMs + Math.floor(random() * s.jitterMs), lifetime / 2);
  return Math.floor(p.expiresAt - lead);
}

/** Exponential backoff with full jitter (attempt 0 is the first retry). */
export function backoffDelay(s: Pick<RefreshSettings, "backoffBaseMs" | "maxRetryDelayMs">, attempt: number, random: Random = Math.random): number {
  const cap = Math.min(s.maxRetryDelayMs, s.backoffBaseMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.floor(cap / 2 + random() * (cap / 2)));
}

/** Whether a token expiring at `expiresAt` is still good for `minValidityMs` at `now`. */
export function validFor(expiresAt: number | null, now: number, minValidityMs: number): boolean {
  return expiresAt === null || expiresAt - now >= minValidityMs;
}
