// The Event resource (SPEC §7) with its delivery log, and the query of GET /api/v1/events:
// one definition the route validates with and the OpenAPI document shows.
import { z } from "zod";

export const eventTypes = ["connection.created", "connection.needs_reconnect", "connection.recovered", "connection.deleted", "key.rotated"] as const;

export const eventType = z.enum(eventTypes);

export const eventDelivery = z.object({
  attempts: z.number().int().describe("webhook deliveries tried so far"),
  lastStatus: z.string().nullable().describe('the last attempt\'s outcome: an HTTP status, "timeout" or "network_error"'),
  deliveredAt: z.string().nullable().describe("ISO 8601 UTC; null until the receiver answered 2xx"),
  nextAttemptAt: z.string().nullable().describe("ISO 8601 UTC; null when nothing more will be tried"),
});

export const eventResource = z.object({
  id: z.string(),
  type: eventType,
  createdAt: z.string(),
  data: z.object({ appId: z.string().nullable(), userId: z.string().nullable() }).catchall(z.unknown()),
  delivery: eventDelivery,
});

export const listEventsQuery = z.strictObject({
  appId: z.string().min(1).max(200).optional(),
  userId: z.string().min(1).max(200).optional(),
  type: eventType.optional(),
  after: z.string().regex(/^evt_[0-9a-f]{32}$/, "after: an event id (evt_...)").optional(),
  limit: z.coerce.number().int("limit: a whole number").min(1).max(500).default(100),
});

export type EventResource = z.infer<typeof eventResource>;
export type ListEventsQuery = z.infer<typeof listEventsQuery>;
