// The keys that seal secrets at rest. The newest (primary) seals; every key opens what it sealed,
// so rotation can re-seal row by row while the service keeps serving.
import { randomBytes } from "node:crypto";

export interface KeyringKey {
  kid: string;
  key: Buffer;
}

export interface Keyring {
  primary: KeyringKey;
  byKid: ReadonlyMap<string, Buffer>;
  /** All keys, newest first. */
  keys: readonly KeyringKey[];
}

export class KeyringError extends Error {
  override name = "KeyringError";
}

const KID = /^[A-Za-z0-9_-]{1,32}$/;

export function buildKeyring(keys: readonly KeyringKey[]): Keyring {
  const [primary] = keys;
  if (!primary) throw new KeyringError("CONNECTED_APPS_KEYS: at least one key is needed");
  const byKid = new Map<string, Buffer>();
  for (const k of keys) {
    if (!KID.test(k.kid)) throw new KeyringError(`CONNECTED_APPS_KEYS: key id "${k.kid}" must be 1-32 of A-Z a-z 0-9 _ -`);
    if (k.key.length !== 32) throw new KeyringError(`CONNECTED_APPS_KEYS: key "${k.kid}" must be 32 bytes of base64`);
    if (byKid.has(k.kid)) throw new KeyringError(`CONNECTED_APPS_KEYS: key id "${k.kid}" appears twice`);
    byKid.set(k.kid, k.key);
  }
  return { primary, byKid, keys };
}

/** Parses `kid:base64(32 bytes)` pairs separated by commas, newest first (SPEC §2). */
export function parseKeyring(text: string): Keyring {
  const keys = text
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const colon = part.indexOf(":");
      if (colon < 1) throw new KeyringError("CONNECTED_APPS_KEYS: each key must be kid:base64");
      const kid = part.slice(0, colon);
      const b64 = part.slice(colon + 1);
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) {
        throw new KeyringError(`CONNECTED_APPS_KEYS: key "${kid}" must be 32 bytes of base64`);
      }
      return { kid, key: Buffer.from(b64, "base64") };
    });
  return buildKeyring(keys);
}

export function formatKeyring(keyring: Keyring): string {
  return keyring.keys.map((k) => `${k.kid}:${k.key.toString("base64")}`).join(",");
}

export function generateKey(now: Date = new Date()): KeyringKey {
  // A kid that sorts by creation time reads well in logs and in `keys rotate` output.
  const stamp = now.toISOString().replace(/[-:TZ.]/g, "").slice(0, 14);
  return { kid: `k${stamp}${randomBytes(2).toString("hex")}`, key: randomBytes(32) };
}
