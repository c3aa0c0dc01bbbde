// Unauthenticated operational endpoints: /healthz and /metrics.
import { sql } from "kysely";
import type { FastifyPluginAsync } from "fastify";
import type { Context } from "../context.ts";
import { sendProblem } from "./error-handler.ts";

export function operationsRoutes(ctx: Context): FastifyPluginAsync {
  return async (app) => {
    app.get("/healthz", { schema: { hide: true } }, async (_req, reply) => {
      try {
        await sql`select 1`.execute(ctx.db);
        return reply.send({ status: "ok", database: ctx.dialect });
      } catch {
        return sendProblem(reply, "provider_unavailable", "the database does not answer", { status: 503 });
      }
    });
    app.get("/metrics", { schema: { hide: true } }, async (_req, reply) => {
      reply.type(ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    });
  };
}
