// /api/v1/apps/{appId}/connections and /api/v1/apps/{appId}/token (SPEC §4).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { getApp } from "../apps/app-service.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { getAppToken } from "./app-token.ts";
import { appParams, connectionParams, connectionResource, listConnectionsQuery, tokenQuery, tokenResource } from "./connection-schema.ts";
import { deleteConnection, getConnection, listConnections } from "./connection-service.ts";
import { getToken } from "./token.ts";

const tags = ["connections"];

export function connectionRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (api) => {
    api.get("/apps/:appId/connections", {
      schema: { tags, summary: "List an app's connections", params: appParams, querystring: listConnectionsQuery, response: { 200: z.object({ items: z.array(connectionResource) }) } },
      handler: async (req) => {
        await getApp(ctx, req.params.appId);
        return { items: await listConnections(ctx, req.params.appId, req.query.status) };
      },
    });
    api.get("/apps/:appId/connections/:userId", {
      schema: { tags, summary: "Get one user's connection (never its tokens)", params: connectionParams, response: { 200: connectionResource } },
      handler: async (req) => {
        await getApp(ctx, req.params.appId);
        return getConnection(ctx, req.params.appId, req.params.userId);
      },
    });
    api.get("/apps/:appId/connections/:userId/token", {
      schema: {
        tags,
        summary: "A token valid for at least minValidity seconds, refreshed first when needed",
        params: connectionParams,
        querystring: tokenQuery,
        response: { 200: tokenResource },
      },
      handler: async (req, reply) => {
        // The hot path reads the connection only; an unknown app is told apart from a missing
        // connection (404 not_found vs not_connected) only when there is no connection.
        const token = await getToken(ctx, req.params.appId, req.params.userId, req.query.minValidity).catch(async (err: unknown) => {
          if (err instanceof AppError && err.code === "not_connected") await getApp(ctx, req.params.appId);
          throw err;
        });
        // RFC 6749 §5.1: token answers are not cached.
        reply.header("cache-control", "no-store");
        return token;
      },
    });
    api.delete("/apps/:appId/connections/:userId", {
      schema: { tags, summary: "Revoke at the provider (RFC 7009) and delete a connection", params: connectionParams },
      handler: async (req, reply) => {
        await deleteConnection(ctx, req.params.appId, req.params.userId);
        return reply.code(204).send();
      },
    });
    api.get("/apps/:appId/token", {
      schema: { tags: ["apps"], summary: "The app's own token (client-credentials grant), cached until shortly before it expires", params: appParams, response: { 200: tokenResource } },
      handler: async (req, reply) => {
        reply.header("cache-control", "no-store");
        return getAppToken(ctx, req.params.appId);
      },
    });
  };
}
