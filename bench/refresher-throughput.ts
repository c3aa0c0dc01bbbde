// Refresher throughput: due connections refreshed per second against a loopback token
// endpoint, with 1, 2 and 3 instances (contexts with their own pools and refreshers) sharing
// one PostgreSQL database, and one on SQLite. Also checks the work was split without a double
// refresh (refresh calls at the provider == connections) and nothing was marked.
import { createApp } from "../src/apps/app-service.ts";
import { loadConfig } from "../src/config/config.ts";
import { saveConnection } from "../src/connections/connection-service.ts";
import { setRefreshSettings } from "../src/connections/refresh-policy.ts";
import { startRefresher } from "../src/connections/refresher.ts";
import { buildKeyring, formatKeyring, generateKey } from "../src/crypto/keyring.ts";
import { createLogger } from "../src/log/logger.ts";
import { openContext, type OpenedContext } from "../src/runtime/open-context.ts";
import { FakeTokenEndpoint } from "../test/connections/fake-token-endpoint.ts";
import { benchDatabase } from "./bench-service.ts";

const CONNECTIONS = Number(process.env.CA_BENCH_CONNECTIONS ?? 1_000);

async function measure(fake: FakeTokenEndpoint, dialect: "sqlite" | "postgres", instances: number) {
  const db = await benchDatabase(dialect);
  const keys = formatKeyring(buildKeyring([generateKey()]));
  const env = { DATABASE_URL: db.url, CONNECTED_APPS_DATA_DIR: db.dir, CONNECTED_APPS_KEYS: keys, CONNECTED_APPS_ALLOW_PRIVATE_URLS: "true" };
  const contexts: OpenedContext[] = [];
  try {
    for (let i = 0; i < instances; i++) contexts.push(await openContext(loadConfig(env), { log: createLogger("error"), metricsDefaults: false }));
    const ctx = contexts[0]!;
    await createApp(ctx, fake.appBody("bench"));
    for (let i = 0; i < CONNECTIONS; i++) {
      const g = fake.issue();
      await saveConnection(ctx, {
        appId: "bench",
        userId: `u${i}`,
        tokens: { accessToken: g.accessToken, refreshToken: g.refreshToken, tokenType: "Bearer", idToken: null, expiresIn: 3600, scopes: null },
        account: { sub: null, email: null, name: null },
        requestedScopes: [],
      });
    }
    for (const c of contexts) setRefreshSettings(c, { refresherIntervalMs: 20, refresherBatch: 50, perAppConcurrency: 8 });
    await ctx.db.updateTable("connections").set({ next_refresh_at: Date.now() }).execute();
    const callsBefore = fake.refreshCalls;
    const started = performance.now();
    const refreshers = contexts.map((c) => startRefresher(c));
    for (;;) {
      const done = await ctx.db
        .selectFrom("connections")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("last_refreshed_at", "is not", null)
        .executeTakeFirstOrThrow();
      if (Number(done.n) >= CONNECTIONS) break;
      if (performance.now() - started > 300_000) throw new Error("refresher bench did not finish in 5 minutes");
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(refreshers.map((r) => r.stop()));
    const marked = await ctx.db.selectFrom("connections").select("id").where("status", "!=", "active").execute();
    return { dialect, instances, connections: CONNECTIONS, seconds: Number(seconds.toFixed(2)), perSecond: Math.round(CONNECTIONS / seconds), refreshCalls: fake.refreshCalls - callsBefore, marked: marked.length };
  } finally {
    for (const c of contexts) await c.close();
    await db.drop();
  }
}

export async function run(): Promise<void> {
  const fake = await FakeTokenEndpoint.start();
  try {
    const rows = [await measure(fake, "sqlite", 1)];
    for (const n of [1, 2, 3]) rows.push(await measure(fake, "postgres", n));
    const base = rows[1]!.perSecond;
    console.table(rows.map((r) => ({ ...r, scalingVsOnePg: r.dialect === "postgres" ? Number((r.perSecond / base).toFixed(2)) : "-" })));
  } finally {
    await fake.close();
  }
}
