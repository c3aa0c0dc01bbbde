// POST /api/v1/discovery: read a provider's metadata without saving anything (SPEC §4), so a
// person registering an app can see which endpoints it would get.
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Context } from "../context.ts";
import { discoverProvider } from "./discover.ts";
import { providerMetadata } from "./provider-metadata.ts";

const discoveryBody = z.strictObject({
  url: z.string().min(1).max(2048).describe("An issuer, or its /.well-known/openid-configuration or /.well-known/oauth-authorization-server URL"),
});

export function discoveryRoutes(ctx: Context): FastifyPluginAsyncZod {
  return async (api) => {
    api.post("/discovery", {
      schema: {
        tags: ["discovery"],
        summary: "Discover a provider's endpoints from its issuer or metadata URL",
        body: discoveryBody,
        response: { 200: providerMetadata },
      },
      handler: async (req) => discoverProvider(ctx, req.body.url),
    });
  };
}
