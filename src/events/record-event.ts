// Events are written in the same transaction as the change they describe (the outbox pattern,
// SPEC §7): pass the transaction as `db`. The webhook worker delivers them from this table.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Clock } from "../context.ts";
import type { Database } from "../store/schema.ts";

export type EventType =
  | "connection.created"
  | "connection.needs_reconnect"
  | "connection.recovered"
  | "connection.deleted"
  | "key.rotated";

export interface NewEvent {
  type: EventType;
  appId: string | null;
  userId: string | null;
  /** Extra members of `data` beside appId and userId. Never a token or secret. */
  data?: Record<string, unknown>;
}

export async function recordEvent(db: Kysely<Database>, clock: Clock, event: NewEvent, opts: { deliver: boolean } = { deliver: true }): Promise<string> {
  const id = `evt_${randomUUID().replaceAll("-", "")}`;
  const now = clock.now();
  await db
    .insertInto("events")
    .values({
      id,
      type: event.type,
      app_id: event.appId,
      user_id: event.userId,
      data: JSON.stringify({ appId: event.appId, userId: event.userId, ...event.data }),
      created_at: now,
      attempts: 0,
      // null: nothing to deliver (no WEBHOOK_URL); the outbox worker only takes rows with a time.
      next_attempt_at: opts.deliver ? now : null,
      delivered_at: null,
      last_status: null,
      lease_owner: null,
      lease_until: null,
    })
    .execute();
  return id;
}
