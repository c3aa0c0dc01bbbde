// Read latency while the refresher runs: p50/p99 of GET .../token (200 reads/s) over 10,000 connections
// whose tokens all expire during the run (the background refresher renews them ahead), against
// the same reads when nothing needs refreshing. Also counts the reads that had to wait on the
// provider (aim: none). SQLite and PostgreSQL; a loopback token endpoint; the load from a
// process of its own (CA_BENCH_SECONDS, CA_BENCH_ROUNDS, CA_BENCH_RATE, CA_BENCH_USERS).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { nextRefreshAt, refreshSettings, setRefreshSettings } from "../src/connections/refresh-policy.ts";
import { startRefresher } from "../src/connections/refresher.ts";
import { createApp } from "../src/apps/app-service.ts";
import { FakeTokenEndpoint } from "../test/connections/fake-token-endpoint.ts";
import { benchService } from "./bench-service.ts";
import { seedConnections } from "./seed-connections.ts";

const USERS = Number(process.env.CA_BENCH_USERS ?? 10_000);
const SECONDS = Number(process.env.CA_BENCH_SECONDS ?? 60);
const RATE = Number(process.env.CA_BENCH_RATE ?? 200);
const ROUNDS = Number(process.env.CA_BENCH_ROUNDS ?? 2);
const LOADER = fileURLToPath(new URL("./random-user-load.mjs", import.meta.url));

interface LoadFigures {
  average: number;
  p50: number;
  p99: number;
  non2xx: number;
}

async function randomUserLoad(url: string, headers: Record<string, string>): Promise<LoadFigures> {
  const { stdout } = await promisify(execFile)(process.execPath, [LOADER, JSON.stringify({ url, appId: "bench", users: USERS, seconds: SECONDS, rate: RATE, headers })]);
  return JSON.parse(stdout) as LoadFigures;
}

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
    const r = await randomUserLoad(svc.url, svc.headers);
    await refresher?.stop();
    const waited = (await svc.ctx.metrics.tokenReadsWaited.get()).values.reduce((n, v) => n + v.value, 0);
    return {
      dialect,
      refresher: refreshing ? "on, all tokens expire" : "nothing to refresh",
      rps: Math.round(r.average),
      p50Ms: r.p50,
      p99Ms: r.p99,
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
      // p99 at a moderate rate swings between identical runs here: alternate the two settings
      // for a few rounds and compare their medians.
      const rows = [];
      for (let round = 0; round < ROUNDS; round++) rows.push({ round, ...(await measure(fake, dialect, false)) }, { round, ...(await measure(fake, dialect, true)) });
      console.table(rows);
      const median = (xs: number[]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const mid = sorted.length / 2;
        return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
      };
      const off = median(rows.filter((r) => r.refresher === "nothing to refresh").map((r) => r.p99Ms));
      const on = median(rows.filter((r) => r.refresher !== "nothing to refresh").map((r) => r.p99Ms));
      console.log(`${dialect}: median p99 with the refresher ${on} ms / without ${off} ms: ${(on / Math.max(off, 0.001)).toFixed(2)}; reads that waited: ${rows.reduce((n, r) => n + r.readsThatWaited, 0)}`);
    }
  } finally {
    await fake.close();
  }
}
