// Memory: the service's RSS with 100,000 connections stored against an empty database, each
// measured after the same work (a refresher look, 1,000 token reads of random users), to show
// that nothing holds connections in memory. SQLite and PostgreSQL.
import { randomBytes } from "node:crypto";
import { startRefresher } from "../src/connections/refresher.ts";
import { benchService, type BenchService } from "./bench-service.ts";
import { seedConnections } from "./seed-connections.ts";

const CONNECTIONS = Number(process.env.CA_BENCH_MEMORY_CONNECTIONS ?? 100_000);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function seed(svc: BenchService, count: number) {
  const now = Date.now();
  await seedConnections(svc.ctx, "mem", count, () => ({
    accessToken: `at-${randomBytes(16).toString("hex")}`,
    refreshToken: `rt-${randomBytes(16).toString("hex")}`,
    expiresAt: now + 3600_000,
    nextRefreshAt: now + 3000_000,
  }));
}

async function workAndMeasure(svc: BenchService, users: number): Promise<number> {
  const refresher = startRefresher(svc.ctx, { autoStart: false });
  await refresher.tick();
  await refresher.stop();
  for (let i = 0; i < 1_000; i++) {
    const res = await fetch(`${svc.url}/api/v1/apps/mem/connections/u${Math.floor(Math.random() * Math.max(users, 1))}/token`, { headers: svc.headers });
    await res.arrayBuffer();
  }
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((r) => setTimeout(r, 200));
  return process.memoryUsage().rss;
}

export async function run(): Promise<void> {
  const rows = [];
  for (const dialect of ["sqlite", "postgres"] as const) {
    const svc = await benchService(dialect);
    try {
      await fetch(`${svc.url}/api/v1/apps`, { method: "POST", headers: svc.headers, body: JSON.stringify({ id: "mem", name: "Mem", clientId: "c", tokenEndpoint: "https://mem.test/token" }) });
      const empty = await workAndMeasure(svc, 0);
      const t0 = performance.now();
      await seed(svc, CONNECTIONS);
      const seeded = performance.now() - t0;
      const full = await workAndMeasure(svc, CONNECTIONS);
      rows.push({ dialect, connections: CONNECTIONS, rssEmptyMb: mb(empty), rssFullMb: mb(full), ratio: Number((full / empty).toFixed(2)), seedSeconds: Number((seeded / 1000).toFixed(1)) });
    } finally {
      await svc.close();
    }
  }
  console.table(rows);
  console.log("RSS of the whole bench process (service + client), after the same work on each database.");
}
