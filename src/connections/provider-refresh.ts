// One refresh at the provider, with the retry rules of SPEC §6: an unavailable provider
// (timeout, network error, 429, 5xx) is retried with exponential backoff and full jitter, for
// a bounded time, honouring Retry-After; a dead grant or a bad answer is not retried.
import { decodeJwt } from "jose";
import type { App } from "../apps/app-store.ts";
import type { Context } from "../context.ts";
import { AppError } from "../errors/problem.ts";
import { assertSameIdentity, refreshGrant } from "../oauth/grants.ts";
import { ProviderFailure } from "../oauth/provider-failure.ts";
import type { TokenSet } from "../oauth/token-set.ts";
import { backoffDelay, type RefreshSettings } from "./refresh-policy.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Refreshes, retrying unavailability within `s.retryBudgetMs` of real elapsed time (the budget
 * bounds how long we sleep, so it is measured on the monotonic clock, not the injected one).
 * Throws the last ProviderFailure; its retryAfter says when trying again makes sense.
 */
export async function refreshWithRetry(
  ctx: Pick<Context, "fetch" | "keyring" | "clock" | "log" | "config">,
  app: App,
  refreshToken: string,
  s: RefreshSettings,
): Promise<TokenSet> {
  const started = performance.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await refreshGrant(ctx, app, refreshToken);
    } catch (err) {
      const failure = asProviderFailure(err);
      if (failure.kind !== "unavailable") throw failure;
      const delay = Math.max(backoffDelay(s, attempt), (failure.retryAfter ?? 0) * 1000);
      const remaining = s.retryBudgetMs - (performance.now() - started);
      if (delay > remaining) throw failure;
      ctx.log.debug({ appId: app.id, attempt, delayMs: delay, reason: failure.message }, "provider unavailable; retrying the refresh");
      await sleep(delay);
    }
  }
}

/**
 * The grant helpers throw ProviderFailure, or an AppError when the app lacks what the step
 * needs (no token endpoint): that is not the provider's fault nor transient, so not retried.
 * Anything else is a network fault: unavailable.
 */
export function asProviderFailure(err: unknown): ProviderFailure {
  if (err instanceof ProviderFailure) return err;
  if (err instanceof AppError) {
    return new ProviderFailure(err.code === "provider_unavailable" ? "unavailable" : "bad_answer", err.detail, { cause: err, ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }) });
  }
  return new ProviderFailure("unavailable", `the refresh failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/**
 * OIDC Core §12.2: a refreshed ID token must name the same iss, sub and aud as the original; a
 * different account behind the same grant is not something we silently store. (refreshGrant
 * has verified the new token's signature; the comparison is assertSameIdentity's.) Returns the
 * reason, or null when they match or either token is absent.
 */
export function identityChange(originalIdToken: string | null, refreshedIdToken: string | null): string | null {
  if (!originalIdToken || !refreshedIdToken) return null;
  try {
    assertSameIdentity(decodeJwt(originalIdToken), decodeJwt(refreshedIdToken));
    return null;
  } catch (err) {
    return err instanceof ProviderFailure ? err.message : "the refreshed ID token is not a JWT";
  }
}
