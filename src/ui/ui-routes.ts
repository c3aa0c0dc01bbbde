// The web UI as one Fastify plugin: account pages, `/`, the app form, and our own static assets.
// Its error handler answers pages, not problem+json: a person reads them.
import { readFileSync } from "node:fs";
import type { FastifyError, FastifyPluginAsync } from "fastify";
import type { Context } from "../context.ts";
import { accountRoutes } from "./account-routes.ts";
import { appFormRoutes } from "./app-form-routes.ts";
import { homeRoutes } from "./home-routes.ts";
import { refusalPage } from "./pages/account-pages.ts";
import { sendPage } from "./page-guard.ts";

const ASSETS: Record<string, string> = {
  "app.css": "text/css; charset=utf-8",
  "app-form.js": "text/javascript; charset=utf-8",
};

// Read once at start: a handful of small files, served from memory.
const assetBodies = new Map(Object.entries(ASSETS).map(([name]) => [name, readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8")]));

export function uiRoutes(ctx: Context): FastifyPluginAsync {
  return async (app) => {
    app.setErrorHandler((error: FastifyError, request, reply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
      if (status === 500) request.log.error({ err: error }, "web UI request failed");
      const message = status === 500 ? "Something went wrong on our side. Nothing was changed; try again in a moment." : "The request could not be read. Nothing was changed; go back and try again.";
      return sendPage(reply, refusalPage(status === 500 ? "Something went wrong" : "Bad request", message), status);
    });

    app.get<{ Params: { name: string } }>("/ui/assets/:name", { schema: { hide: true } }, async (request, reply) => {
      const body = assetBodies.get(request.params.name);
      const type = ASSETS[request.params.name];
      if (body === undefined || type === undefined) return reply.code(404).type("text/plain").send("not found");
      return reply.type(type).header("cache-control", "public, max-age=300").header("x-content-type-options", "nosniff").send(body);
    });

    await app.register(accountRoutes(ctx));
    await app.register(homeRoutes(ctx));
    await app.register(appFormRoutes(ctx));
  };
}
