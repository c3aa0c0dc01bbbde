// The app's own token from the client-credentials grant (RFC 6749 §4.4, the "backend app
// flow"), cached sealed in app_tokens until shortly before it expires, and fetched once per
// expiry per instance (single-flight), as user tokens are.
import type { Context } from "../context.ts";
import { getApp } from "../apps/app-service.ts";
import { open, seal } from "../crypto/seal.ts";
import { AppError } from "../errors/problem.ts";
import { clientCredentialsGrant } from "../oauth/grants.ts";
import { asProviderFailure } from "./provider-refresh.ts";
import type { Token } from "./token.ts";

/** Renew this long before expiry (or at half the lifetime, for short-lived tokens). */
const RENEW_BEFORE_MS = 60_000;
/** A token whose lifetime the provider did not state is reused for at most this long. */
const UNKNOWN_LIFETIME_REUSE_MS = 3600_000;

const binding = (appId: string) => ({ table: "app_tokens", id: appId, field: "access_token" });
const inFlight = new Map<string, Promise<Token>>();

export async function getAppToken(ctx: Context, appId: string): Promise<Token> {
  const app = await getApp(ctx, appId);
  const now = ctx.clock.now();
  const cached = await ctx.db.selectFrom("app_tokens").selectAll().where("app_id", "=", app.id).executeTakeFirst();
  if (cached) {
    const expiresAt = cached.expires_at === null ? null : Number(cached.expires_at);
    const reuseUntil =
      expiresAt === null
        ? Number(cached.created_at) + UNKNOWN_LIFETIME_REUSE_MS
        : expiresAt - Math.min(RENEW_BEFORE_MS, (expiresAt - Number(cached.created_at)) / 2);
    if (now < reuseUntil) {
      return {
        accessToken: open(ctx.keyring, cached.access_token, binding(app.id)),
        tokenType: cached.token_type,
        expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
        scopes: JSON.parse(cached.scopes) as string[],
      };
    }
  }
  const key = `${ctx.instanceId}\u0000${app.id}`;
  let flight = inFlight.get(key);
  if (!flight) {
    flight = fetchAndCache(ctx, app.id).finally(() => inFlight.delete(key));
    inFlight.set(key, flight);
  }
  return flight;
}

async function fetchAndCache(ctx: Context, appId: string): Promise<Token> {
  const app = await getApp(ctx, appId);
  let answer;
  try {
    answer = await clientCredentialsGrant(ctx, app);
  } catch (err) {
    const failure = asProviderFailure(err);
    if (failure.kind === "unavailable") {
      throw new AppError("provider_unavailable", `the provider did not issue a token: ${failure.message}`, { retryAfter: failure.retryAfter ?? 5 });
    }
    throw new AppError("provider_error", `the provider refused the client-credentials grant: ${failure.message}`);
  }
  const now = ctx.clock.now();
  const expiresAt = answer.expiresIn === null ? null : now + answer.expiresIn * 1000;
  const scopes = answer.scopes ?? app.scopes;
  const row = {
    access_token: seal(ctx.keyring, answer.accessToken, binding(app.id)),
    token_type: answer.tokenType,
    scopes: JSON.stringify(scopes),
    expires_at: expiresAt,
    created_at: now,
  };
  await ctx.db
    .insertInto("app_tokens")
    .values({ app_id: app.id, ...row })
    .onConflict((oc) => oc.column("app_id").doUpdateSet(row))
    .execute();
  return { accessToken: answer.accessToken, tokenType: answer.tokenType, expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(), scopes };
}
