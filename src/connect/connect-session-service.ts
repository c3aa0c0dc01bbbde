// Connect sessions (SPEC §4): a host app's backend mints a single-use, 30-minute link for one of
// its users; opening it spends it and starts the flow in that browser, with no sign-in here.
import { getApp } from "../apps/app-service.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { appNotReadyReason } from "./app-readiness.ts";
import type { ConnectSessionResource, CreateConnectSessionBody } from "./connect-session-schema.ts";
import { ConnectSessionStore } from "./connect-session-store.ts";
import { FlowFailure } from "./flow-failure.ts";
import { hashOpaqueToken, newOpaqueToken } from "./opaque-token.ts";

export const CONNECT_SESSION_TTL_MS = 30 * 60 * 1000;

export async function createConnectSession(ctx: Pick<Context, "db" | "clock" | "config">, body: CreateConnectSessionBody): Promise<ConnectSessionResource> {
  const app = await getApp(ctx, body.appId);
  const notReady = appNotReadyReason(app);
  if (notReady) throw new AppError("invalid_request", `appId: app "${app.id}" cannot start a connect flow yet: ${notReady}`);
  const token = newOpaqueToken();
  const now = ctx.clock.now();
  const expiresAt = now + CONNECT_SESSION_TTL_MS;
  const store = new ConnectSessionStore(ctx.db);
  // Kept a day past expiry, so a late click still reads "expired" rather than "not valid".
  await store.deleteExpired(now - 24 * 60 * 60 * 1000);
  await store.insert({ tokenHash: hashOpaqueToken(token), appId: app.id, userId: body.userId, returnTo: body.returnTo ?? null, now, expiresAt });
  const url = new URL(`${ctx.config.publicUrl}/connect/${encodeURIComponent(app.id)}`);
  url.searchParams.set("session", token);
  return { url: url.toString(), expiresAt: new Date(expiresAt).toISOString() };
}

/** Spends the session behind a link's token (once, even under two concurrent opens) and says whose flow it starts. */
export async function redeemConnectSession(
  ctx: Pick<Context, "db" | "clock">,
  appId: string,
  token: string,
): Promise<{ userId: string; returnTo: string | null }> {
  const store = new ConnectSessionStore(ctx.db);
  const tokenHash = hashOpaqueToken(token);
  const session = await store.get(tokenHash);
  const refuse = (summary: string) =>
    new FlowFailure("invalid_session", 400, summary, "Go back to the application that sent you here and start connecting again: it will give you a new link.");
  if (!session || session.appId !== appId) throw refuse("This connect link is not valid.");
  if (session.usedAt !== null) throw refuse("This connect link was already used. Each link works once.");
  if (session.expiresAt <= ctx.clock.now()) throw refuse("This connect link has expired.");
  if (!(await store.spend(tokenHash, appId, ctx.clock.now()))) throw refuse("This connect link was already used. Each link works once.");
  return { userId: session.userId, returnTo: session.returnTo };
}
