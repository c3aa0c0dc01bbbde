// The cross-instance refresh lock: a lease on the connection row.
//
// Why a lease and not `SELECT ... FOR UPDATE`: a row lock would have to stay open across the
// provider call (seconds, sometimes more), pinning a pooled connection per refresh and, on
// SQLite, the only writer. A lease is taken with one conditional UPDATE, works the same on both
// databases and across processes, and names its owner (instance id + a random part) so only the
// holder can extend, write under, or release it; Nango's Redis lock, which any holder can
// release, is the mistake this avoids. A live holder extends its lease while the provider call
// runs (heartbeat); a holder that dies (SIGKILL) stops extending, and its lease runs out after
// `leaseMs`, when the next caller takes over. Writes under the lease are also fenced by the
// row's version (connection-store.ts), so a holder that lost its lease cannot overwrite newer
// tokens.
import { randomBytes } from "node:crypto";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { notConnected } from "./connection-service.ts";
import type { ConnectionRecord, ConnectionStore } from "./connection-store.ts";
import type { RefreshSettings } from "./refresh-policy.ts";

export interface HeldLease {
  owner: string;
  /** A write under the lease has cleared it in the row: stop the heartbeat, skip the release. */
  clearedByWrite(): void;
  /** Stops the heartbeat and releases the lease if it is still ours. */
  release(): Promise<void>;
}

export type LeaseResult =
  | { kind: "held"; lease: HeldLease }
  /** While we waited, another holder wrote new tokens (or marked the row): use its result. */
  | { kind: "changed"; record: ConnectionRecord };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function startHeartbeat(ctx: Pick<Context, "clock" | "log">, store: ConnectionStore, id: string, owner: string, s: RefreshSettings): () => void {
  const timer = setInterval(() => {
    store.extendLease(id, owner, ctx.clock.now() + s.leaseMs).catch((err: unknown) => {
      ctx.log.warn({ connectionId: id, reason: (err as Error).message }, "could not extend the refresh lease");
    });
  }, Math.max(10, Math.floor(s.leaseMs / 3)));
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Takes the lease on `seen` (the row as the caller read it), or waits for the holder: polls the
 * row until the holder's write shows (a new version or status), or its lease runs out and we
 * take it. Gives up with 503 after one lease time plus `maxWaitMs`.
 */
export async function acquireRefreshLease(
  ctx: Pick<Context, "clock" | "log" | "instanceId">,
  store: ConnectionStore,
  seen: ConnectionRecord,
  s: RefreshSettings,
): Promise<LeaseResult> {
  const owner = `${ctx.instanceId}:${randomBytes(6).toString("hex")}`;
  const giveUpAt = ctx.clock.now() + s.leaseMs + s.retryBudgetMs;
  let wait = s.leasePollMs;
  for (;;) {
    if (await store.takeLease(seen.id, owner, ctx.clock.now(), s.leaseMs)) {
      const stopHeartbeat = startHeartbeat(ctx, store, seen.id, owner, s);
      let cleared = false;
      return {
        kind: "held",
        lease: {
          owner,
          clearedByWrite: () => {
            cleared = true;
            stopHeartbeat();
          },
          release: async () => {
            stopHeartbeat();
            if (!cleared) await store.releaseLease(seen.id, owner);
          },
        },
      };
    }
    await sleep(wait);
    // Poll gently: a held lease means a provider call in flight, which takes tens to hundreds of ms.
    wait = Math.min(wait * 2, 500);
    const current = await store.getById(seen.id);
    if (!current) throw notConnected(seen.appId, seen.userId);
    if (current.version !== seen.version || current.status !== seen.status) return { kind: "changed", record: current };
    if (ctx.clock.now() > giveUpAt) {
      throw new AppError("provider_unavailable", "another instance has been refreshing this connection for too long", { retryAfter: 5 });
    }
  }
}
