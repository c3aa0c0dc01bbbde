// Read-your-writes for the read cache on PostgreSQL. NOTIFY arrives a moment after commit, so
// an instance that just changed an app or a connection must not answer from its cache in that
// moment, nor fill its cache with the old row while its own transaction is still open (another
// pool connection still reads the committed, old row then).
//
// This wraps Kysely's driver (a plugin cannot see transactions): every UPDATE or DELETE this
// process runs on a cached table, builder or raw SQL, drops that table's rows at once; inside a
// transaction the table also counts as `writing` until commit or rollback, when its rows are
// dropped again. The read cache caches nothing for a table that is `writing`.
// (SQLite needs none of this: its triggers call us synchronously, and its one connection is
// held by a transaction until it ends, see change-feed.ts.)
import type { DatabaseConnection, Driver, RootOperationNode, TransactionSettings } from "kysely";
import type { RowChange } from "./change-feed.ts";

type CachedTable = "apps" | "connections";
const CACHED_TABLES = new Set<string>(["apps", "connections"]);

/** The cached tables a statement writes: none, some, or "*" when it cannot tell (raw SQL). */
export function cachedTablesWrittenBy(node: RootOperationNode): Array<CachedTable | "*"> {
  if (node.kind === "RawNode") {
    const head = node.sqlFragments.join(" ").trimStart().slice(0, 6).toLowerCase();
    return head === "update" || head === "delete" ? ["*"] : [];
  }
  if (node.kind !== "UpdateQueryNode" && node.kind !== "DeleteQueryNode") return [];
  const target = node.kind === "UpdateQueryNode" ? node.table : node.from;
  const tables = tableNames(target).filter((t): t is CachedTable => CACHED_TABLES.has(t));
  // ON DELETE CASCADE: deleting an app deletes its connections.
  if (node.kind === "DeleteQueryNode" && tables.includes("apps") && !tables.includes("connections")) tables.push("connections");
  return tables;
}

function tableNames(node: unknown, found: string[] = []): string[] {
  if (node === null || typeof node !== "object") return found;
  const n = node as { kind?: string; table?: { identifier?: { name?: string } } };
  if (n.kind === "TableNode" && typeof n.table?.identifier?.name === "string") found.push(n.table.identifier.name);
  else for (const inner of Object.values(node)) tableNames(inner, found);
  return found;
}

const ALL: CachedTable[] = ["apps", "connections"];

export class LocalWrites {
  private listener: ((change: RowChange) => void) | undefined;
  /** Open transactions that wrote each table. */
  private readonly openWriters = new Map<CachedTable, number>();

  onWrite(listener: (change: RowChange) => void): void {
    this.listener = listener;
  }

  /** True while a transaction of this process has written the table and not ended. */
  writing(table: CachedTable): boolean {
    return (this.openWriters.get(table) ?? 0) > 0;
  }

  private dropRows(tables: Iterable<CachedTable>) {
    for (const table of tables) this.listener?.({ table });
  }

  wrapDriver(driver: Driver): Driver {
    const inner = new WeakMap<DatabaseConnection, DatabaseConnection>();
    /** Per wrapped connection in a transaction: the cached tables it has written. */
    const transactions = new WeakMap<DatabaseConnection, Set<CachedTable>>();
    const unwrap = (c: DatabaseConnection) => inner.get(c) ?? c;

    const afterWrite = (conn: DatabaseConnection, written: Array<CachedTable | "*">) => {
      const tables = written.includes("*") ? ALL : (written as CachedTable[]);
      const open = transactions.get(conn);
      if (open) {
        for (const t of tables) {
          if (open.has(t)) continue;
          open.add(t);
          this.openWriters.set(t, (this.openWriters.get(t) ?? 0) + 1);
        }
      }
      this.dropRows(tables);
    };
    const endTransaction = (conn: DatabaseConnection) => {
      const open = transactions.get(conn);
      transactions.delete(conn);
      if (!open) return;
      for (const t of open) this.openWriters.set(t, (this.openWriters.get(t) ?? 1) - 1);
      this.dropRows(open);
    };

    return {
      init: () => driver.init(),
      acquireConnection: async () => {
        const raw = await driver.acquireConnection();
        const wrapped: DatabaseConnection = {
          executeQuery: async (compiled) => {
            const written = cachedTablesWrittenBy(compiled.query);
            const result = await raw.executeQuery(compiled);
            if (written.length > 0) afterWrite(wrapped, written);
            return result as never;
          },
          streamQuery: (compiled, chunkSize) => raw.streamQuery(compiled, chunkSize),
        };
        inner.set(wrapped, raw);
        return wrapped;
      },
      beginTransaction: async (conn: DatabaseConnection, settings: TransactionSettings) => {
        await driver.beginTransaction(unwrap(conn), settings);
        transactions.set(conn, new Set());
      },
      commitTransaction: async (conn) => {
        try {
          await driver.commitTransaction(unwrap(conn));
        } finally {
          endTransaction(conn);
        }
      },
      rollbackTransaction: async (conn) => {
        try {
          await driver.rollbackTransaction(unwrap(conn));
        } finally {
          endTransaction(conn);
        }
      },
      ...(driver.savepoint ? { savepoint: (conn, name, compile) => driver.savepoint!(unwrap(conn), name, compile) } : {}),
      ...(driver.rollbackToSavepoint ? { rollbackToSavepoint: (conn, name, compile) => driver.rollbackToSavepoint!(unwrap(conn), name, compile) } : {}),
      ...(driver.releaseSavepoint ? { releaseSavepoint: (conn, name, compile) => driver.releaseSavepoint!(unwrap(conn), name, compile) } : {}),
      releaseConnection: async (conn) => {
        // A connection released with its transaction still marked (it cannot be, but if it
        // were) must not keep the table `writing` for ever.
        endTransaction(conn);
        await driver.releaseConnection(unwrap(conn));
      },
      destroy: () => driver.destroy(),
    };
  }
}
