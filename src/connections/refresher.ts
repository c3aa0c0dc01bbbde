// The background refresher: every instance runs one, and they share the work through the
// database. Each look claims a batch of due rows (next_refresh_at <= now) by pushing their
// next_refresh_at one lease time ahead, under FOR UPDATE SKIP LOCKED on PostgreSQL, so N
// instances take disjoint rows; each claimed row then goes through getToken, the one refresh
// path, so a read that races the refresher still causes one refresh only. A claimed row whose
// refresh is abandoned (the instance stopped or died) comes due again when its claim runs out.
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { connectionStore } from "./connection-service.ts";
import { refreshSettings } from "./refresh-policy.ts";
import { getToken } from "./token.ts";

export interface Refresher {
  /** Resolves when in-flight refreshes have finished, or after the grace time (then abandoned). */
  stop(): Promise<void>;
  /** One look now (tests and benchmarks): claims and refreshes due rows; resolves with how many it claimed. */
  tick(): Promise<number>;
}

/** Bounds concurrent refreshes towards each app's provider in this instance. */
class PerAppLimit {
  private readonly active = new Map<string, number>();
  private readonly waiting = new Map<string, Array<() => void>>();
  constructor(private readonly limit: number) {}

  async run<T>(appId: string, fn: () => Promise<T>): Promise<T> {
    if ((this.active.get(appId) ?? 0) >= this.limit) {
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(appId) ?? [];
        queue.push(resolve);
        this.waiting.set(appId, queue);
      });
    }
    this.active.set(appId, (this.active.get(appId) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      this.active.set(appId, this.active.get(appId)! - 1);
      this.waiting.get(appId)?.shift()?.();
    }
  }
}

export function startRefresher(ctx: Context, opts: { autoStart?: boolean } = {}): Refresher {
  const s = refreshSettings(ctx);
  const store = connectionStore(ctx);
  const limit = new PerAppLimit(s.perAppConcurrency);
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let looking: Promise<number> | undefined;

  async function refreshOne(row: { appId: string; userId: string; version: number }) {
    try {
      await limit.run(row.appId, () => getToken(ctx, row.appId, row.userId, 0, { forceUnlessVersionAfter: row.version }));
    } catch (err) {
      // getToken has recorded the outcome on the row (needs_reconnect, or a retry time) and logged it.
      if (!(err instanceof AppError)) ctx.log.error({ appId: row.appId, err }, "background refresh failed unexpectedly");
    }
  }

  async function look(): Promise<number> {
    const now = ctx.clock.now();
    ctx.metrics.refreshDue.set(await store.countDue(now));
    // Claim only what this instance can start soon: rows claimed but queued here are rows other
    // instances cannot take, and a claim that outlives its lease time gets claimed twice.
    const room = s.refresherBatch - inFlight.size;
    if (room <= 0) return 0;
    const claimed = await store.claimDue({ now, claimUntil: now + s.leaseMs, limit: room, postgres: ctx.dialect === "postgres" });
    for (const row of claimed) {
      const p = refreshOne(row).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    return claimed.length;
  }

  function tick(): Promise<number> {
    return (looking ??= look().finally(() => (looking = undefined)));
  }

  function schedule(delayMs: number) {
    if (stopping) return;
    timer = setTimeout(async () => {
      let claimed = 0;
      try {
        claimed = await tick();
      } catch (err) {
        ctx.log.warn({ reason: (err as Error).message }, "the refresher could not claim due connections");
      }
      // Work claimed means more may be due: look again soon, once some of it has finished.
      schedule(claimed > 0 || inFlight.size >= s.refresherBatch ? 50 : s.refresherIntervalMs * (0.8 + Math.random() * 0.4));
    }, delayMs);
    timer.unref();
  }

  if (opts.autoStart !== false) schedule(Math.random() * s.refresherIntervalMs);

  return {
    tick,
    async stop() {
      stopping = true;
      if (timer) clearTimeout(timer);
      await looking?.catch(() => 0);
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, s.stopGraceMs)));
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      clearTimeout(graceTimer);
      if (inFlight.size > 0) ctx.log.warn({ abandoned: inFlight.size }, "stopped with refreshes in flight; their leases will run out");
    },
  };
}
