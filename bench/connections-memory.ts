// Memory: the service's RSS with 100,000 connections stored against an empty database, each
// measured after the same work (a refresher look, 1,000 token reads of random users), to show
// that nothing holds connections in memory. SQLite and PostgreSQL.
import { randomBytes } from "node:crypto";
import { newConnectionId } from "../src/connections/connection-store.ts";
import { startRefresher } from "../src/connections/refresher.ts";
import { seal } from "../src/crypto/seal.ts";
import { benchService, type BenchService } from "./bench-service.ts";

const CONNECTIONS = Number(process.env.CA_BENCH_MEMORY_CONNECTIONS ?? 100_000);
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

async function seed(svc: BenchService, count: number) {
  const now = Date.now();
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const id = newConnectionId();
      const bind = (field: string) => ({ table: "connections", id, field });
      rows.push({
        id,
        app_id: "mem",
        user_id: `u${i}`,
        status: "active",
        scopes: '["read"]',
        account_sub: `sub-${i}`,
        account_email: null,
        account_name: null,
        access_token: seal(svc.ctx.keyring, `at-${randomBytes(16).toString("hex")}`, bind("access_token")),
        refresh_token: seal(svc.ctx.keyring, `rt-${randomBytes(16).toString("hex")}`, bind("refresh_token")),
        id_token: null,
        token_type: "Bearer",
        expires_at: now + 3600_000,
        last_refreshed_at: null,
        last_error: null,
        version: 1,
        next_refresh_at: now + 3000_000,
        lease_owner: null,
        lease_until: null,
        refresh_failures: 0,
        created_at: now,
        updated_at: now,
      });
    }
    await svc.ctx.db.insertInto("connections").values(rows).execute();
  }
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
