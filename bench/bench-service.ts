// A real listening service for benchmarks: quiet logs, its own database (temp SQLite file or a
// fresh PostgreSQL database on the machine's server, CA_BENCH_PG_URL to override).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createApiKey } from "../src/api-keys/api-key-service.ts";
import { loadConfig } from "../src/config/config.ts";
import { buildKeyring, formatKeyring, generateKey } from "../src/crypto/keyring.ts";
import { buildServer } from "../src/http/server.ts";
import { createLogger } from "../src/log/logger.ts";
import { openContext, type OpenedContext } from "../src/runtime/open-context.ts";

export const pgAdminUrl = process.env.CA_BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface BenchService {
  ctx: OpenedContext;
  url: string;
  headers: Record<string, string>;
  databaseUrl: string;
  close(): Promise<void>;
}

export async function benchDatabase(dialect: "sqlite" | "postgres"): Promise<{ url: string; dir: string; drop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "ca-bench-"));
  if (dialect === "sqlite") return { url: `sqlite:${join(dir, "bench.db")}`, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  const name = `ca_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dir,
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: pgAdminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export async function benchService(dialect: "sqlite" | "postgres", env: Record<string, string> = {}): Promise<BenchService> {
  const db = await benchDatabase(dialect);
  const config = loadConfig({
    DATABASE_URL: db.url,
    CONNECTED_APPS_DATA_DIR: db.dir,
    CONNECTED_APPS_KEYS: formatKeyring(buildKeyring([generateKey()])),
    CONNECTED_APPS_ALLOW_PRIVATE_URLS: "true",
    LOG_LEVEL: "warn",
    PORT: "0",
    ...env,
  });
  const ctx = await openContext(config, { log: createLogger("warn"), metricsDefaults: false });
  const server = await buildServer(ctx);
  await server.listen({ port: 0, host: "127.0.0.1" });
  const addr = server.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  const { key } = await createApiKey(ctx, "bench");
  return {
    ctx,
    url: `http://127.0.0.1:${port}`,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    databaseUrl: db.url,
    close: async () => {
      await server.close();
      await ctx.close();
      await db.drop();
    },
  };
}
