// The webhook sender (SPEC §7), one in every instance: it claims due events from the outbox
// with a lease (so two instances never send one event at the same moment), POSTs each as JSON
// {id, type, createdAt, data} signed with WEBHOOK_SECRET, and records the attempt. A failure is
// retried with exponential backoff and jitter; the schedule lives in the row, so it holds across
// restarts, for MAX_DELIVERY_AGE_MS after the event. Delivery is at least once: an instance that
// dies after the receiver answered but before recording it sends again; receivers dedupe by id.
import { randomBytes } from "node:crypto";
import type { Context, OutboundFetch } from "../context.ts";
import { createOutboundFetch } from "../net/outbound-fetch.ts";
import { EventStore, type OutboxEvent } from "./event-store.ts";
import { SIGNATURE_HEADER, signWebhook } from "./webhook-signature.ts";

export interface OutboxSettings {
  /** How often an idle worker looks for due events. */
  pollMs: number;
  /** The first retry's delay; each further failure doubles it, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One attempt's deadline (headers and body). */
  attemptTimeoutMs: number;
  batch: number;
  concurrency: number;
  /** How long stop() lets attempts in flight finish before aborting them. */
  stopGraceMs: number;
}

/** Retries go on for three days: the SPEC asks for at least 24 hours, across restarts. */
export const MAX_DELIVERY_AGE_MS = 3 * 24 * 3600_000;

export const defaultOutboxSettings: OutboxSettings = {
  pollMs: 1000,
  baseDelayMs: 1000,
  maxDelayMs: 3600_000,
  attemptTimeoutMs: 10_000,
  batch: 50,
  concurrency: 8,
  stopGraceMs: 5000,
};

export interface OutboxWorker {
  stop(): Promise<void>;
  /** One look now (tests, benchmarks): claims due events and sends them; resolves with how many. */
  tick(): Promise<number>;
}

/** The delay before attempt n+1 after n failures: exponential, capped, with "equal jitter". */
export function retryDelayMs(failures: number, s: Pick<OutboxSettings, "baseDelayMs" | "maxDelayMs">, random = Math.random): number {
  const ceiling = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.min(failures - 1, 40));
  // Half fixed, half random: instances retrying after a shared outage spread out.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The webhook body: exactly what the receiver verifies the signature over. */
export function webhookBody(e: Pick<OutboxEvent, "id" | "type" | "createdAt" | "data">): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: new Date(e.createdAt).toISOString(), data: e.data });
}

export function startOutboxWorker(
  ctx: Context,
  overrides: Partial<OutboxSettings> & { autoStart?: boolean; fetch?: OutboundFetch } = {},
): OutboxWorker {
  const { webhookUrl, webhookSecret } = ctx.config;
  if (!webhookUrl || !webhookSecret) return { stop: async () => {}, tick: async () => 0 };
  const s = { ...defaultOutboxSettings, ...overrides };
  // WEBHOOK_URL is the operator's own setting, like DATABASE_URL, and usually the host app on
  // localhost or a private network: the SSRF guard, there for URLs whoever registers an app
  // supplies, would refuse exactly that. Redirects are not followed (redirect: "manual").
  const send = overrides.fetch ?? createOutboundFetch({ allowPrivateUrls: true });
  const store = new EventStore(ctx.db);
  const owner = `${ctx.instanceId}:outbox:${randomBytes(3).toString("hex")}`;
  // A lease outlives any attempt (each is bounded by attemptTimeoutMs), so it never runs out
  // while its holder may still be sending.
  const leaseMs = s.attemptTimeoutMs * 3 + 5000;
  const stopping = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let looking: Promise<number> | undefined;

  async function attempt(e: OutboxEvent): Promise<void> {
    const body = webhookBody(e);
    let status: string;
    let delivered = false;
    try {
      const res = await send(webhookUrl!, {
        method: "POST",
        headers: { "content-type": "application/json", [SIGNATURE_HEADER]: signWebhook(webhookSecret!, body, ctx.clock.now() / 1000) },
        body,
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(s.attemptTimeoutMs), stopping.signal]),
      });
      await res.body?.cancel().catch(() => {});
      status = String(res.status);
      delivered = res.status >= 200 && res.status < 300;
    } catch (err) {
      // Stopping: not an attempt; the lease is given back below and another look resends.
      if (stopping.signal.aborted) return;
      const name = (err as Error).name;
      status = name === "TimeoutError" || name === "AbortError" ? "timeout" : "network_error";
    }
    const now = ctx.clock.now();
    const failures = e.attempts + 1;
    const giveUp = !delivered && now - e.createdAt >= MAX_DELIVERY_AGE_MS;
    await store.recordAttempt(e.id, owner, {
      status,
      deliveredAt: delivered ? now : null,
      nextAttemptAt: delivered || giveUp ? null : now + retryDelayMs(failures, s),
    });
    ctx.metrics.webhookDeliveries.inc({ result: delivered ? "delivered" : giveUp ? "abandoned" : "failed" });
    if (giveUp) ctx.log.error({ eventId: e.id, type: e.type, attempts: failures, status }, "webhook delivery abandoned after three days of failures");
    else if (!delivered) ctx.log.warn({ eventId: e.id, type: e.type, attempts: failures, status }, "webhook delivery failed; will retry");
  }

  async function look(): Promise<number> {
    const now = ctx.clock.now();
    const claimed = await store.claimDue(owner, now, now + leaseMs, s.batch);
    const queue = [...claimed];
    const lanes = Array.from({ length: Math.min(s.concurrency, queue.length) }, async () => {
      for (let e = queue.shift(); e && !stopping.signal.aborted; e = queue.shift()) {
        await attempt(e).catch((err: Error) => ctx.log.warn({ eventId: e!.id, reason: err.message }, "could not record a webhook attempt"));
      }
    });
    await Promise.all(lanes);
    return claimed.length;
  }

  function tick(): Promise<number> {
    return (looking ??= look().finally(() => (looking = undefined)));
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(async () => {
      let claimed = 0;
      try {
        claimed = await tick();
      } catch (err) {
        ctx.log.warn({ reason: (err as Error).message }, "the outbox worker could not claim due events");
      }
      schedule(claimed >= s.batch ? 0 : s.pollMs * (0.8 + Math.random() * 0.4));
    }, delayMs);
    timer.unref();
  }

  if (overrides.autoStart !== false) schedule(Math.random() * s.pollMs);

  return {
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const current = looking;
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, s.stopGraceMs)));
      await Promise.race([current?.catch(() => 0), grace]);
      clearTimeout(graceTimer);
      stopping.abort();
      await current?.catch(() => 0);
      await store.releaseLeases(owner).catch(() => {});
    },
  };
}
