// Where the keyring comes from: CONNECTED_APPS_KEYS, or ./data/keys.json (created on first start).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildKeyring, generateKey, KeyringError, parseKeyring, type Keyring, type KeyringKey } from "./keyring.ts";

export interface LoadedKeyring {
  keyring: Keyring;
  source: "env" | "file";
  /** The keys file, when the keyring lives in one. */
  file: string | undefined;
  /** True when this start generated a new keys file. */
  generated: boolean;
}

export function keysFilePath(dataDir: string): string {
  return join(dataDir, "keys.json");
}

export function loadKeyring(opts: {
  keysFromEnv: string | undefined;
  dataDir: string;
  /** False when the database already holds sealed data: a new keyring could never open it. */
  mayGenerate?: boolean;
}): LoadedKeyring {
  if (opts.keysFromEnv !== undefined) {
    return { keyring: parseKeyring(opts.keysFromEnv), source: "env", file: undefined, generated: false };
  }
  const file = keysFilePath(opts.dataDir);
  if (!existsSync(file)) {
    if (opts.mayGenerate === false) {
      throw new KeyringError(
        `CONNECTED_APPS_KEYS: the keys file ${file} is missing and this database holds sealed secrets; restore the keys file (or set CONNECTED_APPS_KEYS) with the keys this database was created with`,
      );
    }
    const keyring = buildKeyring([generateKey()]);
    writeKeysFile(file, keyring.keys);
    return { keyring, source: "file", file, generated: true };
  }
  return { keyring: readKeysFile(file), source: "file", file, generated: false };
}

export function readKeysFile(file: string): Keyring {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new KeyringError(`${file}: not readable JSON (${(err as Error).message.split("\n")[0]})`);
  }
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new KeyringError(`${file}: expected {"keys": [{"kid", "key"}]}`);
  return buildKeyring(
    keys.map((k: { kid?: unknown; key?: unknown }) => {
      if (typeof k?.kid !== "string" || typeof k?.key !== "string") throw new KeyringError(`${file}: each key needs kid and key strings`);
      return { kid: k.kid, key: Buffer.from(k.key, "base64") };
    }),
  );
}

/** Writes atomically with mode 0600: a crash never leaves a half-written keys file. */
export function writeKeysFile(file: string, keys: readonly KeyringKey[]): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const body = JSON.stringify({ keys: keys.map((k) => ({ kid: k.kid, key: k.key.toString("base64") })) }, null, 2);
  writeFileSync(tmp, `${body}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
