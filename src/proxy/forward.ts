// Forwards one call to the provider's API as the user: the token injected, one forced refresh
// and one retry on a 401 (the token may have been revoked or rotated early), never a redirect
// followed with the token attached.
import type { Dispatcher } from "undici";
import { getApp } from "../apps/app-service.ts";
import type { Context } from "../context.ts";
import { connectionStore } from "../connections/connection-service.ts";
import { openTokens } from "../connections/connection-store.ts";
import { getToken } from "../connections/token.ts";
import { AppError } from "../errors/problem.ts";
import { proxyTarget } from "./proxy-path.ts";
import { requestHeadersForProvider } from "./proxy-headers.ts";

export interface ProxyCall {
  appId: string;
  userId: string;
  method: string;
  /** Raw path and query after /proxy/{appId}/{userId}. */
  rawPathAndQuery: string;
  headers: Record<string, string | string[] | undefined>;
  /** The request body, read fully (bounded) so the 401 retry can send it again. */
  body: Buffer | undefined;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
}

/** A token this close to expiry is refreshed before the call rather than after a 401. */
const MIN_VALIDITY_S = 30;

/** The provider's answer: its status, headers and body (a stream, read by the caller). */
export type ProviderAnswer = Dispatcher.ResponseData;

async function send(ctx: Context, call: ProxyCall, target: URL, token: { accessToken: string; tokenType: string }): Promise<ProviderAnswer> {
  // One deadline from the first byte of DNS, TCP and TLS to the answer's headers (undici's own
  // headersTimeout starts only once connected). A plain timer, not AbortSignal.any with
  // AbortSignal.timeout: on Node 20 the combined signal can lose its timeout to garbage
  // collection and never fire.
  const controller = new AbortController();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  // The deadline also rejects on its own: undici lets an abort wait for a connection attempt
  // in progress (up to its connect timeout), and the caller must not wait with it.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException("proxy timeout", "TimeoutError"));
      reject(new DOMException("proxy timeout", "TimeoutError"));
    }, ctx.config.proxyTimeoutMs);
  });
  const onCallerGone = () => controller.abort(call.signal.reason);
  call.signal.addEventListener("abort", onCallerGone, { once: true });
  const pending = ctx.request(target, {
    method: call.method as Dispatcher.HttpMethod,
    headers: requestHeadersForProvider(call.headers, token.accessToken, token.tokenType),
    ...(call.body && call.body.length > 0 && call.method !== "GET" && call.method !== "HEAD" ? { body: call.body } : {}),
    // No redirect is followed: it would carry the user's token to wherever the provider (or
    // an attacker controlling a page there) points. The caller gets the 3xx as it is.
    signal: controller.signal,
  });
  // An answer that comes after the deadline was given is thrown away, its connection freed.
  pending.then(
    (late) => timedOut && late.body.destroy(),
    () => {},
  );
  try {
    return await Promise.race([pending, deadline]);
  } catch (err) {
    const e = err as Error & { code?: string; cause?: { code?: string } };
    if (timedOut || e.code === "UND_ERR_CONNECT_TIMEOUT") {
      // A gateway timeout (504), with the SPEC's code for a provider that does not answer.
      throw new AppError("provider_unavailable", `the provider's API did not answer within ${ctx.config.proxyTimeoutMs / 1000} s`, { status: 504, cause: err });
    }
    if (e.name === "BlockedDestinationError") {
      throw new AppError("provider_error", `the app's apiBaseUrl is refused by the SSRF guard: ${e.message}`, { status: 502, cause: err });
    }
    throw new AppError("provider_error", `the provider's API could not be reached (${e.code ?? e.cause?.code ?? e.name})`, { status: 502, cause: err });
  } finally {
    // Headers are in (or the call failed): the body streams on without a deadline of ours.
    clearTimeout(timer);
    call.signal.removeEventListener("abort", onCallerGone);
  }
}

export async function forwardProxyCall(ctx: Context, call: ProxyCall): Promise<ProviderAnswer> {
  const app = await getApp(ctx, call.appId);
  if (!app.apiBaseUrl) throw new AppError("invalid_request", `app "${app.id}" has no apiBaseUrl: set one to use the proxy`);
  const target = proxyTarget(app.apiBaseUrl, call.rawPathAndQuery);
  const token = await getToken(ctx, app.id, call.userId, MIN_VALIDITY_S);
  const first = await send(ctx, call, target, token);
  if (first.statusCode !== 401) return first;
  // RFC 6750 §3.1: 401 invalid_token. One forced refresh, then one retry; a second 401 is the
  // answer. If the row already holds another token (someone refreshed after our read), that
  // one is retried without refreshing again. Only this rare path reads the row a second time.
  await first.body.dump();
  const row = await connectionStore(ctx).get(app.id, call.userId);
  if (!row) return send(ctx, call, target, token);
  const current = openTokens(ctx, row).accessToken;
  const fresh =
    current !== token.accessToken
      ? await getToken(ctx, app.id, call.userId, MIN_VALIDITY_S)
      : await getToken(ctx, app.id, call.userId, MIN_VALIDITY_S, { forceUnlessVersionAfter: row.version });
  return send(ctx, call, target, fresh);
}
