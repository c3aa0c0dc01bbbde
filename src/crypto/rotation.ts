// Key rotation (SPEC §3 `keys rotate`): a new primary key, then every sealed value re-sealed
// with it while the service keeps serving.
//
// - The new key reaches the keys file before any row is re-sealed with it, so instances that
//   read the file (keyring-reload.ts) can open what rotation writes.
// - Each row is rewritten with compare-and-swap on its old sealed values: a concurrent token
//   write wins, and the row is looked at again in the next pass.
// - Rows already on the new primary are skipped, so a rotation is idempotent, and one stopped
//   half-way resumes: the rotation in progress is noted in meta and a re-run finishes it
//   instead of adding yet another key.
import { sql, type Kysely } from "kysely";
import type { Context } from "../context.ts";
import { recordEvent } from "../events/record-event.ts";
import type { Database } from "../store/schema.ts";
import { buildKeyring, generateKey, KeyringError, type Keyring } from "./keyring.ts";
import { resealKeyringCanary } from "./keyring-check.ts";
import { keysFilePath, writeKeysFile } from "./keyring-source.ts";
import { open, seal, sealedKid } from "./seal.ts";

/** Every sealed column, with the column that identifies its row (the seal binding's id). */
export const sealedColumns = [
  { table: "apps", key: "id", columns: ["client_secret"] },
  { table: "app_tokens", key: "app_id", columns: ["access_token"] },
  { table: "connections", key: "id", columns: ["access_token", "refresh_token", "id_token"] },
  { table: "connect_transactions", key: "state_hash", columns: ["code_verifier"] },
] as const;

type SealedTable = (typeof sealedColumns)[number];

const PENDING_KEY = "key_rotation";

export interface RotationOptions {
  /** Rows per batch (one short transaction each). */
  batchSize?: number;
  /** False: re-seal with the current primary, adding no key (the keys were changed by hand). */
  addKey?: boolean;
  /** Called after each batch is committed (progress output; tests stop a rotation here). */
  onBatch?: (progress: { table: string; resealed: number }) => void | Promise<void>;
  /** Called once the new key exists, before any row is re-sealed with it (print it then: a crash must not lose it). */
  onNewKey?: (ring: { kid: string; envValue: string | undefined }) => void;
  /** How long to let instances polling the keys file pick up the new key before re-sealing. */
  propagationMs?: number;
}

export interface RotationResult {
  kid: string;
  previousKid: string;
  /** True when this run finished a rotation an earlier run had started. */
  resumed: boolean;
  /** Values re-sealed by this run, per table. */
  resealed: Record<string, number>;
  total: number;
  /** Values still on an older key after the last pass (written meanwhile by instances that still seal with it). */
  remaining: number;
  /** How long the re-sealing took. */
  elapsedMs: number;
  /** The new CONNECTED_APPS_KEYS value, when the keys come from the environment. */
  envValue: string | undefined;
}

type RotationContext = Pick<Context, "db" | "dialect" | "config" | "keyring" | "clock" | "log">;

async function readPending(db: Kysely<Database>): Promise<{ kid: string; previousKid: string } | undefined> {
  const row = await db.selectFrom("meta").select("value").where("key", "=", PENDING_KEY).executeTakeFirst();
  return row ? (JSON.parse(row.value) as { kid: string; previousKid: string }) : undefined;
}

async function writePending(db: Kysely<Database>, pending: { kid: string; previousKid: string }): Promise<void> {
  const value = JSON.stringify(pending);
  await db.insertInto("meta").values({ key: PENDING_KEY, value }).onConflict((oc) => oc.column("key").doUpdateSet({ value })).execute();
}

function formatEnv(ring: Keyring): string {
  return ring.keys.map((k) => `${k.kid}:${k.key.toString("base64")}`).join(",");
}

// The helpers below take their table and columns from the fixed list above at run time, which
// Kysely's per-table types cannot follow; hence the untyped builders (`any`) in them.

/** SQL condition: `column` holds a value not sealed with `kid`. */
function notOnKid(column: string, kid: string) {
  const prefix = `v1.${kid}.`;
  return (eb: any) => eb.and([eb(column, "is not", null), eb(eb.fn("substr", [eb.ref(column), eb.lit(1), eb.lit(prefix.length)]), "!=", prefix)]);
}

/**
 * Re-seals a batch in one UPDATE ... FROM (VALUES ...) statement (one round trip, not one per
 * row), each row matched on its key AND on every sealed value as read: compare-and-swap per row,
 * so a row rewritten meanwhile is left as its writer left it. Answers the values rewritten.
 */
async function casBatch(ctx: RotationContext, t: SealedTable, rows: Array<Record<string, string | null>>, kid: string): Promise<number> {
  const changes: Array<{ id: string; old: Array<string | null>; next: Array<string | null>; count: number }> = [];
  for (const row of rows) {
    const id = row[t.key]!;
    let count = 0;
    const old = t.columns.map((c) => row[c] ?? null);
    const next = t.columns.map((column, i) => {
      const value = old[i]!;
      if (value === null || sealedKid(value) === kid) return value;
      count++;
      const binding = { table: t.table, id, field: column };
      return seal(ctx.keyring, open(ctx.keyring, value, binding), binding);
    });
    if (count > 0) changes.push({ id, old, next, count });
  }
  if (changes.length === 0) return 0;
  const same = ctx.dialect === "postgres" ? sql`is not distinct from` : sql`is`;
  // VALUES columns are column1, column2, ... on both databases: key, then old/new per column.
  const v = (n: number) => sql.ref(`v.column${n}`);
  const values = sql.join(changes.map((c) => sql`(${sql.join([c.id, ...c.old.flatMap((o, i) => [o, c.next[i]!])])})`));
  const sets = sql.join(t.columns.map((column, i) => sql`${sql.ref(column)} = ${v(3 + 2 * i)}`));
  const matches = sql.join([sql`t.${sql.ref(t.key)} = ${v(1)}`, ...t.columns.map((column, i) => sql`t.${sql.ref(column)} ${same} ${v(2 + 2 * i)}`)], sql` and `);
  const updated = await sql<Record<string, string>>`update ${sql.table(t.table)} as t set ${sets} from (values ${values}) as v where ${matches} returning ${sql.ref(t.key)} as k`.execute(ctx.db);
  const done = new Set(updated.rows.map((r) => r.k));
  return changes.filter((c) => done.has(c.id)).reduce((n, c) => n + c.count, 0);
}

/** Re-seals one table's values that are not on the primary; answers how many it rewrote. */
async function resealTable(ctx: RotationContext, t: SealedTable, batchSize: number, onBatch: RotationOptions["onBatch"]): Promise<number> {
  const kid = ctx.keyring.primary.kid;
  const db = ctx.db as unknown as Kysely<any>;
  let after: string | undefined;
  let resealed = 0;
  for (;;) {
    let q = db
      .selectFrom(t.table)
      .select([t.key, ...t.columns])
      .where((eb: any) => eb.or(t.columns.map((c) => notOnKid(c, kid)(eb))))
      .orderBy(t.key)
      .limit(batchSize);
    if (after !== undefined) q = q.where(t.key, ">", after);
    const rows = (await q.execute()) as Array<Record<string, string | null>>;
    if (rows.length === 0) return resealed;
    after = rows[rows.length - 1]![t.key]!;
    const inBatch = await casBatch(ctx, t, rows, kid);
    resealed += inBatch;
    await onBatch?.({ table: t.table, resealed: inBatch });
  }
}

/** How many sealed values (the keyring canary included) are sealed with `kid`. */
export async function countSealedWith(db: Kysely<Database>, kid: string): Promise<number> {
  const prefix = `v1.${kid}.`;
  const anyDb = db as unknown as Kysely<any>;
  let n = 0;
  for (const t of [...sealedColumns, { table: "meta", key: "key", columns: ["value"] }]) {
    for (const column of t.columns) {
      const row = await anyDb
        .selectFrom(t.table)
        .select((eb: any) => eb.fn.countAll().as("n"))
        .where((eb: any) => eb(eb.fn("substr", [eb.ref(column), eb.lit(1), eb.lit(prefix.length)]), "=", prefix))
        .executeTakeFirstOrThrow();
      n += Number((row as { n: unknown }).n);
    }
  }
  return n;
}

/** How many sealed values are not on the primary key yet (the canary included). */
async function countNotOnPrimary(ctx: RotationContext): Promise<number> {
  let n = 0;
  for (const k of ctx.keyring.keys) if (k.kid !== ctx.keyring.primary.kid) n += await countSealedWith(ctx.db, k.kid);
  return n;
}

/** Adds the new primary (or resumes an unfinished rotation) and re-seals everything with it. */
export async function rotateKeys(ctx: RotationContext, opts: RotationOptions = {}): Promise<RotationResult> {
  const fromEnv = ctx.config.keysFromEnv !== undefined;
  const pending = await readPending(ctx.db);
  let resumed = false;
  let previousKid = ctx.keyring.primary.kid;
  if (pending) {
    if (!ctx.keyring.byKid.has(pending.kid)) {
      throw new KeyringError(
        `an unfinished rotation re-sealed secrets with key "${pending.kid}", which this keyring does not hold; ${fromEnv ? "set CONNECTED_APPS_KEYS to the value that rotation printed" : "restore the keys file that rotation wrote"} and run keys rotate again`,
      );
    }
    if (ctx.keyring.primary.kid !== pending.kid) {
      throw new KeyringError(`an unfinished rotation to key "${pending.kid}": make it the first key again and run keys rotate to finish it`);
    }
    resumed = true;
    previousKid = pending.previousKid;
  } else if (opts.addKey !== false) {
    const ring = buildKeyring([generateKey(new Date(ctx.clock.now())), ...ctx.keyring.keys]);
    // Noted before any row is re-sealed, so a crash from here on resumes with this key.
    await writePending(ctx.db, { kid: ring.primary.kid, previousKid });
    if (!fromEnv) writeKeysFile(keysFilePath(ctx.config.dataDir), ring.keys);
    ctx.keyring = ring;
    opts.onNewKey?.({ kid: ring.primary.kid, envValue: fromEnv ? formatEnv(ring) : undefined });
    if (!fromEnv && opts.propagationMs) await new Promise((r) => setTimeout(r, opts.propagationMs));
  } else {
    await writePending(ctx.db, { kid: previousKid, previousKid });
  }
  const kid = ctx.keyring.primary.kid;
  const started = performance.now();
  const resealed: Record<string, number> = {};
  const batchSize = opts.batchSize ?? 500;
  // Concurrent writes by instances still sealing with the old key lose nothing (the CAS keeps
  // their value) but leave it on the old key; later passes pick those rows up.
  let remaining = 0;
  for (let pass = 0; pass < 5; pass++) {
    for (const t of sealedColumns) resealed[t.table] = (resealed[t.table] ?? 0) + (await resealTable(ctx, t, batchSize, opts.onBatch));
    await resealKeyringCanary(ctx.db, ctx.keyring);
    remaining = await countNotOnPrimary(ctx);
    if (remaining === 0) break;
  }
  const total = Object.values(resealed).reduce((a, b) => a + b, 0);
  const elapsedMs = performance.now() - started;
  await ctx.db.transaction().execute(async (trx) => {
    await trx.deleteFrom("meta").where("key", "=", PENDING_KEY).execute();
    await recordEvent(trx, ctx, { type: "key.rotated", appId: null, userId: null, data: { kid, previousKid, resealed: total } });
  });
  ctx.log.info({ kid, previousKid, resealed: total }, "key rotation finished");
  return { kid, previousKid, resumed, resealed, total, remaining, elapsedMs, envValue: fromEnv ? formatEnv(ctx.keyring) : undefined };
}

export interface RetireResult {
  kid: string;
  envValue: string | undefined;
}

/** Removes a key from the ring, refusing while any value is sealed with it. */
export async function retireKey(ctx: RotationContext, kid: string): Promise<RetireResult> {
  if (!ctx.keyring.byKid.has(kid)) throw new KeyringError(`key "${kid}" is not in the keyring`);
  if (ctx.keyring.primary.kid === kid) throw new KeyringError(`key "${kid}" is the primary key; run keys rotate first`);
  if (await readPending(ctx.db)) throw new KeyringError("a key rotation is unfinished; run keys rotate to finish it first");
  const inUse = await countSealedWith(ctx.db, kid);
  if (inUse > 0) throw new KeyringError(`key "${kid}" still seals ${inUse} value${inUse === 1 ? "" : "s"}; run keys rotate first`);
  const ring = buildKeyring(ctx.keyring.keys.filter((k) => k.kid !== kid));
  if (ctx.config.keysFromEnv === undefined) writeKeysFile(keysFilePath(ctx.config.dataDir), ring.keys);
  ctx.keyring = ring;
  return { kid, envValue: ctx.config.keysFromEnv !== undefined ? formatEnv(ring) : undefined };
}
