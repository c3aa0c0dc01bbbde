// The browser-binding cookie ties a flow's `state` to the browser that started it (RFC 9700
// §4.7.1: CSRF protection for the redirect URI; a leaked or injected authorization response
// cannot be completed in another browser). The value is random; transactions store its hash.
// One value per browser, reused by concurrent flows, so two tabs connecting two apps both work.
import type { FastifyReply, FastifyRequest } from "fastify";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token.ts";

const TEN_MINUTES_S = 10 * 60;

/**
 * `__Host-` (Secure, Path=/, no Domain: only this exact origin can set or read it) when PUBLIC_URL
 * is https; on http a browser refuses `__Host-` and Secure, so a plain HttpOnly cookie is used.
 */
export function bindingCookieName(publicUrl: string): string {
  return isHttps(publicUrl) ? "__Host-ca_connect" : "ca_connect";
}

const isHttps = (publicUrl: string) => publicUrl.startsWith("https:");

/** The hash of this browser's binding value, setting the cookie (fresh Max-Age) first. */
export function bindBrowser(publicUrl: string, request: FastifyRequest, reply: FastifyReply): string {
  const name = bindingCookieName(publicUrl);
  const existing = request.cookies[name];
  const value = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newOpaqueToken();
  reply.setCookie(name, value, {
    httpOnly: true,
    // Lax: the provider's redirect back is a top-level GET navigation, which carries it.
    sameSite: "lax",
    secure: isHttps(publicUrl),
    path: "/",
    maxAge: TEN_MINUTES_S,
  });
  return hashOpaqueToken(value);
}

/** The hash of the binding value this request carries, or null without the cookie. */
export function browserBindingHash(publicUrl: string, request: FastifyRequest): string | null {
  const value = request.cookies[bindingCookieName(publicUrl)];
  return value ? hashOpaqueToken(value) : null;
}
