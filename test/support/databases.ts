// Every storage-touching suite runs on both databases: describe.each(dialects).
// Each call gets a database of its own (a temp SQLite file, or a fresh PostgreSQL database),
// so suites running in parallel never see each other's rows.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import type { Dialect } from "../../src/store/dialect.ts";

export const dialects: Dialect[] = ["sqlite", "postgres"];

export interface TestDatabase {
  url: string;
  dialect: Dialect;
  /** Temp directory (keys file, SQLite file). */
  dir: string;
  drop(): Promise<void>;
}

export function pgAdminUrl(): string {
  return inject("pgAdminUrl");
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "ca-test-"));
  if (dialect === "sqlite") {
    return { url: `sqlite:${join(dir, "test.db")}`, dialect, dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `ca_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: pgAdminUrl() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dialect,
    dir,
    drop: async () => {
      rmSync(dir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: pgAdminUrl() });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}
