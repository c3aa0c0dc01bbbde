// AES-256-GCM sealing of secrets at rest.
//
// Format: "v1.<kid>.<iv>.<ciphertext+tag>" (base64url parts). The key id travels inside the
// value so any key of the ring can open it; the row's identity (table, id, field) and the kid
// are the additional authenticated data, so a ciphertext copied to another row or field, or
// relabelled with another kid, fails to open instead of yielding another user's secret.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { Keyring } from "./keyring.ts";

export interface RowBinding {
  table: string;
  id: string;
  field: string;
}

export class SealError extends Error {
  override name = "SealError";
}

const VERSION = "v1";

function aad(kid: string, row: RowBinding): Buffer {
  return Buffer.from(`${VERSION}\u0000${kid}\u0000${row.table}\u0000${row.id}\u0000${row.field}`, "utf8");
}

export function seal(keyring: Keyring, plaintext: string, row: RowBinding): string {
  const { kid, key } = keyring.primary;
  // NIST SP 800-38D §8.2.2: a fresh random 96-bit IV per message.
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad(kid, row));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `${VERSION}.${kid}.${iv.toString("base64url")}.${body.toString("base64url")}`;
}

/** The key id a sealed value was made with, without opening it. */
export function sealedKid(sealed: string): string {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SealError("not a sealed value");
  return parts[1]!;
}

export function open(keyring: Keyring, sealed: string, row: RowBinding): string {
  const parts = sealed.split(".");
  if (parts.length !== 4 || parts[0] !== VERSION) throw new SealError(`${row.table}.${row.field}: not a sealed value`);
  const [, kid, ivText, bodyText] = parts as [string, string, string, string];
  const key = keyring.byKid.get(kid);
  if (!key) throw new SealError(`${row.table}.${row.field}: sealed with key "${kid}", which is not in the keyring`);
  const iv = Buffer.from(ivText, "base64url");
  const body = Buffer.from(bodyText, "base64url");
  if (iv.length !== 12 || body.length < 16) throw new SealError(`${row.table}.${row.field}: malformed sealed value`);
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAAD(aad(kid, row));
  decipher.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new SealError(`${row.table}.${row.field}: does not open with key "${kid}" for this row (wrong key, or moved from another row)`);
  }
}

export function sealOptional(keyring: Keyring, plaintext: string | null | undefined, row: RowBinding): string | null {
  return plaintext == null ? null : seal(keyring, plaintext, row);
}

export function openOptional(keyring: Keyring, sealed: string | null | undefined, row: RowBinding): string | null {
  return sealed == null ? null : open(keyring, sealed, row);
}
