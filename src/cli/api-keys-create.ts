import { createApiKey } from "../api-keys/api-key-service.ts";
import { parseFlags, requireFlag } from "./args.ts";
import type { Command } from "./command.ts";
import { withContext } from "./with-context.ts";

export const apiKeysCreateCommand: Command = {
  path: ["api-keys", "create"],
  usage: "connected-apps api-keys create --name NAME",
  summary: "create an admin API key and print it once (the only line on stdout)",
  async run(args, io) {
    const { values } = parseFlags(args, { name: { type: "string" } });
    const name = requireFlag(values.name, "name");
    const { key } = await withContext(io, (ctx) => createApiKey(ctx, name.slice(0, 200)));
    io.out(key);
  },
};
