// Config → a ready Context: database opened and migrated, keyring loaded and checked against the
// data, bootstrap API key ensured. Shared by `serve` and every CLI command.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { ensureBootstrapApiKey } from "../api-keys/api-key-service.ts";
import type { Config } from "../config/config.ts";
import { systemClock, type Clock, type Context, type OutboundFetch } from "../context.ts";
import { checkKeyringAgainstDatabase, databaseHasSealedData } from "../crypto/keyring-check.ts";
import { loadKeyring, type LoadedKeyring } from "../crypto/keyring-source.ts";
import { createOutboundHttp } from "../net/outbound-fetch.ts";
import { createMetrics } from "../metrics/metrics.ts";
import { openDatabase } from "../store/database.ts";
import { migrateToLatest } from "../store/migrator.ts";
import { ReadCache } from "../store/read-cache.ts";

export interface OpenedContext extends Context {
  close(): Promise<void>;
}

export interface OpenContextOptions {
  log: Logger;
  clock?: Clock;
  fetch?: OutboundFetch;
  /** Skip migrations (they run by default, at every start). */
  migrate?: boolean;
  metricsDefaults?: boolean;
  /** Keep hot rows in memory, kept exact by the change feed (default on; off for CLI commands). */
  readCache?: boolean;
}

export async function openContext(config: Config, opts: OpenContextOptions): Promise<OpenedContext> {
  const metrics = createMetrics({ defaults: opts.metricsDefaults ?? true });
  const store = openDatabase(config.databaseUrl, { onQuery: (ms) => metrics.dbQueries.observe(ms / 1000) });
  let loaded: LoadedKeyring;
  try {
    if (opts.migrate !== false) await migrateToLatest(store.db as never);
    loaded = loadKeyring({ keysFromEnv: config.keysFromEnv, dataDir: config.dataDir, mayGenerate: !(await databaseHasSealedData(store.db)) });
    await checkKeyringAgainstDatabase(store.db, loaded.keyring);
  } catch (err) {
    await store.close();
    throw err;
  }
  if (loaded.generated) {
    opts.log.warn(
      { file: loaded.file },
      "generated a new encryption keyring in the keys file; back it up, and set CONNECTED_APPS_KEYS for more than one instance",
    );
  }
  if (config.allowPrivateUrls) {
    opts.log.warn("CONNECTED_APPS_ALLOW_PRIVATE_URLS is on: the SSRF guard lets provider URLs reach loopback and private addresses");
  }
  const outbound = createOutboundHttp({ allowPrivateUrls: config.allowPrivateUrls });
  const ctx: OpenedContext = {
    config,
    db: store.db,
    dialect: store.dialect,
    keyring: loaded.keyring,
    clock: opts.clock ?? systemClock,
    fetch: opts.fetch ?? outbound.fetch,
    request: outbound.request,
    log: opts.log,
    metrics,
    instanceId: `${process.pid}-${randomBytes(4).toString("hex")}`,
    close: () => store.close(),
  };
  if (opts.readCache !== false) {
    const feed = store.watchChanges(opts.log);
    const counted = (table: "apps" | "connections") => {
      const results = { hit: metrics.readCache.labels(table, "hit"), miss: metrics.readCache.labels(table, "miss"), bypass: metrics.readCache.labels(table, "bypass") };
      return (result: keyof typeof results) => results[result].inc();
    };
    ctx.caches = { apps: new ReadCache(feed, "apps", 10_000, counted("apps")), connections: new ReadCache(feed, "connections", 10_000, counted("connections")) };
  }
  if (config.bootstrapApiKey) await ensureBootstrapApiKey(ctx, config.bootstrapApiKey);
  return ctx;
}
