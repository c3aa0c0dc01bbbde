// Kysely over better-sqlite3 or pg, chosen by DATABASE_URL.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect } from "kysely";
import pg from "pg";
import type { Logger } from "pino";
import { postgresChangeFeed, sqliteChangeFeed, type ChangeFeed } from "./change-feed.ts";
import type { Dialect } from "./dialect.ts";
import { LocalWrites } from "./local-writes.ts";
import type { Database } from "./schema.ts";

// int8 (bigint: our epoch-ms columns, count(*)) as a JS number: every value we store fits
// in 2^53, and numbers compare and add without surprises.
pg.types.setTypeParser(20, (v) => Number(v));

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Starts the change feed (after migrations: it watches tables they create). */
  watchChanges(log: Logger): ChangeFeed;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Pool size on PostgreSQL. */
  poolSize?: number;
  onQuery?: (durationMs: number) => void;
}

// Kysely's SQLite driver prepares every query anew; preparing is the largest cost of a simple
// read (profiled: ~20% of GET /api/v1/apps/{id}). Our queries come from a fixed set of builders,
// so a bounded cache of prepared statements by SQL text removes that cost.
function withStatementCache(sqlite: BetterSqlite3.Database, max = 500) {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = sqlite.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    },
  };
}

export function openDatabase(url: string, opts: DatabaseOptions = {}): Store {
  const log = opts.onQuery
    ? (event: { queryDurationMillis: number }) => opts.onQuery!(event.queryDurationMillis)
    : undefined;
  if (url.startsWith("sqlite:")) {
    const path = url.slice("sqlite:".length);
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    const sqlite = new BetterSqlite3(path);
    // WAL lets readers go on while the one writer writes; busy_timeout waits out a short lock
    // (a CLI command next to `serve`) instead of failing at once.
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("synchronous = NORMAL");
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), ...(log ? { log } : {}) });
    let feed: ChangeFeed | undefined;
    return {
      db,
      dialect: "sqlite",
      watchChanges: () => (feed ??= sqliteChangeFeed(sqlite)),
      close: async () => {
        await feed?.close();
        await db.destroy();
      },
    };
  }
  const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  // An idle client's error (the server restarted) must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  const localWrites = new LocalWrites();
  // PostgresDialect with its driver wrapped, so local-writes.ts sees writes and transactions.
  const dialect = new (class extends PostgresDialect {
    override createDriver() {
      return localWrites.wrapDriver(super.createDriver());
    }
  })({ pool });
  const db = new Kysely<Database>({ dialect, ...(log ? { log } : {}) });
  let feed: ChangeFeed | undefined;
  return {
    db,
    dialect: "postgres",
    watchChanges: (logger) => (feed ??= postgresChangeFeed(url, logger, localWrites)),
    close: async () => {
      await feed?.close();
      await db.destroy();
    },
  };
}
