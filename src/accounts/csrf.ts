// CSRF protection for every state-changing browser request, in two layers:
// 1. The request must come from this site: `Origin` (or, without it, `Sec-Fetch-Site`) is checked
//    the way Hono's csrf middleware does; a request that sends neither (not a browser) passes on
//    to layer 2.
// 2. A token in the form (or the `x-csrf-token` header of a fetch) must equal the signed-in
//    session's token; before sign-in (/setup, /login), a random value in a cookie of its own
//    (double submit), so a login form cannot be posted from another site either.
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { newOpaqueToken } from "../connect/opaque-token.ts";
import { cookieName, isHttps } from "./cookie-rules.ts";

export function preSessionCookieName(publicUrl: string): string {
  return cookieName(publicUrl, "ca_csrf");
}

/** Whether the browser says this request was made by a page of this origin. */
export function isSameOriginRequest(publicUrl: string, request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    // The public origin, or the origin the browser used to reach us (Host cannot be forged by
    // another site's page).
    const reached = `${isHttps(publicUrl) ? "https" : request.protocol}://${request.headers.host ?? ""}`;
    return origin === new URL(publicUrl).origin || origin === reached;
  }
  const site = request.headers["sec-fetch-site"];
  if (site !== undefined) return site === "same-origin" || site === "none";
  return true;
}

export function tokensMatch(expected: string, given: unknown): boolean {
  if (typeof given !== "string" || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/** The pre-session token of this browser, setting its cookie when it has none yet. */
export function preSessionToken(publicUrl: string, request: FastifyRequest, reply: FastifyReply): string {
  const name = preSessionCookieName(publicUrl);
  const existing = request.cookies[name];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const value = newOpaqueToken();
  reply.setCookie(name, value, { httpOnly: true, sameSite: "strict", secure: isHttps(publicUrl), path: "/" });
  return value;
}

/** The token a form posted without a session must carry: the pre-session cookie's value. */
export function expectedPreSessionToken(publicUrl: string, request: FastifyRequest): string | undefined {
  return request.cookies[preSessionCookieName(publicUrl)];
}
