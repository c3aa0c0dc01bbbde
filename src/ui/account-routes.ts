// /setup (the first administrator, only while no account exists), /login and /logout.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { preSessionToken } from "../accounts/csrf.ts";
import { LoginRateLimit } from "../accounts/login-rate-limit.ts";
import { hashPassword, verifyPassword } from "../accounts/password.ts";
import { createUser } from "../accounts/user-service.ts";
import { UserStore } from "../accounts/user-store.ts";
import { endSession, readSession, startSession } from "../accounts/web-session.ts";
import { sameOriginReturnTo } from "../connect/return-to.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { loginPage, logoutPage, setupPage } from "./pages/account-pages.ts";
import { passesCsrf, sendPage } from "./page-guard.ts";

type Form = Record<string, unknown>;
const text = (body: unknown, name: string): string => {
  const v = body && typeof body === "object" ? (body as Form)[name] : undefined;
  return typeof v === "string" ? v : "";
};

/** A path on this site to go to after sign-in, or null (for anything else: no open redirect). */
function localReturnTo(publicUrl: string, value: string): string | null {
  if (!value) return null;
  const verdict = sameOriginReturnTo(publicUrl, value);
  if (!verdict.ok) return null;
  const url = new URL(verdict.url);
  return url.pathname + url.search;
}

export function accountRoutes(ctx: Context): FastifyPluginAsync {
  const users = new UserStore(ctx.db);
  const rateLimit = new LoginRateLimit(ctx);
  // Verifying against this when the email is unknown keeps both answers equally slow, so timing
  // does not tell which emails have accounts.
  const decoyHash = hashPassword("decoy password, never a real one");

  return async (app) => {
    app.get("/setup", { schema: { hide: true } }, async (request, reply) => {
      if ((await users.count()) > 0) return reply.redirect("/login", 303);
      return sendPage(reply, setupPage({ csrfToken: preSessionToken(ctx.config.publicUrl, request, reply), email: "" }));
    });

    app.post("/setup", { schema: { hide: true } }, async (request, reply) => {
      if (!(await passesCsrf(ctx, request, reply, undefined))) return reply;
      if ((await users.count()) > 0) return reply.redirect("/login", 303);
      const email = text(request.body, "email").trim();
      try {
        await createUser(ctx, { email, password: text(request.body, "password"), isAdmin: true }, { onlyIfFirst: true });
      } catch (err) {
        if (err instanceof AppError && err.code === "conflict") return reply.redirect("/login", 303);
        if (!(err instanceof AppError) || err.code !== "invalid_request") throw err;
        const [field, ...rest] = err.detail.split(": ");
        const message = rest.join(": ");
        const fieldErrors = field === "password" ? { password: `Password ${message}.` } : { email: `Email ${message}.` };
        return sendPage(reply, setupPage({ csrfToken: preSessionToken(ctx.config.publicUrl, request, reply), email, fieldErrors, error: "The administrator was not created. Check the fields below." }), 400);
      }
      ctx.log.info("first administrator created through /setup");
      return reply.redirect("/login?setup=done", 303);
    });

    app.get<{ Querystring: Record<string, string | string[] | undefined> }>("/login", { schema: { hide: true } }, async (request, reply) => {
      if ((await users.count()) === 0) return reply.redirect("/setup", 303);
      const returnTo = localReturnTo(ctx.config.publicUrl, typeof request.query.returnTo === "string" ? request.query.returnTo : "");
      if (await readSession(ctx, request)) return reply.redirect(returnTo ?? "/", 303);
      const info = request.query.setup === "done" ? "The administrator account was created. Sign in with it." : undefined;
      return sendPage(reply, loginPage({ csrfToken: preSessionToken(ctx.config.publicUrl, request, reply), email: "", returnTo, info }));
    });

    app.post("/login", { schema: { hide: true } }, async (request, reply) => {
      if (!(await passesCsrf(ctx, request, reply, undefined))) return reply;
      const email = text(request.body, "email").trim().slice(0, 320);
      const password = text(request.body, "password");
      const returnTo = localReturnTo(ctx.config.publicUrl, text(request.body, "returnTo"));
      const again = (error: string, status: number) =>
        sendPage(reply, loginPage({ csrfToken: preSessionToken(ctx.config.publicUrl, request, reply), email, returnTo, error }), status);

      const waitMs = await rateLimit.blockedFor(email, request.ip);
      if (waitMs > 0) {
        const minutes = Math.max(1, Math.ceil(waitMs / 60_000));
        reply.header("retry-after", String(Math.ceil(waitMs / 1000)));
        return again(`Too many failed sign-ins for this email from your address. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}.`, 429);
      }
      const account = email ? await users.byEmail(email) : undefined;
      const valid = await verifyPassword(account?.passwordHash ?? (await decoyHash), password);
      if (!account || !valid || password === "") {
        await rateLimit.recordFailure(email, request.ip);
        ctx.log.info({ ip: request.ip }, "sign-in refused: wrong email or password");
        return again("The email or password is not right.", 401);
      }
      await rateLimit.recordSuccess(email, request.ip);
      const { passwordHash: _hash, ...user } = account;
      await startSession(ctx, request, reply, user);
      return reply.redirect(returnTo ?? "/", 303);
    });

    app.get("/logout", { schema: { hide: true } }, async (request, reply) => {
      const signedIn = await readSession(ctx, request);
      if (!signedIn) return reply.redirect("/login", 303);
      return sendPage(reply, logoutPage(signedIn));
    });

    app.post("/logout", { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
      const signedIn = await readSession(ctx, request);
      if (!signedIn) return reply.redirect("/login", 303);
      if (!(await passesCsrf(ctx, request, reply, signedIn))) return reply;
      await endSession(ctx, request, reply);
      return reply.redirect("/login", 303);
    });
  };
}
