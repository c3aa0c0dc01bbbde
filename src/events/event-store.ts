// EventStore: the events table, both the audit trail (list) and the webhook outbox (claim,
// record an attempt). Outbox columns: next_attempt_at (null: nothing more to send),
// attempts, last_status, delivered_at, and a lease (lease_owner, lease_until) so that only one
// instance sends an event at a time; a dead owner's lease simply runs out.
import type { Kysely, Selectable } from "kysely";
import { isPostgres } from "../store/dialect.ts";
import type { Database, EventsTable } from "../store/schema.ts";
import type { EventResource, ListEventsQuery } from "./event-schema.ts";

export interface OutboxEvent {
  id: string;
  type: string;
  createdAt: number;
  attempts: number;
  data: Record<string, unknown>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

export function toEventResource(r: Selectable<EventsTable>): EventResource {
  return {
    id: r.id,
    type: r.type as EventResource["type"],
    createdAt: iso(r.created_at)!,
    data: JSON.parse(r.data) as EventResource["data"],
    delivery: {
      attempts: Number(r.attempts),
      lastStatus: r.last_status,
      deliveredAt: iso(r.delivered_at),
      nextAttemptAt: iso(r.next_attempt_at),
    },
  };
}

export class EventStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** The seq of an event id (the paging cursor), or undefined when there is no such event. */
  async seqOf(id: string): Promise<number | undefined> {
    const row = await this.db.selectFrom("events").select("seq").where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : Number(row.seq);
  }

  /** Oldest first, after the cursor's seq. */
  async list(q: Omit<ListEventsQuery, "after">, afterSeq: number | undefined): Promise<Array<Selectable<EventsTable>>> {
    let query = this.db.selectFrom("events").selectAll().orderBy("seq", "asc").limit(q.limit);
    if (afterSeq !== undefined) query = query.where("seq", ">", afterSeq);
    if (q.appId !== undefined) query = query.where("app_id", "=", q.appId);
    if (q.userId !== undefined) query = query.where("user_id", "=", q.userId);
    if (q.type !== undefined) query = query.where("type", "=", q.type);
    return query.execute();
  }

  /**
   * Takes up to `limit` due, undelivered events whose lease is free or ran out, for `owner`
   * until `leaseUntil`. The UPDATE re-checks the lease, so of two instances racing for one
   * row only one gets it; PostgreSQL also skips rows another claimer has locked.
   */
  async claimDue(owner: string, now: number, leaseUntil: number, limit: number): Promise<OutboxEvent[]> {
    const pg = isPostgres(this.db as Kysely<unknown>);
    const rows = await this.db
      .updateTable("events")
      .set({ lease_owner: owner, lease_until: leaseUntil })
      .where("seq", "in", (eb) => {
        let due = eb
          .selectFrom("events")
          .select("seq")
          .where("next_attempt_at", "<=", now)
          .where("delivered_at", "is", null)
          .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
          .orderBy("next_attempt_at", "asc")
          .limit(limit);
        if (pg) due = due.forUpdate().skipLocked();
        return due;
      })
      .where("delivered_at", "is", null)
      .where((w) => w.or([w("lease_until", "is", null), w("lease_until", "<", now)]))
      .returning(["id", "type", "created_at", "attempts", "data"])
      .execute();
    return rows
      .map((r) => ({ id: r.id, type: r.type, createdAt: Number(r.created_at), attempts: Number(r.attempts), data: JSON.parse(r.data) as Record<string, unknown> }))
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Records one attempt's outcome, only while `owner` still holds the lease. */
  async recordAttempt(
    id: string,
    owner: string,
    outcome: { status: string; deliveredAt: number | null; nextAttemptAt: number | null },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable("events")
      .set((eb) => ({
        attempts: eb("attempts", "+", 1),
        last_status: outcome.status,
        delivered_at: outcome.deliveredAt,
        next_attempt_at: outcome.nextAttemptAt,
        lease_owner: null,
        lease_until: null,
      }))
      .where("id", "=", id)
      .where("lease_owner", "=", owner)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Gives back leases this owner holds without recording an attempt (a clean stop). */
  async releaseLeases(owner: string): Promise<void> {
    await this.db.updateTable("events").set({ lease_owner: null, lease_until: null }).where("lease_owner", "=", owner).where("delivered_at", "is", null).execute();
  }
}
