// Outbox throughput and delivery lag: events POSTed, signed, to a loopback receiver.
// Throughput: a backlog of CA_BENCH_EVENTS events, delivered by one worker (events/s).
// Lag: events recorded at CA_BENCH_RATE/s for CA_BENCH_SECONDS with the worker at its default
// settings (1 s poll), lag = received at the receiver − recorded (p50/p99). SQLite and PostgreSQL.
import { recordEvent } from "../src/events/record-event.ts";
import { startOutboxWorker } from "../src/events/outbox-worker.ts";
import { WebhookReceiver } from "../test/events/webhook-receiver.ts";
import { benchService } from "./bench-service.ts";

const EVENTS = Number(process.env.CA_BENCH_EVENTS ?? 5000);
const RATE = Number(process.env.CA_BENCH_RATE ?? 100);
const SECONDS = Number(process.env.CA_BENCH_SECONDS ?? 10);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

async function measure(dialect: "sqlite" | "postgres") {
  const receiver = new WebhookReceiver();
  await receiver.start();
  const svc = await benchService(dialect, { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: "bench-secret" });
  try {
    // Throughput: a backlog, as after a receiver outage.
    for (let i = 0; i < EVENTS; i += 500) {
      await svc.ctx.db.transaction().execute(async (trx) => {
        for (let j = i; j < Math.min(EVENTS, i + 500); j++) await recordEvent(trx, svc.ctx, { type: "connection.created", appId: "bench", userId: `u${j}` });
      });
    }
    const t0 = performance.now();
    const backlogWorker = startOutboxWorker(svc.ctx, { pollMs: 50 });
    while (receiver.deliveries.length < EVENTS) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - t0) / 1000;
    await backlogWorker.stop();
    receiver.deliveries.length = 0;

    // Lag at a steady rate, default worker settings.
    const worker = startOutboxWorker(svc.ctx);
    const recordedAt = new Map<string, number>();
    const total = RATE * SECONDS;
    for (let i = 0; i < total; i++) {
      const id = await recordEvent(svc.ctx.db, svc.ctx, { type: "connection.recovered", appId: "bench", userId: `r${i}` });
      recordedAt.set(id, Date.now());
      await new Promise((r) => setTimeout(r, 1000 / RATE));
    }
    while (receiver.deliveries.length < total) await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    const lags = receiver.deliveries.map((d) => d.receivedAt - recordedAt.get(d.id)!);
    return { dialect, backlog: EVENTS, eventsPerSecond: Math.round(EVENTS / seconds), lagEvents: total, lagP50Ms: pct(lags, 50), lagP99Ms: pct(lags, 99) };
  } finally {
    await svc.close();
    await receiver.stop();
  }
}

export async function run(): Promise<void> {
  const rows = [];
  for (const dialect of ["sqlite", "postgres"] as const) rows.push(await measure(dialect));
  console.table(rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run().then(() => process.exit(0));
