// `connected-apps serve`: the HTTP server plus the background workers of this instance, and a
// clean stop on SIGTERM/SIGINT (stop taking requests, let workers finish or abandon safely).
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/config.ts";
import { UserStore } from "../accounts/user-store.ts";
import { buildServer } from "../http/server.ts";
import type { Logger } from "pino";
import { openContext, type OpenedContext } from "./open-context.ts";
import { startWorkers, type Worker } from "./workers.ts";

export interface RunningService {
  ctx: OpenedContext;
  server: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

export async function runService(config: Config, log: Logger, opts: { workers?: boolean } = {}): Promise<RunningService> {
  const ctx = await openContext(config, { log });
  const server = await buildServer(ctx);
  await server.listen({ port: config.port, host: config.host });
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const workers: Worker[] = opts.workers === false ? [] : startWorkers(ctx);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await server.close();
      await Promise.allSettled(workers.map((w) => w.stop()));
      await ctx.close();
    })());
  log.info({ url: config.publicUrl, listen: `${config.host}:${port}`, database: ctx.dialect }, "connected-apps is serving");
  if ((await new UserStore(ctx.db).count()) === 0) {
    log.info(`no accounts yet: open ${config.publicUrl}/setup to create the first administrator`);
  }
  return { ctx, server, url: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`, stop };
}
