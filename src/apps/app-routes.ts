// /api/v1/apps: the Connected App registry (SPEC §4).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../context.ts";
import { appResource, createAppBody, patchAppBody } from "./app-schema.ts";
import { createApp, getApp, listApps, toAppResource, updateApp } from "./app-service.ts";
import { deleteApp } from "./delete-app.ts";

const params = z.object({ appId: z.string().max(200) });

export function appRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (api) => {
    const publicUrl = ctx.config.publicUrl;
    api.post("/apps", {
      schema: { tags: ["apps"], summary: "Register a Connected App", body: createAppBody, response: { 201: appResource } },
      handler: async (req, reply) => reply.code(201).send(toAppResource(await createApp(ctx, req.body), publicUrl)),
    });
    api.get("/apps", {
      schema: { tags: ["apps"], summary: "List Connected Apps", response: { 200: z.object({ items: z.array(appResource) }) } },
      handler: async () => ({ items: (await listApps(ctx)).map((a) => toAppResource(a, publicUrl)) }),
    });
    api.get("/apps/:appId", {
      schema: { tags: ["apps"], summary: "Get a Connected App", params, response: { 200: appResource } },
      handler: async (req) => toAppResource(await getApp(ctx, req.params.appId), publicUrl),
    });
    api.patch("/apps/:appId", {
      schema: { tags: ["apps"], summary: "Change a Connected App", params, body: patchAppBody, response: { 200: appResource } },
      handler: async (req) => toAppResource(await updateApp(ctx, req.params.appId, req.body), publicUrl),
    });
    api.delete("/apps/:appId", {
      schema: { tags: ["apps"], summary: "Delete a Connected App, revoking its connections at the provider", params },
      handler: async (req, reply) => {
        await deleteApp(ctx, req.params.appId);
        return reply.code(204).send();
      },
    });
  };
}
