// Signed-in local users of the web UI. The cookie holds 32 random bytes; web_sessions holds
// their SHA-256 and the session's CSRF token. A new session (new cookie value) at every sign-in,
// so a value planted in the browser before sign-in is worthless afterwards (session fixation).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Context } from "../context.ts";
import { hashOpaqueToken, newOpaqueToken } from "../connect/opaque-token.ts";
import { cookieName, isHttps } from "./cookie-rules.ts";
import { SessionStore, type WebSession } from "./session-store.ts";
import { UserStore, type User } from "./user-store.ts";

const SESSION_LIFETIME_MS = 12 * 60 * 60 * 1000;
const COOKIE_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function sessionCookieName(publicUrl: string): string {
  return cookieName(publicUrl, "ca_session");
}

export interface SignedIn {
  user: User;
  session: WebSession;
}

/** The session and user this request's cookie names, or undefined. */
export async function readSession(ctx: Pick<Context, "db" | "clock" | "config">, request: FastifyRequest): Promise<SignedIn | undefined> {
  const value = request.cookies[sessionCookieName(ctx.config.publicUrl)];
  if (!value || !COOKIE_SHAPE.test(value)) return undefined;
  const session = await new SessionStore(ctx.db).live(hashOpaqueToken(value), ctx.clock.now());
  if (!session) return undefined;
  const user = await new UserStore(ctx.db).byId(session.userId);
  return user && { user, session };
}

/** The user whose valid session cookie this request carries, or undefined. */
export async function getSignedInUser(ctx: Context, request: FastifyRequest): Promise<User | undefined> {
  return (await readSession(ctx, request))?.user;
}

/** Starts a fresh session for `user`, ending the one this browser had (rotation at sign-in). */
export async function startSession(ctx: Pick<Context, "db" | "clock" | "config">, request: FastifyRequest, reply: FastifyReply, user: User): Promise<void> {
  const store = new SessionStore(ctx.db);
  const previous = request.cookies[sessionCookieName(ctx.config.publicUrl)];
  if (previous) await store.delete(hashOpaqueToken(previous));
  const now = ctx.clock.now();
  await store.deleteExpired(now);
  const value = newOpaqueToken();
  await store.insert({ idHash: hashOpaqueToken(value), userId: user.id, csrfToken: newOpaqueToken(), expiresAt: now + SESSION_LIFETIME_MS }, now);
  reply.setCookie(sessionCookieName(ctx.config.publicUrl), value, {
    httpOnly: true,
    // Lax: sent on top-level navigations (the way back from a provider), not on cross-site posts.
    sameSite: "lax",
    secure: isHttps(ctx.config.publicUrl),
    path: "/",
    maxAge: SESSION_LIFETIME_MS / 1000,
  });
}

export async function endSession(ctx: Pick<Context, "db" | "config">, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const name = sessionCookieName(ctx.config.publicUrl);
  const value = request.cookies[name];
  if (value) await new SessionStore(ctx.db).delete(hashOpaqueToken(value));
  reply.clearCookie(name, { path: "/", httpOnly: true, sameSite: "lax", secure: isHttps(ctx.config.publicUrl) });
}
