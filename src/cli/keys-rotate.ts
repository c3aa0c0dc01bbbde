// `connected-apps keys rotate` and `connected-apps keys retire KID` (SPEC §3): a new primary key
// and every sealed value re-sealed with it while the service keeps serving; an old key removed
// once nothing uses it.
import { retireKey, rotateKeys } from "../crypto/rotation.ts";
import { parseFlags } from "./args.ts";
import { UsageError, type Command } from "./command.ts";
import { withContext } from "./with-context.ts";

/** Instances poll the keys file every second (keyring-reload.ts): give them time to see the new key. */
const PROPAGATION_MS = 2000;

export const keysRotateCommand: Command = {
  path: ["keys", "rotate"],
  usage: "connected-apps keys rotate [--reseal-only] [--batch N]",
  summary: "add a new primary key and re-encrypt every secret with it, while the service runs; prints a summary",
  async run(args, io) {
    const { values } = parseFlags(args, { "reseal-only": { type: "boolean" }, batch: { type: "string" } });
    const batchSize = values.batch === undefined ? 500 : Number(values.batch);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new UsageError("--batch: a whole number from 1 to 10000");
    const result = await withContext(io, (ctx) =>
      rotateKeys(ctx, {
        batchSize,
        addKey: values["reseal-only"] !== true,
        propagationMs: PROPAGATION_MS,
        onNewKey: ({ kid, envValue }) => {
          if (envValue === undefined) return;
          // Printed before any secret is re-sealed with it: without this value they cannot be opened.
          io.out(`new primary key ${kid}; set this on every instance and restart them:`);
          io.out(`CONNECTED_APPS_KEYS=${envValue}`);
        },
      }),
    );
    const perTable = Object.entries(result.resealed).map(([table, n]) => `${table} ${n}`).join(", ");
    io.out(`${result.resumed ? "finished the rotation" : "rotated"} to key ${result.kid} (previous ${result.previousKid}): ${result.total} values re-sealed in ${(result.elapsedMs / 1000).toFixed(1)} s (${perTable})`);
    if (result.remaining > 0) {
      io.err(`warning: ${result.remaining} values are still on an older key (instances that do not have the new key yet keep writing with the old one); run "connected-apps keys rotate --reseal-only" once every instance has it`);
    } else if (result.previousKid !== result.kid) io.out(`key ${result.previousKid} is no longer used; remove it with: connected-apps keys retire ${result.previousKid}`);
  },
};

export const keysRetireCommand: Command = {
  path: ["keys", "retire"],
  usage: "connected-apps keys retire KID",
  summary: "remove a key from the keyring; refused while any secret is still sealed with it",
  async run(args, io) {
    const { positionals } = parseFlags(args, {}, 1);
    const kid = positionals[0]!;
    const result = await withContext(io, (ctx) => retireKey(ctx, kid));
    if (result.envValue !== undefined) {
      io.out(`key ${kid} retired; set this on every instance:`);
      io.out(`CONNECTED_APPS_KEYS=${result.envValue}`);
    } else {
      io.out(`key ${kid} retired`);
    }
  },
};
