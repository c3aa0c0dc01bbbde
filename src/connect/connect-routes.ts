// The browser side of the connect flow (SPEC §5): GET /connect/{appId} starts it, for a connect
// session's user or the signed-in local user; GET /oauth/callback/{appId} finishes it through the
// table of checks in callback/pipeline.ts. Both answer pages or redirects, never a problem+json
// and never a 500: whatever goes wrong, the user reads what happened and what to do.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { getSignedInUser } from "../accounts/web-session.ts";
import { getApp } from "../apps/app-service.ts";
import type { App } from "../apps/app-store.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { appNotReadyReason } from "./app-readiness.ts";
import { browserBindingHash } from "./browser-binding.ts";
import type { CallbackFlow } from "./callback/callback-flow.ts";
import { readCallbackQuery, repeatedParameter, singleValuedQuery } from "./callback/callback-query.ts";
import { runCallback } from "./callback/pipeline.ts";
import { redeemConnectSession } from "./connect-session-service.ts";
import { FlowFailure } from "./flow-failure.ts";
import { connectedPage, failurePage } from "./result-page.ts";
import { sameOriginReturnTo, withResult } from "./return-to.ts";
import { startConnectFlow } from "./start-flow.ts";

/** Pages of the flow carry a session link, a state or a code in their URL: never cached, never sent on as a Referer. */
function flowHeaders(reply: FastifyReply): void {
  reply.header("cache-control", "no-store");
  reply.header("referrer-policy", "no-referrer");
}

function sendFailure(reply: FastifyReply, failure: FlowFailure) {
  return reply.code(failure.status).type("text/html; charset=utf-8").send(failurePage(failure));
}

async function loadApp(ctx: Context, appId: string): Promise<App> {
  try {
    return await getApp(ctx, appId);
  } catch (err) {
    if (err instanceof AppError && err.code === "not_found") {
      throw new FlowFailure("not_found", 404, "There is no app by that name here.", "Check the link, or go back to the application and start again.");
    }
    throw err;
  }
}

export function connectRoutes(ctx: Context): FastifyPluginAsync {
  return async (app) => {
    // No automatic HEAD route: a HEAD (a link checker's) must not spend a connect session.
    app.get<{ Params: { appId: string } }>("/connect/:appId", { schema: { hide: true }, exposeHeadRoute: false }, async (request, reply) => {
      flowHeaders(reply);
      try {
        return await startFromLink(request, reply);
      } catch (err) {
        return sendFailure(reply, asFlowFailure(err, "starting a connect flow"));
      }
    });

    app.get<{ Params: { appId: string } }>("/oauth/callback/:appId", { schema: { hide: true }, exposeHeadRoute: false }, async (request, reply) => {
      flowHeaders(reply);
      let flow: CallbackFlow;
      try {
        flow = { app: await loadApp(ctx, request.params.appId), query: readCallbackQuery(request.url), browserHash: browserBindingHash(ctx.config.publicUrl, request) };
      } catch (err) {
        return sendFailure(reply, asFlowFailure(err, "reading a callback"));
      }
      const stopped = await runCallback(ctx, flow);
      // returnTo is trusted only once the transaction is known to be this browser's.
      const returnTo = flow.transaction?.returnTo ?? null;
      if (stopped) {
        const failure = asFlowFailure(stopped.error, `callback check ${stopped.failedCheck}`);
        ctx.log.info({ appId: flow.app.id, check: stopped.failedCheck, error: failure.code, reason: failure.internal ?? failure.summary }, "connect flow failed");
        return returnTo ? reply.redirect(withResult(returnTo, "error", failure.code), 302) : sendFailure(reply, failure);
      }
      ctx.log.info({ appId: flow.app.id, userId: flow.transaction?.userId }, "connect flow finished");
      if (returnTo) return reply.redirect(withResult(returnTo, "connected", flow.app.id), 302);
      return reply.type("text/html; charset=utf-8").send(connectedPage(flow.app.name, flow.account ?? { sub: null, email: null, name: null }));
    });
  };

  async function startFromLink(request: FastifyRequest<{ Params: { appId: string } }>, reply: FastifyReply) {
    const target = await loadApp(ctx, request.params.appId);
    const query = singleValuedQuery(request.url);
    if ("repeated" in query) throw repeatedParameter(query.repeated);
    const notReady = appNotReadyReason(target);
    if (notReady) {
      throw new FlowFailure("app_not_ready", 409, `${target.name} is not set up for connecting yet: ${notReady}.`, "Ask an administrator to complete the app's settings (or fetch them with Get OpenID Configuration).");
    }
    const session = query.params.get("session");
    if (session !== undefined) {
      const { userId, returnTo } = await redeemConnectSession(ctx, target.id, session);
      return reply.redirect((await startConnectFlow(ctx, { request, reply }, { app: target, userId, returnTo })).toString(), 302);
    }
    const requested = query.params.get("returnTo");
    let returnTo: string | null = null;
    if (requested !== undefined) {
      const verdict = sameOriginReturnTo(ctx.config.publicUrl, requested);
      if (!verdict.ok) {
        throw new FlowFailure("invalid_return_to", 400, `The returnTo address ${verdict.reason}.`, "Open the Connect button from this site's pages instead of a link from elsewhere.");
      }
      returnTo = verdict.url;
    }
    const user = await getSignedInUser(ctx, request);
    if (!user) return reply.redirect(`/login?returnTo=${encodeURIComponent(request.url)}`, 302);
    return reply.redirect((await startConnectFlow(ctx, { request, reply }, { app: target, userId: user.id, returnTo })).toString(), 302);
  }

  function asFlowFailure(err: unknown, during: string): FlowFailure {
    if (err instanceof FlowFailure) return err;
    ctx.log.error({ err, during }, "connect flow: unexpected error");
    return new FlowFailure("server_error", 503, "Something went wrong on our side.", "Nothing was connected. Try again in a moment; if it keeps happening, tell an administrator.");
  }
}
