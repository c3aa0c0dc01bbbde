import { loadConfig } from "../config/config.ts";
import { openDatabase } from "../store/database.ts";
import { migrateToLatest } from "../store/migrator.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";

export const migrateCommand: Command = {
  path: ["migrate"],
  usage: "connected-apps migrate",
  summary: "apply database migrations and exit",
  async run(args, io) {
    parseFlags(args, {});
    const config = loadConfig(io.env);
    const store = openDatabase(config.databaseUrl);
    try {
      const applied = await migrateToLatest(store.db as never);
      io.out(applied.length ? `applied ${applied.join(", ")}` : "the database is up to date");
    } finally {
      await store.close();
    }
  },
};
