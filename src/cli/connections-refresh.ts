// `connected-apps connections refresh APP USER`: force one refresh now, through the same path
// reads and the refresher take (getToken), so it shows exactly what the service would see.
import { getConnectionRecord } from "../connections/connection-service.ts";
import { getToken } from "../connections/token.ts";
import { parseFlags } from "./args.ts";
import type { Command } from "./command.ts";
import { withContext } from "./with-context.ts";

export const connectionsRefreshCommand: Command = {
  path: ["connections", "refresh"],
  usage: "connected-apps connections refresh APP USER",
  summary: "force one refresh of a user's connection and print its new expiry (or the provider's error)",
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, 2);
    const [appId, userId] = positionals as [string, string];
    const token = await withContext(io, async (ctx) => {
      const rec = await getConnectionRecord(ctx, appId, userId);
      return getToken(ctx, appId, userId, 0, { forceUnlessVersionAfter: rec.version });
    });
    // The expiry alone on stdout, so scripts can read it; "none" when the provider stated no lifetime.
    io.out(token.expiresAt ?? "none");
  },
};
