// Commands other than serve open the same Context as the server, with logs to stderr only
// (stdout carries the command's answer, e.g. a new API key and nothing else).
import { pino } from "pino";
import { loadConfig } from "../config/config.ts";
import type { Context } from "../context.ts";
import { createLogger } from "../log/logger.ts";
import { openContext } from "../runtime/open-context.ts";
import type { CliIo } from "./command.ts";

export async function withContext<T>(io: CliIo, fn: (ctx: Context) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const log = createLogger(config.logLevel === "info" ? "warn" : config.logLevel, pino.destination(2));
  const ctx = await openContext(config, { log, metricsDefaults: false, readCache: false });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
