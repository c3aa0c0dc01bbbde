// The change feed: tells this process when a row of a cached table (apps, connections) was
// updated or deleted by anyone (this process, a CLI command, another instance), so that
// read-cache.ts can keep hot rows in memory without serving them stale.
//
//   SQLite      TEMP triggers on this connection call a JS function (better-sqlite3 user
//               function) inside the writing statement: our own writes, raw SQL included, are
//               seen before the write returns. Other processes (a CLI command next to `serve`)
//               are seen by polling `PRAGMA data_version`, which moves only when another
//               connection commits (https://sqlite.org/pragma.html#pragma_data_version).
//   PostgreSQL  row triggers (migration 0002) NOTIFY on commit; one LISTEN connection per
//               instance. While it is not listening the feed is not `live` and caches step aside.
//               This process's own writes are reported at once by local-writes.ts. A
//               heartbeat on the LISTEN connection finds one that died without a word (a NAT
//               or a failover that sends no reset): notifications would be lost silently.
import type BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import type { Logger } from "pino";
import type { LocalWrites } from "./local-writes.ts";

/** A changed row (its table and cache key), a whole table (no key), or "*": anything may have changed. */
export type RowChange = { table: "apps" | "connections"; key?: string } | { table: "*" };

export interface ChangeFeed {
  /** False while changes could be missed (PostgreSQL listener down): caches must not be used. */
  readonly live: boolean;
  /** True while a transaction of this process has changed the table and not ended: cache nothing of it. */
  writing(table: "apps" | "connections"): boolean;
  subscribe(listener: (change: RowChange) => void): void;
  close(): Promise<void>;
}

/** The cache key of a connection: how readers look it up. */
export const connectionKey = (appId: string, userId: string) => `${appId}/${userId}`;

export const PG_CHANNEL = "connected_apps_rows";

class Listeners {
  private readonly list: Array<(change: RowChange) => void> = [];
  add(fn: (change: RowChange) => void) {
    this.list.push(fn);
  }
  emit(change: RowChange) {
    for (const fn of this.list) fn(change);
  }
}

/** Parses a NOTIFY payload of migration 0002: `apps:<id>` or `connections:<appId>/<userId>`. */
export function parseRowChange(payload: string): RowChange {
  const colon = payload.indexOf(":");
  const table = payload.slice(0, colon);
  const key = payload.slice(colon + 1);
  if (table === "apps" || table === "connections") return { table, key };
  return { table: "*" };
}

export function sqliteChangeFeed(sqlite: BetterSqlite3.Database, pollMs = 200): ChangeFeed {
  const listeners = new Listeners();
  sqlite.function("connected_apps_row_changed", { deterministic: false, varargs: false }, (table: unknown, key: unknown) => {
    listeners.emit(parseRowChange(`${String(table)}:${String(key)}`));
    return null;
  });
  // TEMP triggers live on this connection only: the schema stays plain, and another tool
  // writing the file (the sqlite3 shell) needs no function of ours; data_version covers it.
  for (const event of ["update", "delete"]) {
    sqlite.exec(`create temp trigger if not exists apps_${event}_feed after ${event} on main.apps
      begin select connected_apps_row_changed('apps', old.id); end`);
    sqlite.exec(`create temp trigger if not exists connections_${event}_feed after ${event} on main.connections
      begin select connected_apps_row_changed('connections', old.app_id || '/' || old.user_id); end`);
  }
  const dataVersion = sqlite.prepare("pragma data_version").pluck();
  let seen = dataVersion.get();
  const timer = setInterval(() => {
    try {
      const now = dataVersion.get();
      if (now !== seen) {
        seen = now;
        listeners.emit({ table: "*" });
      }
    } catch {
      // The database is closing; the next tick or close() ends this.
    }
  }, pollMs);
  timer.unref();
  return {
    live: true,
    // The one connection is held by a transaction until it ends: no read runs meanwhile.
    writing: () => false,
    subscribe: (fn) => listeners.add(fn),
    close: async () => clearInterval(timer),
  };
}

/** How often the LISTEN connection proves it is alive, and how long it may take to answer. */
export const HEARTBEAT_MS = 5_000;
const HEARTBEAT_TIMEOUT_MS = 3_000;

export function postgresChangeFeed(connectionString: string, log: Logger, localWrites: LocalWrites, opts: { heartbeatMs?: number; heartbeatTimeoutMs?: number } = {}): ChangeFeed {
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? HEARTBEAT_TIMEOUT_MS;
  const listeners = new Listeners();
  localWrites.onWrite((change) => listeners.emit(change));
  let live = false;
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 250;

  // A client is let go with at most `graceMs` for a polite goodbye, then its socket is cut:
  // end() on a dead socket can wait as long as TCP does.
  const discard = async (c: pg.Client, graceMs = 0) => {
    c.removeAllListeners();
    c.on("error", () => {});
    const ended = c.end().catch(() => {});
    if (graceMs > 0) await Promise.race([ended, new Promise((r) => setTimeout(r, graceMs).unref())]);
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };

  const heartbeat = setInterval(() => {
    const c = client;
    if (!c || !live) return;
    const timer = setTimeout(() => {
      if (client === c) down(new Error(`no answer to the heartbeat within ${heartbeatTimeoutMs} ms`));
    }, heartbeatTimeoutMs);
    c.query("select 1").then(
      () => clearTimeout(timer),
      (err: Error) => {
        clearTimeout(timer);
        if (client === c) down(err);
      },
    );
  }, opts.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref();

  const down = (err?: Error) => {
    if (live) log.warn({ err: err?.message }, "row change listener lost; caches off until it is back");
    live = false;
    listeners.emit({ table: "*" });
    if (client) void discard(client);
    client = undefined;
    if (!closed && !retry) {
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, delay);
      retry.unref();
      delay = Math.min(delay * 2, 10_000);
    }
  };

  const connect = async () => {
    const c = new pg.Client({ connectionString, keepAlive: true });
    client = c;
    c.on("error", down);
    c.on("end", () => down());
    c.on("notification", (n) => listeners.emit(parseRowChange(n.payload ?? "")));
    try {
      await c.connect();
      await c.query(`listen ${PG_CHANNEL}`);
      if (closed) return void (await c.end());
      // Anything may have changed while nobody listened.
      listeners.emit({ table: "*" });
      live = true;
      delay = 250;
    } catch (err) {
      if (client === c) down(err as Error);
    }
  };
  void connect();

  return {
    get live() {
      return live;
    },
    writing: (table) => localWrites.writing(table),
    subscribe: (fn) => listeners.add(fn),
    close: async () => {
      closed = true;
      live = false;
      clearTimeout(retry);
      clearInterval(heartbeat);
      const c = client;
      client = undefined;
      if (c) await discard(c, 1000);
    },
  };
}
