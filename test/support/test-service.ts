// An in-process service for route tests (app.inject()) on a given database, with a log capture
// that suites check for secret sentinels.
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { loadConfig, type Config } from "../../src/config/config.ts";
import type { Clock, OutboundFetch } from "../../src/context.ts";
import { createApiKey } from "../../src/api-keys/api-key-service.ts";
import { generateKey, formatKeyring, buildKeyring } from "../../src/crypto/keyring.ts";
import { buildServer } from "../../src/http/server.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openContext, type OpenedContext } from "../../src/runtime/open-context.ts";
import type { Dialect } from "../../src/store/dialect.ts";
import { createTestDatabase, type TestDatabase } from "./databases.ts";

export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join("\n");
  }
}

export interface TestService {
  ctx: OpenedContext;
  server: FastifyInstance;
  database: TestDatabase;
  config: Config;
  logs: LogCapture;
  /** A valid admin API key. */
  apiKey: string;
  /** Headers with the API key and JSON content type. */
  headers: Record<string, string>;
  close(): Promise<void>;
}

export interface TestServiceOptions {
  env?: Record<string, string>;
  clock?: Clock;
  fetch?: OutboundFetch;
  database?: TestDatabase;
}

export async function startTestService(dialect: Dialect, opts: TestServiceOptions = {}): Promise<TestService> {
  const database = opts.database ?? (await createTestDatabase(dialect));
  const config = loadConfig({
    DATABASE_URL: database.url,
    CONNECTED_APPS_DATA_DIR: database.dir,
    CONNECTED_APPS_KEYS: formatKeyring(buildKeyring([generateKey()])),
    CONNECTED_APPS_ALLOW_PRIVATE_URLS: "true",
    LOG_LEVEL: "trace",
    ...opts.env,
  });
  const logs = new LogCapture();
  const log = createLogger(config.logLevel, logs);
  const ctx = await openContext(config, {
    log,
    metricsDefaults: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const server = await buildServer(ctx);
  await server.ready();
  const { key } = await createApiKey(ctx, "test");
  return {
    ctx,
    server,
    database,
    config,
    logs,
    apiKey: key,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    close: async () => {
      await server.close();
      await ctx.close();
      if (!opts.database) await database.drop();
    },
  };
}
