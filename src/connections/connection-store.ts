// ConnectionStore: the connections table, the one place that reads and writes it.
//
// Every record's fields:
//   id                 opaque row id; the sealing binding (connections, id, <column>) uses it
//   appId, userId      at most one connection per pair (unique constraint)
//   status             "active" | "needs_reconnect"
//   scopes             granted scopes
//   account            the provider account (sub, email, name)
//   access/refresh/id  tokens, sealed with the keyring and bound to their row and column, so a
//                      ciphertext moved to another row or column does not open
//   tokenType          as the provider spelled it
//   expiresAt          epoch ms the access token expires at; null: unknown lifetime
//   version            compare-and-swap version: every token write checks and increments it
//   nextRefreshAt      when the background refresher should take the row (null: never)
//   leaseOwner/Until   the refresh lease (cross-instance lock): only its owner writes under it,
//                      and a dead owner's lease simply runs out
//   refreshFailures    consecutive transient refresh failures, for the refresher's backoff
//
// Token writes are conditional on (version, lease owner): a writer whose lease was taken over,
// or whose row was deleted meanwhile, changes nothing (it can never resurrect a deleted row).
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Context } from "../context.ts";
import type { Keyring } from "../crypto/keyring.ts";
import { openOptionalWithReload, openWithReload } from "../crypto/keyring-reload.ts";
import { seal, sealOptional, type RowBinding } from "../crypto/seal.ts";
import type { ProviderAccount } from "../oauth/token-set.ts";
import type { ConnectionsTable, Database } from "../store/schema.ts";

export type ConnectionStatus = "active" | "needs_reconnect";

export interface ConnectionRecord {
  id: string;
  appId: string;
  userId: string;
  status: ConnectionStatus;
  scopes: string[];
  account: ProviderAccount;
  tokenType: string;
  expiresAt: number | null;
  lastRefreshedAt: number | null;
  lastError: string | null;
  version: number;
  nextRefreshAt: number | null;
  leaseOwner: string | null;
  leaseUntil: number | null;
  refreshFailures: number;
  createdAt: number;
  updatedAt: number;
  /** Sealed token columns: open them with openTokens, only where a token is needed. */
  sealed: { accessToken: string; refreshToken: string | null; idToken: string | null };
}

/** The plaintext tokens of a connection. Never logged, never in an API answer but /token. */
export interface ConnectionTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
}

/** What a token write stores: the tokens plus the schedule that follows from them. */
export interface TokenWrite extends ConnectionTokens {
  tokenType: string;
  scopes: string[];
  expiresAt: number | null;
  nextRefreshAt: number | null;
}

const binding = (id: string, field: "access_token" | "refresh_token" | "id_token"): RowBinding => ({ table: "connections", id, field });

export function newConnectionId(): string {
  return `conn_${randomBytes(12).toString("hex")}`;
}

function toRecord(r: ConnectionsTable): ConnectionRecord {
  return {
    id: r.id,
    appId: r.app_id,
    userId: r.user_id,
    status: r.status as ConnectionStatus,
    scopes: JSON.parse(r.scopes) as string[],
    account: { sub: r.account_sub, email: r.account_email, name: r.account_name },
    tokenType: r.token_type,
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    lastRefreshedAt: r.last_refreshed_at === null ? null : Number(r.last_refreshed_at),
    lastError: r.last_error,
    version: Number(r.version),
    nextRefreshAt: r.next_refresh_at === null ? null : Number(r.next_refresh_at),
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
    refreshFailures: Number(r.refresh_failures),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    sealed: { accessToken: r.access_token, refreshToken: r.refresh_token, idToken: r.id_token },
  };
}

// Opened with the ring of the moment, reloaded once if a value names a key this instance does
// not hold yet (another process's `keys rotate` re-sealed it): see crypto/keyring-reload.ts.
type OpenContext = Pick<Context, "keyring" | "config" | "log">;

/** The access token alone: a token read needs nothing else opened. */
export function openAccessToken(ctx: OpenContext, rec: ConnectionRecord): string {
  return openWithReload(ctx, rec.sealed.accessToken, binding(rec.id, "access_token"));
}

export function openTokens(ctx: OpenContext, rec: ConnectionRecord): ConnectionTokens {
  return {
    accessToken: openWithReload(ctx, rec.sealed.accessToken, binding(rec.id, "access_token")),
    refreshToken: openOptionalWithReload(ctx, rec.sealed.refreshToken, binding(rec.id, "refresh_token")),
    idToken: openOptionalWithReload(ctx, rec.sealed.idToken, binding(rec.id, "id_token")),
  };
}

function sealedColumns(keyring: Keyring, id: string, t: ConnectionTokens) {
  return {
    access_token: seal(keyring, t.accessToken, binding(id, "access_token")),
    refresh_token: sealOptional(keyring, t.refreshToken, binding(id, "refresh_token")),
    id_token: sealOptional(keyring, t.idToken, binding(id, "id_token")),
  };
}

/** The columns every token write sets: new tokens make the connection active, its lease free. */
function tokenColumns(keyring: Keyring, id: string, t: TokenWrite, now: number) {
  return {
    ...sealedColumns(keyring, id, t),
    status: "active",
    scopes: JSON.stringify(t.scopes),
    token_type: t.tokenType,
    expires_at: t.expiresAt,
    last_error: null,
    next_refresh_at: t.nextRefreshAt,
    lease_owner: null,
    lease_until: null,
    refresh_failures: 0,
    updated_at: now,
  };
}

const changed = (res: { numUpdatedRows: bigint } | undefined) => Number(res?.numUpdatedRows ?? 0) === 1;

export class ConnectionStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
  ) {}

  async get(appId: string, userId: string): Promise<ConnectionRecord | undefined> {
    const row = await this.db.selectFrom("connections").selectAll().where("app_id", "=", appId).where("user_id", "=", userId).executeTakeFirst();
    return row && toRecord(row);
  }

  async getById(id: string): Promise<ConnectionRecord | undefined> {
    const row = await this.db.selectFrom("connections").selectAll().where("id", "=", id).executeTakeFirst();
    return row && toRecord(row);
  }

  async listByApp(appId: string, status?: ConnectionStatus): Promise<ConnectionRecord[]> {
    let q = this.db.selectFrom("connections").selectAll().where("app_id", "=", appId);
    if (status) q = q.where("status", "=", status);
    return (await q.orderBy("user_id").execute()).map(toRecord);
  }

  async listByUser(userId: string): Promise<ConnectionRecord[]> {
    const rows = await this.db.selectFrom("connections").selectAll().where("user_id", "=", userId).orderBy("app_id").execute();
    return rows.map(toRecord);
  }

  /** A new connection from a finished connect flow; false when the user already has one. */
  async insert(p: {
    id: string;
    appId: string;
    userId: string;
    account: ProviderAccount;
    tokens: TokenWrite;
    now: number;
  }): Promise<boolean> {
    const res = await this.db
      .insertInto("connections")
      .values({
        id: p.id,
        app_id: p.appId,
        user_id: p.userId,
        ...tokenColumns(this.keyring, p.id, p.tokens, p.now),
        account_sub: p.account.sub,
        account_email: p.account.email,
        account_name: p.account.name,
        last_refreshed_at: null,
        version: 1,
        created_at: p.now,
      })
      .onConflict((oc) => oc.columns(["app_id", "user_id"]).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /**
   * A reconnect: new tokens and account, status active, whatever the version (the user just
   * consented again, which outranks any refresh in flight; that refresh's CAS write then fails).
   */
  async replaceAfterReconnect(id: string, p: { account: ProviderAccount; tokens: TokenWrite; now: number }): Promise<boolean> {
    const res = await this.db
      .updateTable("connections")
      .set((eb) => ({
        ...tokenColumns(this.keyring, id, p.tokens, p.now),
        account_sub: p.account.sub,
        account_email: p.account.email,
        account_name: p.account.name,
        version: eb("version", "+", 1),
      }))
      .where("id", "=", id)
      .executeTakeFirst();
    return changed(res);
  }

  /**
   * Takes the refresh lease when it is free or has run out. A conditional UPDATE, so of any
   * number of instances racing for it exactly one wins; a dead holder blocks only until its
   * lease time has passed.
   */
  async takeLease(id: string, owner: string, now: number, leaseMs: number): Promise<boolean> {
    const res = await this.db
      .updateTable("connections")
      .set({ lease_owner: owner, lease_until: now + leaseMs })
      .where("id", "=", id)
      .where((eb) => eb.or([eb("lease_owner", "is", null), eb("lease_until", "is", null), eb("lease_until", "<=", now)]))
      .executeTakeFirst();
    return changed(res);
  }

  /** A live holder's heartbeat: pushes its lease on, only while it is still the holder. */
  async extendLease(id: string, owner: string, until: number): Promise<boolean> {
    const res = await this.db.updateTable("connections").set({ lease_until: until }).where("id", "=", id).where("lease_owner", "=", owner).executeTakeFirst();
    return changed(res);
  }

  /** Releases the lease, only if this owner still holds it (nobody else's lease is touched). */
  async releaseLease(id: string, owner: string): Promise<void> {
    await this.db.updateTable("connections").set({ lease_owner: null, lease_until: null }).where("id", "=", id).where("lease_owner", "=", owner).execute();
  }

  /**
   * Stores refreshed tokens: compare-and-swap on the version read under the lease, and on the
   * lease still being ours. False: the row was deleted or another writer got there first.
   */
  async writeRefreshed(
    id: string,
    expect: { version: number; leaseOwner: string },
    p: { tokens: TokenWrite; now: number },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable("connections")
      .set({ ...tokenColumns(this.keyring, id, p.tokens, p.now), last_refreshed_at: p.now, version: expect.version + 1 })
      .where("id", "=", id)
      .where("version", "=", expect.version)
      .where("lease_owner", "=", expect.leaseOwner)
      .executeTakeFirst();
    return changed(res);
  }

  /** The grant is dead: needs_reconnect with the provider's message; no more scheduled refreshes. */
  async markNeedsReconnect(id: string, expect: { version: number; leaseOwner: string }, p: { lastError: string; now: number }): Promise<boolean> {
    const res = await this.db
      .updateTable("connections")
      .set({
        status: "needs_reconnect",
        last_error: p.lastError,
        next_refresh_at: null,
        lease_owner: null,
        lease_until: null,
        updated_at: p.now,
      })
      .where("id", "=", id)
      .where("version", "=", expect.version)
      .where("lease_owner", "=", expect.leaseOwner)
      .executeTakeFirst();
    return changed(res);
  }

  /** A transient failure: the status stays, the refresher retries at `retryAt`; releases the lease. */
  async noteTransientFailure(id: string, leaseOwner: string, p: { lastError: string; retryAt: number; now: number }): Promise<void> {
    await this.db
      .updateTable("connections")
      .set((eb) => ({
        last_error: p.lastError,
        refresh_failures: eb("refresh_failures", "+", 1),
        next_refresh_at: p.retryAt,
        lease_owner: null,
        lease_until: null,
        updated_at: p.now,
      }))
      .where("id", "=", id)
      .where("lease_owner", "=", leaseOwner)
      .execute();
  }

  async delete(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom("connections").where("id", "=", id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }

  /**
   * Claims up to `limit` rows due for a background refresh by pushing their next_refresh_at to
   * `claimUntil`: another instance's claim then skips them. On PostgreSQL the candidate rows are
   * locked FOR UPDATE SKIP LOCKED in a short transaction, so concurrent claimers neither wait on
   * each other nor take the same row. On SQLite it is one UPDATE ... RETURNING statement: a
   * statement takes the write lock up front (with the busy timeout), where a read-then-write
   * transaction would fail with SQLITE_BUSY when another connection wrote in between.
   */
  async claimDue(p: { now: number; claimUntil: number; limit: number; postgres: boolean }): Promise<Array<{ id: string; appId: string; userId: string; version: number }>> {
    const due = (db: Kysely<Database>) =>
      db
        .selectFrom("connections")
        .select("id")
        .where("status", "=", "active")
        .where("next_refresh_at", "<=", p.now)
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", p.now)]))
        .orderBy("next_refresh_at")
        .limit(p.limit);
    const claim = (db: Kysely<Database>, ids: string[] | ReturnType<typeof due>) =>
      db
        .updateTable("connections")
        .set({ next_refresh_at: p.claimUntil })
        .where("id", "in", ids)
        .returning(["id", "app_id", "user_id", "version"])
        .execute();
    const rows = p.postgres
      ? await this.db.transaction().execute(async (trx) => {
          const locked = await due(trx).forUpdate().skipLocked().execute();
          return locked.length === 0 ? [] : claim(trx, locked.map((r) => r.id));
        })
      : await claim(this.db, due(this.db));
    return rows.map((r) => ({ id: r.id, appId: r.app_id, userId: r.user_id, version: Number(r.version) }));
  }

  async countDue(now: number): Promise<number> {
    const row = await this.db
      .selectFrom("connections")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "=", "active")
      .where("next_refresh_at", "<=", now)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
