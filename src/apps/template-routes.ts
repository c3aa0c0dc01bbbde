// GET /api/v1/templates: the built-in provider templates (SPEC §4).
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { listTemplates } from "./templates/index.ts";

const templateResource = z.object({
  id: z.string(),
  name: z.string(),
  docsUrl: z.string(),
  params: z.array(z.string()),
  defaults: z.record(z.string(), z.unknown()),
});

export function templateRoutes(): FastifyPluginAsyncZod {
  return async (api) => {
    api.get("/templates", {
      schema: { tags: ["apps"], summary: "List provider templates", response: { 200: z.object({ items: z.array(templateResource) }) } },
      handler: async () => ({ items: listTemplates() }),
    });
  };
}
