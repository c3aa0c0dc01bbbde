// Read latency while the refresher runs: p50/p99 of GET .../token (200 reads/s) over 10,000 connections
// whose tokens all expire during the run (the background refresher renews them ahead), against
// the same reads when nothing needs refreshing. Also counts the reads that had to wait on the
// provider (aim: none). SQLite and PostgreSQL; a loopback token endpoint.
import autocannon from "autocannon";
import { nextRefreshAt, refreshSettings, setRefreshSettings } from "../src/connections/refresh-policy.ts";
import { startRefresher } from "../src/connections/refresher.ts";
import { createApp } from "../src/apps/app-service.ts";
import { FakeTokenEndpoint } from "../test/connections/fake-token-endpoint.ts";
import { benchService } from "./bench-service.ts";
import { seedConnections } from "./seed-connections.ts";

const USERS = Number(process.env.CA_BENCH_USERS ?? 10_000);
const SECONDS = Number(process.env.CA_BENCH_SECONDS ?? 60);
const RATE = Number(process.env.CA_BENCH_RATE ?? 200);

async function measure(fake: FakeTokenEndpoint, dialect: "sqlite" | "postgres", refreshing: boolean) {
  const svc = await benchService(dialect);
  try {
    await createApp(svc.ctx, fake.appBody("bench"));
    setRefreshSettings(svc.ctx, { marginMs: 10_000, jitterMs: 2_000, refresherIntervalMs: 250, perAppConcurrency: 8 });
    const s = refreshSettings(svc.ctx);
    const now = Date.now();
    await seedConnections(svc.ctx, "bench", USERS, (i) => {
      const g = fake.issue();
      // Refreshing: expiries spread from 12 s to the end of the run; otherwise an hour away.
      const expiresAt = refreshing ? now + 12_000 + Math.floor((i / USERS) * (SECONDS - 12) * 1000) : now + 3600_000;
      return { accessToken: g.accessToken, refreshToken: g.refreshToken, expiresAt, nextRefreshAt: refreshing ? nextRefreshAt(s, { now, expiresAt, hasRefreshToken: true }) : null };
    });
    const refresher = refreshing ? startRefresher(svc.ctx) : undefined;
    const callsBefore = fake.refreshCalls;
    const r = await autocannon({
      url: svc.url,
      duration: SECONDS,
      connections: 20,
      // A fixed, moderate rate: latency at saturation measures the CPU, not the design.
      overallRate: RATE,
      headers: svc.headers,
      requests: [
        {
          method: "GET",
          setupRequest: (req) => ({ ...req, path: `/api/v1/apps/bench/connections/u${Math.floor(Math.random() * USERS)}/token?minValidity=1` }),
        },
      ],
    });
    await refresher?.stop();
    const waited = (await svc.ctx.metrics.tokenReadsWaited.get()).values.reduce((n, v) => n + v.value, 0);
    return {
      dialect,
      refresher: refreshing ? "on, all tokens expire" : "nothing to refresh",
      rps: Math.round(r.requests.average),
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      non2xx: r.non2xx,
      refreshesAtProvider: fake.refreshCalls - callsBefore,
      readsThatWaited: waited,
    };
  } finally {
    await svc.close();
  }
}

export async function run(): Promise<void> {
  const fake = await FakeTokenEndpoint.start();
  try {
    for (const dialect of ["sqlite", "postgres"] as const) {
      const off = await measure(fake, dialect, false);
      const on = await measure(fake, dialect, true);
      console.table([off, on]);
      console.log(`${dialect}: p99 with the refresher / without: ${(on.p99Ms / Math.max(off.p99Ms, 0.001)).toFixed(2)}`);
    }
  } finally {
    await fake.close();
  }
}
