// Seal + open of a 2 KiB token against bare node:crypto AES-256-GCM doing the same work.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { buildKeyring, generateKey } from "../src/crypto/keyring.ts";
import { open, seal } from "../src/crypto/seal.ts";
import { timeOps } from "./harness.ts";

export async function run(): Promise<void> {
  const ring = buildKeyring([generateKey()]);
  const token = randomBytes(1536).toString("base64"); // 2048 characters
  const row = { table: "connections", id: "6c1b2f0e-1d2c-4b8a-9d59-4f3b8a6e2f11", field: "access_token" };
  const key = ring.primary.key;
  const bare = () => {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", key, iv);
    const ct = Buffer.concat([c.update(token, "utf8"), c.final()]);
    const tag = c.getAuthTag();
    const d = createDecipheriv("aes-256-gcm", key, iv);
    d.setAuthTag(tag);
    Buffer.concat([d.update(ct), d.final()]).toString("utf8");
  };
  const ours = () => {
    open(ring, seal(ring, token, row), row);
  };
  timeOps(bare, 200);
  timeOps(ours, 200);
  const baseline = timeOps(bare);
  const subject = timeOps(ours);
  console.log("\n## seal + open of a 2 KiB token");
  console.table([
    { label: "bare node:crypto AES-256-GCM", opsPerSecond: Math.round(baseline) },
    { label: "seal() + open()", opsPerSecond: Math.round(subject) },
  ]);
  console.log(`ratio seal+open / bare: ${(subject / baseline).toFixed(2)}`);
}
