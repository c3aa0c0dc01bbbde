// Starting a connect flow: one transaction row and the authorization request (SPEC §6).
import type { FastifyReply, FastifyRequest } from "fastify";
import * as oauth from "oauth4webapi";
import { redirectUriFor } from "../apps/app-service.ts";
import type { App } from "../apps/app-store.ts";
import type { Context } from "../context.ts";
import { buildAuthorizationUrl, usesPkce } from "../oauth/grants.ts";
import { bindBrowser } from "./browser-binding.ts";
import { hashOpaqueToken } from "./opaque-token.ts";
import { TransactionStore } from "./transaction-store.ts";

export const TRANSACTION_TTL_MS = 10 * 60 * 1000;
const SWEEP_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Records the flow and answers the authorization URL to redirect to. `state` is 32 random bytes,
 * stored only as its hash (RFC 6749 §10.12), single use, bound to the user, the app and this
 * browser; PKCE S256 (RFC 7636 §4.2) unless the app turns it off; an OIDC nonce (OIDC Core
 * §3.1.2.1) when the scopes hold `openid`. The app must be ready (appNotReadyReason).
 */
export async function startConnectFlow(
  ctx: Context,
  http: { request: FastifyRequest; reply: FastifyReply },
  p: { app: App; userId: string; returnTo: string | null },
): Promise<URL> {
  const state = oauth.generateRandomState();
  const codeVerifier = usesPkce(p.app) ? oauth.generateRandomCodeVerifier() : null;
  const nonce = p.app.scopes.includes("openid") ? oauth.generateRandomNonce() : null;
  const url = buildAuthorizationUrl(p.app, {
    redirectUri: redirectUriFor(ctx.config.publicUrl, p.app.id),
    state,
    codeChallenge: codeVerifier === null ? null : await oauth.calculatePKCECodeChallenge(codeVerifier),
    nonce,
  });
  const now = ctx.clock.now();
  const store = new TransactionStore(ctx.db, ctx.keyring);
  // Kept a day past expiry, so a late replay still reads "already used" rather than "unknown".
  await store.deleteExpired(now - SWEEP_AFTER_MS);
  await store.insert(
    {
      stateHash: hashOpaqueToken(state),
      appId: p.app.id,
      userId: p.userId,
      browserHash: bindBrowser(ctx.config.publicUrl, http.request, http.reply),
      codeVerifier,
      nonce,
      returnTo: p.returnTo,
      scopes: p.app.scopes,
      expiresAt: now + TRANSACTION_TTL_MS,
    },
    now,
  );
  return url;
}
