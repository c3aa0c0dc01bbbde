// A read-through cache of hot rows (an app, a connection's sealed tokens), kept exact by the
// change feed: a row is dropped the moment the feed reports it changed, and a read that was in
// flight while its row changed is not cached (it may hold the old row). While the feed is not
// live every read goes to the database.
//
// Why: a token read is the hot path of the service, and the database round trip was its
// largest cost (profiled: a primary-key SELECT took ~40% of GET .../token under load).
// Values stay as stored: tokens remain sealed in memory and are opened per read.
import type { ChangeFeed, RowChange } from "./change-feed.ts";

interface Fill {
  stale: boolean;
}

/**
 * The longest a row is served from memory without a fresh look. The feed is what keeps rows
 * exact; this is the backstop for a change it could not report (a notification lost while
 * its connection died unnoticed, between two heartbeats).
 */
export const MAX_AGE_MS = 30_000;

export class ReadCache<T> {
  private readonly rows = new Map<string, { row: T; until: number }>();
  private readonly filling = new Map<string, Set<Fill>>();

  constructor(
    private readonly feed: ChangeFeed,
    private readonly table: Exclude<RowChange["table"], "*">,
    private readonly maxRows = 10_000,
    private readonly onRead: (result: "hit" | "miss" | "bypass") => void = () => {},
    private readonly maxAgeMs = MAX_AGE_MS,
  ) {
    feed.subscribe((change) => {
      if (change.table === "*" || (change.table === this.table && change.key === undefined)) this.clear();
      else if (change.table === this.table) this.invalidate(change.key!);
    });
  }

  /** The cached row, or `load()`'s answer (cached when nothing changed it meanwhile). */
  async read(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    if (!this.feed.live) {
      this.onRead("bypass");
      return load();
    }
    const cached = this.rows.get(key);
    const hit = cached !== undefined && cached.until > performance.now() ? cached.row : undefined;
    this.onRead(hit === undefined ? "miss" : "hit");
    if (hit !== undefined) return hit;
    const fill: Fill = { stale: false };
    let fills = this.filling.get(key);
    if (!fills) this.filling.set(key, (fills = new Set()));
    fills.add(fill);
    try {
      // Frozen: one cached object is shared by every reader, so none may change it.
      const row = deepFreeze(await load());
      // Absent rows are not cached: an insert is not on the feed, and a miss is rare.
      if (row !== undefined && !fill.stale && this.feed.live && !this.feed.writing(this.table)) {
        if (this.rows.size >= this.maxRows && !this.rows.has(key)) this.rows.delete(this.rows.keys().next().value!);
        this.rows.set(key, { row, until: performance.now() + this.maxAgeMs });
      }
      return row;
    } finally {
      fills.delete(fill);
      if (fills.size === 0) this.filling.delete(key);
    }
  }

  invalidate(key: string): void {
    this.rows.delete(key);
    for (const fill of this.filling.get(key) ?? []) fill.stale = true;
  }

  clear(): void {
    this.rows.clear();
    for (const fills of this.filling.values()) for (const fill of fills) fill.stale = true;
  }

  get size(): number {
    return this.rows.size;
  }
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
