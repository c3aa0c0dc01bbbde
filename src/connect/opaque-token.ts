// Opaque one-time values (connect session tokens, state, the browser-binding cookie): 32 random
// bytes, stored only as their SHA-256. They carry 256 bits of entropy, so a single fast hash is
// the right one (as for API keys): there is nothing for a slow hash to protect.
import { createHash, randomBytes } from "node:crypto";

export function newOpaqueToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashOpaqueToken(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("base64url");
}
