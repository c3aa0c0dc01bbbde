// The dependencies every service takes as its first argument. Time and outbound HTTP are here
// so a rule can be tested with a fixed clock and a fake fetch, and the same code runs for real.
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { Dispatcher } from "undici";
import type { App } from "./apps/app-store.ts";
import type { Config } from "./config/config.ts";
import type { ConnectionRecord } from "./connections/connection-store.ts";
import type { Keyring } from "./crypto/keyring.ts";
import type { Metrics } from "./metrics/metrics.ts";
import type { Dialect } from "./store/dialect.ts";
import type { ReadCache } from "./store/read-cache.ts";
import type { Database } from "./store/schema.ts";

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Outbound HTTP to providers: SSRF-guarded unless the config allows private addresses. */
export type OutboundFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** The same guard as undici.request: the API proxy's way out (streams, no WHATWG layers). */
export type OutboundRequest = (
  url: URL,
  init: {
    method: Dispatcher.HttpMethod;
    headers: Record<string, string | string[]>;
    body?: Buffer;
    signal: AbortSignal;
  },
) => Promise<Dispatcher.ResponseData>;

export interface Context {
  config: Config;
  db: Kysely<Database>;
  dialect: Dialect;
  /** Mutable: key rotation swaps in a ring with a new primary while the service runs. */
  keyring: Keyring;
  clock: Clock;
  fetch: OutboundFetch;
  /** For the API proxy; everything else speaks fetch. */
  request: OutboundRequest;
  log: Logger;
  metrics: Metrics;
  /** Names this process in leases, so a lock can only be released by its holder. */
  instanceId: string;
  /**
   * Hot rows kept exact by the change feed (store/read-cache.ts): read paths use them, writes
   * and anything under a lease read the database. Absent in CLI commands and bare test contexts.
   */
  caches?: ReadCaches;
}

export interface ReadCaches {
  /** By app id. */
  apps: ReadCache<App>;
  /** By connectionKey(appId, userId); rows keep their tokens sealed. */
  connections: ReadCache<ConnectionRecord>;
}
