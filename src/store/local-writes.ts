// Read-your-writes for the read cache on PostgreSQL: NOTIFY arrives a moment after commit, so
// an instance that just changed an app or a connection must not answer from its cache in that
// moment. This Kysely plugin sees every UPDATE or DELETE this process runs on a cached table
// (builder or raw SQL) and reports the whole table changed once the statement has run.
// (SQLite needs none: its triggers call us synchronously, see change-feed.ts.)
import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from "kysely";
import type { RowChange } from "./change-feed.ts";

const CACHED_TABLES = new Set(["apps", "connections"]);

/** The cached tables a statement writes: none, some, or "*" when it cannot tell (raw SQL). */
export function cachedTablesWrittenBy(node: RootOperationNode): Array<RowChange["table"]> {
  if (node.kind === "RawNode") {
    const head = node.sqlFragments.join(" ").trimStart().slice(0, 6).toLowerCase();
    return head === "update" || head === "delete" ? ["*"] : [];
  }
  if (node.kind !== "UpdateQueryNode" && node.kind !== "DeleteQueryNode") return [];
  const target = node.kind === "UpdateQueryNode" ? node.table : node.from;
  return tableNames(target).filter((t): t is "apps" | "connections" => CACHED_TABLES.has(t));
}

function tableNames(node: unknown, found: string[] = []): string[] {
  if (node === null || typeof node !== "object") return found;
  const n = node as OperationNode & { table?: { identifier?: { name?: string } } };
  if (n.kind === "TableNode" && typeof n.table?.identifier?.name === "string") found.push(n.table.identifier.name);
  else for (const inner of Object.values(node)) tableNames(inner, found);
  return found;
}

export class LocalWritesPlugin implements KyselyPlugin {
  private readonly pending = new WeakMap<object, Array<RowChange["table"]>>();
  private listener: ((change: RowChange) => void) | undefined;

  onWrite(listener: (change: RowChange) => void): void {
    this.listener = listener;
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.listener) {
      const tables = cachedTablesWrittenBy(args.node);
      if (tables.length > 0) this.pending.set(args.queryId, tables);
    }
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    const tables = this.pending.get(args.queryId);
    if (tables) {
      this.pending.delete(args.queryId);
      for (const table of tables) this.listener?.(table === "*" ? { table: "*" } : { table });
    }
    return args.result;
  }
}
