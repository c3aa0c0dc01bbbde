// Events are written in the same transaction as the change they describe (the outbox pattern,
// SPEC §7): pass the transaction as `db`. The webhook worker delivers them from this table.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { Context } from "../context.ts";
import type { Database } from "../store/schema.ts";
import type { eventTypes } from "./event-schema.ts";

export type EventType = (typeof eventTypes)[number];

export interface NewEvent {
  type: EventType;
  appId: string | null;
  userId: string | null;
  /** Extra members of `data` beside appId and userId. Never a token or secret. */
  data?: Record<string, unknown>;
}

/**
 * An event goes to the outbox only when WEBHOOK_URL is set (or `{deliver: true}`), so one
 * recorded without a webhook is never sent later to a URL configured after it.
 */
export async function recordEvent(
  db: Kysely<Database>,
  ctx: Pick<Context, "clock" | "config">,
  event: NewEvent,
  opts: { deliver?: boolean } = {},
): Promise<string> {
  const id = `evt_${randomUUID().replaceAll("-", "")}`;
  const deliver = opts.deliver ?? ctx.config.webhookUrl !== undefined;
  const now = ctx.clock.now();
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
      next_attempt_at: deliver ? now : null,
      delivered_at: null,
      last_status: null,
      lease_owner: null,
      lease_until: null,
    })
    .execute();
  return id;
}
