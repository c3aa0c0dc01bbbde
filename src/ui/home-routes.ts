// `/` (the signed-in user's apps and connections) and its Disconnect button.
import type { FastifyPluginAsync } from "fastify";
import { listApps } from "../apps/app-service.ts";
import { appNotReadyReason } from "../connect/app-readiness.ts";
import { deleteConnection, listConnectionsForUser } from "../connections/connection-service.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { homeFlash, homePage } from "./pages/home-page.ts";
import { refusalPage } from "./pages/account-pages.ts";
import { passesCsrf, requireSignedIn, sendPage } from "./page-guard.ts";

export function homeRoutes(ctx: Context): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: Record<string, unknown> }>("/", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireSignedIn(ctx, request, reply);
      if (!signedIn) return reply;
      const apps = await listApps(ctx);
      const connections = await listConnectionsForUser(ctx, signedIn.user.id);
      const nameOf = (id: string) => apps.find((a) => a.id === id)?.name ?? id;
      return sendPage(
        reply,
        homePage({
          signedIn,
          apps: apps.map((a) => ({ app: a, notReady: appNotReadyReason(a) })),
          connections,
          flash: homeFlash(request.query, nameOf),
        }),
      );
    });

    app.post<{ Params: { appId: string } }>("/connections/:appId/disconnect", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await requireSignedIn(ctx, request, reply);
      if (!signedIn) return reply;
      if (!(await passesCsrf(ctx, request, reply, signedIn))) return reply;
      try {
        // Only the signed-in user's own connection: the user id comes from the session, never the form.
        await deleteConnection(ctx, request.params.appId, signedIn.user.id);
      } catch (err) {
        if (err instanceof AppError && (err.code === "not_found" || err.code === "not_connected")) {
          return sendPage(reply, refusalPage("Nothing to disconnect", "You have no connection to that app (it may already be disconnected).", signedIn), 404);
        }
        throw err;
      }
      return reply.redirect(`/?disconnected=${encodeURIComponent(request.params.appId)}`, 303);
    });
  };
}
