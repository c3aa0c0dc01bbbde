// GET /api/v1/events (SPEC §4, §7): the audit trail with each event's webhook delivery log,
// oldest first, paged by `after` (the last event id of the previous page).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { eventResource, listEventsQuery } from "./event-schema.ts";
import { EventStore, toEventResource } from "./event-store.ts";

export function eventRoutes(ctx: Pick<Context, "db">): FastifyPluginAsyncZod {
  return async (api) => {
    api.get("/events", {
      schema: {
        tags: ["events"],
        summary: "Recorded events with their webhook delivery log, oldest first; page with after=<last id>",
        querystring: listEventsQuery,
        response: { 200: z.object({ items: z.array(eventResource) }) },
      },
      handler: async (req) => {
        const store = new EventStore(ctx.db);
        const { after, ...filters } = req.query;
        let afterSeq: number | undefined;
        if (after !== undefined) {
          afterSeq = await store.seqOf(after);
          if (afterSeq === undefined) throw new AppError("invalid_request", `after: no event with id ${after}`);
        }
        return { items: (await store.list(filters, afterSeq)).map(toEventResource) };
      },
    });
  };
}
