// POST /api/v1/connect-sessions (SPEC §4).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { Context } from "../context.ts";
import { connectSessionResource, createConnectSessionBody } from "./connect-session-schema.ts";
import { createConnectSession } from "./connect-session-service.ts";

export function connectSessionRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (api) => {
    api.post("/connect-sessions", {
      schema: {
        tags: ["connect"],
        summary: "A single-use, 30-minute link that runs the connect flow for one of your users",
        body: createConnectSessionBody,
        response: { 201: connectSessionResource },
      },
      handler: async (req, reply) => {
        const session = await createConnectSession(ctx, req.body);
        // The link is a bearer credential for 30 minutes: keep it out of caches.
        reply.header("cache-control", "no-store");
        return reply.code(201).send(session);
      },
    });
  };
}
