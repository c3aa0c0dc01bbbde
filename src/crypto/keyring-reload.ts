// A running instance learns of a key added by `keys rotate` in another process. Rotation writes
// the new key to the keys file first and only then re-seals rows with it, so an instance that
// meets a kid it does not know reloads the keys file once and tries again (openWithReload); a
// watcher also polls the file, so the instance starts sealing new writes with the new primary
// too. With CONNECTED_APPS_KEYS there is no file to reload: instances take the new value at
// their restart.
import { statSync } from "node:fs";
import type { Context } from "../context.ts";
import { keysFilePath, readKeysFile } from "./keyring-source.ts";
import { open, sealedKid, type RowBinding } from "./seal.ts";

type ReloadContext = Pick<Context, "config" | "keyring" | "log">;

/** Re-reads the keys file into ctx.keyring; true when it changed. Never throws: a bad file keeps the ring in use. */
export function reloadKeyring(ctx: ReloadContext): boolean {
  if (ctx.config.keysFromEnv !== undefined) return false;
  const file = keysFilePath(ctx.config.dataDir);
  try {
    const fresh = readKeysFile(file);
    const same = fresh.keys.length === ctx.keyring.keys.length && fresh.keys.every((k, i) => k.kid === ctx.keyring.keys[i]!.kid && k.key.equals(ctx.keyring.keys[i]!.key));
    if (same) return false;
    // A key this instance holds that the file lost would strand rows sealed with it: keep it.
    const missing = ctx.keyring.keys.filter((k) => !fresh.byKid.has(k.kid));
    const keys = [...fresh.keys, ...missing];
    ctx.keyring = { primary: fresh.primary, byKid: new Map(keys.map((k) => [k.kid, k.key])), keys };
    ctx.log.info({ primary: fresh.primary.kid, keys: keys.length }, "reloaded the keyring from the keys file");
    return true;
  } catch (err) {
    ctx.log.warn({ file, reason: (err as Error).message }, "could not reload the keys file; keeping the keyring in use");
    return false;
  }
}

/** open(), reloading the keyring once when the value names a key this instance does not hold. */
export function openWithReload(ctx: ReloadContext, sealed: string, binding: RowBinding): string {
  let kid: string | undefined;
  try {
    kid = sealedKid(sealed);
  } catch {
    // Not a sealed value: open() throws the SealError that says so.
  }
  if (kid !== undefined && !ctx.keyring.byKid.has(kid)) reloadKeyring(ctx);
  return open(ctx.keyring, sealed, binding);
}

export function openOptionalWithReload(ctx: ReloadContext, sealed: string | null | undefined, binding: RowBinding): string | null {
  return sealed == null ? null : openWithReload(ctx, sealed, binding);
}

export interface KeyringWatcher {
  stop(): Promise<void>;
}

/** Polls the keys file's modification time and reloads on a change (a worker in every instance). */
export function startKeyringWatcher(ctx: ReloadContext, opts: { intervalMs?: number } = {}): KeyringWatcher {
  if (ctx.config.keysFromEnv !== undefined) return { stop: async () => {} };
  const file = keysFilePath(ctx.config.dataDir);
  const mtime = () => {
    try {
      return statSync(file).mtimeMs;
    } catch {
      return -1;
    }
  };
  let seen = mtime();
  const timer = setInterval(() => {
    const now = mtime();
    if (now !== seen) {
      seen = now;
      reloadKeyring(ctx);
    }
  }, opts.intervalMs ?? 1000);
  timer.unref();
  return { stop: async () => clearInterval(timer) };
}
