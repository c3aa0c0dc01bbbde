// Run as a child process by the takeover suite: opens the service on the given database, starts
// a refresh (which takes the lease and then hangs at a slow provider) and waits to be SIGKILLed.
import { getToken } from "../../src/connections/token.ts";
import { setRefreshSettings } from "../../src/connections/refresh-policy.ts";
import { loadConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openContext } from "../../src/runtime/open-context.ts";

const [appId, userId, leaseMs] = process.argv.slice(2) as [string, string, string];
const ctx = await openContext(loadConfig(process.env), { log: createLogger("silent"), metricsDefaults: false });
setRefreshSettings(ctx, { leaseMs: Number(leaseMs), readWaitMs: 600_000 });
process.stdout.write("started\n");
await getToken(ctx, appId, userId, 60).catch(() => {});
