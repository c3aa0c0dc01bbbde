import { loadConfig } from "../config/config.ts";
import { createLogger } from "../log/logger.ts";
import { runService } from "../runtime/run-service.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";

export const serveCommand: Command = {
  path: ["serve"],
  usage: "connected-apps serve",
  summary: "run the server and its background workers (logs to stdout)",
  async run(args, io) {
    parseFlags(args, {});
    const config = loadConfig(io.env);
    const log = createLogger(config.logLevel);
    const service = await runService(config, log);
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        log.info({ signal }, "stopping");
        service.stop().then(resolve, (err: unknown) => {
          log.error({ err }, "stop failed");
          resolve();
        });
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
    });
  },
};
