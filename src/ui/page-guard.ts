// What every page route checks before it does anything: who is signed in, whether they may see
// this page, and (for a POST) that the request came from our own form (accounts/csrf.ts).
import type { FastifyReply, FastifyRequest } from "fastify";
import { expectedPreSessionToken, isSameOriginRequest, tokensMatch } from "../accounts/csrf.ts";
import { readSession, type SignedIn } from "../accounts/web-session.ts";
import type { Context } from "../context.ts";
import { refusalPage } from "./pages/account-pages.ts";

// No form-action directive: the Connect buttons are GET forms whose answer redirects to the
// provider, and browsers apply form-action to that redirect too.
export function sendPage(reply: FastifyReply, page: string, status = 200): FastifyReply {
  return reply
    .code(status)
    .header("cache-control", "no-store")
    .header("x-frame-options", "DENY")
    .header("content-security-policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'")
    .type("text/html; charset=utf-8")
    .send(page);
}

/** The signed-in user, or undefined after redirecting the browser to /login (and back here after). */
export async function requireSignedIn(ctx: Context, request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> {
  const signedIn = await readSession(ctx, request);
  if (signedIn) return signedIn;
  const back = request.method === "GET" && request.url !== "/" ? `?returnTo=${encodeURIComponent(request.url)}` : "";
  await reply.redirect(`/login${back}`, 303);
  return undefined;
}

/** An admin, or undefined after a 403 page (or the sign-in redirect). */
export async function requireAdmin(ctx: Context, request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> {
  const signedIn = await requireSignedIn(ctx, request, reply);
  if (!signedIn) return undefined;
  if (signedIn.user.isAdmin) return signedIn;
  await sendPage(reply, refusalPage("Not allowed", "Only administrators can register or change Connected Apps.", signedIn), 403);
  return undefined;
}

function formToken(request: FastifyRequest): unknown {
  const header = request.headers["x-csrf-token"];
  if (typeof header === "string") return header;
  const body = request.body;
  return body && typeof body === "object" ? (body as Record<string, unknown>)["_csrf"] : undefined;
}

/**
 * Whether this state-changing request carries proof that our page sent it; when not, a 403 page
 * has been sent. `signedIn` absent: checks the pre-session token (setup, login).
 */
export async function passesCsrf(ctx: Context, request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn | undefined): Promise<boolean> {
  const expected = signedIn ? signedIn.session.csrfToken : expectedPreSessionToken(ctx.config.publicUrl, request);
  if (isSameOriginRequest(ctx.config.publicUrl, request) && expected !== undefined && tokensMatch(expected, formToken(request))) return true;
  ctx.log.info({ path: request.url.split("?")[0], origin: request.headers.origin }, "form post refused: CSRF check failed");
  await sendPage(
    reply,
    refusalPage("Request refused", "This form could not be verified (it may be stale, or sent from another site). Nothing was changed. Reload the page and try again.", signedIn),
    403,
  );
  return false;
}
