// Every HTTP call this layer makes to a provider (token, revocation, userinfo, JWKS endpoints)
// goes through here: a bounded time, and transport failures turned into the ProviderFailure
// classes the rest of the service acts on (SPEC §6). What the provider *said* is read elsewhere
// (token-answer.ts); this file only knows whether an answer arrived.
import type { Clock } from "../context.ts";
import type { OAuthContext } from "./grants.ts";
import { ProviderFailure } from "./provider-failure.ts";

/** How long one provider call may take before it counts as unavailable. */
export const PROVIDER_TIMEOUT_MS = 10_000;

/** What oauth4webapi's and jose's customFetch hooks pass: RequestInit-shaped, typed loosely by each. */
export interface ProviderRequest {
  method?: string;
  headers?: Record<string, string> | Headers;
  body?: unknown;
  redirect?: RequestRedirect;
  signal?: AbortSignal | null | undefined;
}

export type ProviderFetch = (url: string, init: ProviderRequest) => Promise<Response>;

/** ctx.fetch bounded in time, throwing ProviderFailure("refused" | "unavailable") when no answer arrives. */
export function providerFetch(ctx: OAuthContext): ProviderFetch {
  const timeoutMs = ctx.providerTimeoutMs ?? PROVIDER_TIMEOUT_MS;
  return async (url, init) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    try {
      return await ctx.fetch(url, { ...init, signal } as RequestInit);
    } catch (err) {
      throw transportFailure(err, new URL(url), timeout.aborted ? timeoutMs : null);
    }
  };
}

function transportFailure(err: unknown, url: URL, timedOutAfterMs: number | null): ProviderFailure {
  // The SSRF guard (src/net/outbound-fetch.ts) refuses before connecting; matched by name so
  // this layer does not depend on the guard's module.
  if ((err as Error | undefined)?.name === "BlockedDestinationError") {
    return new ProviderFailure("refused", `the destination ${url.host} is not allowed`, { cause: err });
  }
  if (timedOutAfterMs !== null) {
    return new ProviderFailure("unavailable", `${url.host} did not answer within ${timedOutAfterMs / 1000} s`, { cause: err });
  }
  if (err instanceof ProviderFailure) return err;
  return new ProviderFailure("unavailable", `could not reach ${url.host}`, { cause: err });
}

/**
 * RFC 9110 §10.2.3: Retry-After is delay-seconds or an HTTP-date. Returns whole seconds from
 * now (never negative), or undefined when absent or unreadable.
 */
export function retryAfterSeconds(header: string | null, clock: Clock): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value);
  // An HTTP-date names its weekday and month; Date.parse alone would read "-5" as a year.
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - clock.now()) / 1000));
}

/** 429 and 5xx: the provider is there but cannot serve now (SPEC §6: retried, never marks a connection). */
export function unavailableFailure(response: Response, clock: Clock, what: string): ProviderFailure | null {
  if (response.status !== 429 && response.status < 500) return null;
  const retryAfter = retryAfterSeconds(response.headers.get("retry-after"), clock);
  return new ProviderFailure("unavailable", `${what} answered HTTP ${response.status}`, {
    status: response.status,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  });
}
