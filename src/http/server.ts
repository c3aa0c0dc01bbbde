// The HTTP edge: Fastify with strict zod schemas, API-key auth on /api/v1, problem details for
// every error, OpenAPI from the same schemas, metrics on every request.
import formbody from "@fastify/formbody";
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import secureJson from "secure-json-parse";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from "fastify";
import { jsonSchemaTransform, validatorCompiler, type FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { ApiKeyVerifier } from "../api-keys/api-key-service.ts";
import { appRoutes } from "../apps/app-routes.ts";
import { templateRoutes } from "../apps/template-routes.ts";
import { connectionRoutes } from "../connections/connection-routes.ts";
import { connectRoutes } from "../connect/connect-routes.ts";
import { connectSessionRoutes } from "../connect/connect-session-routes.ts";
import { discoveryRoutes } from "../discovery/discovery-routes.ts";
import type { Context } from "../context.ts";
import { errorCatalog, errorCodes } from "../errors/catalog.ts";
import { requireApiKey } from "./api-auth.ts";
import { responseSerializerCompiler } from "./response-serializer.ts";
import { docsPage } from "./docs-page.ts";
import { errorHandler, sendProblem } from "./error-handler.ts";
import { eventRoutes } from "../events/event-routes.ts";
import { operationsRoutes } from "./operations.ts";
import { proxyRoutes } from "../proxy/proxy-routes.ts";
import { uiRoutes } from "../ui/ui-routes.ts";

/** The /api/v1 route plugins (API key required), each a folder's routes module. */
function apiRoutePlugins(ctx: Context): Array<FastifyPluginAsyncZod | FastifyPluginAsync> {
  return [appRoutes(ctx), templateRoutes(), connectionRoutes(ctx), proxyRoutes(ctx), connectSessionRoutes(ctx), eventRoutes(ctx), discoveryRoutes(ctx)];
}

/** Browser-facing routes (pages, /connect, /oauth/callback): no API key; they do their own auth. */
function browserRoutePlugins(ctx: Context): FastifyPluginAsync[] {
  return [connectRoutes(ctx), uiRoutes(ctx)];
}

export async function buildServer(ctx: Context): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    routerOptions: { maxParamLength: 500 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, "not_found", `no route for ${req.method} ${req.url.split("?")[0]}`));

  app.addHook("onResponse", async (req, reply) => {
    ctx.metrics.httpRequests
      .labels(req.method, req.routeOptions.url ?? "unmatched", String(reply.statusCode))
      .observe(reply.elapsedTime / 1000);
  });

  // An empty JSON body (a DELETE sent with Content-Type: application/json) is no body, not an
  // error; a route that needs a body still rejects it through its schema.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === "") return done(null, undefined);
    try {
      // secure-json-parse (what Fastify uses by default) refuses __proto__/constructor poisoning.
      done(null, secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" }));
    } catch {
      done(Object.assign(new Error("body: not valid JSON"), { statusCode: 400, code: "FST_ERR_CTP_INVALID_JSON_BODY" }), undefined);
    }
  });
  await app.register(cookie);
  await app.register(formbody);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "connected-apps",
        version: "1",
        description: `Errors are RFC 9457 problem details with a \`code\`:\n\n${errorCodes
          .map((c) => `- \`${c}\` (${errorCatalog[c].status}): ${errorCatalog[c].title}. ${errorCatalog[c].fix}`)
          .join("\n")}`,
      },
      components: { securitySchemes: { apiKey: { type: "http", scheme: "bearer" } } },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/docs/api" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  await app.register(docsPage);
  await app.register(operationsRoutes(ctx));

  for (const plugin of browserRoutePlugins(ctx)) await app.register(plugin);

  const verifier = new ApiKeyVerifier(ctx);
  await app.register(
    async (api) => {
      api.addHook("onRequest", requireApiKey(verifier));
      for (const plugin of apiRoutePlugins(ctx)) await api.register(plugin);
    },
    { prefix: "/api/v1" },
  );
  return app;
}
