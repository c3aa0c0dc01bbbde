import { describe, expect, it } from "vitest";
import { buildKeyring, generateKey, parseKeyring, formatKeyring, KeyringError } from "./keyring.ts";
import { open, seal, sealedKid, SealError } from "./seal.ts";

const row = { table: "connections", id: "c1", field: "access_token" };

describe("seal", () => {
  const ring = buildKeyring([generateKey()]);

  it("opens what it sealed, with a fresh IV each time", () => {
    const a = seal(ring, "secret-token", row);
    const b = seal(ring, "secret-token", row);
    expect(a).not.toBe(b);
    expect(a).not.toContain("secret-token");
    expect(open(ring, a, row)).toBe("secret-token");
    expect(sealedKid(a)).toBe(ring.primary.kid);
  });

  it("refuses a value moved to another row", () => {
    const sealed = seal(ring, "secret-token", row);
    expect(() => open(ring, sealed, { ...row, id: "c2" })).toThrow(SealError);
  });

  it("refuses a value moved to another field or table", () => {
    const sealed = seal(ring, "secret-token", row);
    expect(() => open(ring, sealed, { ...row, field: "refresh_token" })).toThrow(SealError);
    expect(() => open(ring, sealed, { ...row, table: "apps" })).toThrow(SealError);
  });

  it("refuses a tampered ciphertext", () => {
    const sealed = seal(ring, "secret-token", row);
    const parts = sealed.split(".");
    const body = Buffer.from(parts[3]!, "base64url");
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString("base64url");
    expect(() => open(ring, parts.join("."), row)).toThrow(SealError);
  });

  it("refuses a value relabelled with another kid of the ring", () => {
    const older = generateKey(new Date(2020, 0, 1));
    const both = buildKeyring([ring.primary, older]);
    const sealed = seal(both, "secret-token", row);
    const relabelled = sealed.replace(`.${ring.primary.kid}.`, `.${older.kid}.`);
    expect(() => open(both, relabelled, row)).toThrow(SealError);
  });

  it("names the missing key instead of returning garbage", () => {
    const sealed = seal(ring, "secret-token", row);
    const other = buildKeyring([generateKey()]);
    expect(() => open(other, sealed, row)).toThrow(/not in the keyring/);
  });

  it("opens values sealed by an older key of the ring after rotation", () => {
    const sealed = seal(ring, "secret-token", row);
    const rotated = buildKeyring([generateKey(new Date(2030, 0, 1)), ring.primary]);
    expect(open(rotated, sealed, row)).toBe("secret-token");
    expect(sealedKid(seal(rotated, "x", row))).toBe(rotated.primary.kid);
  });
});

describe("parseKeyring", () => {
  it("round-trips kid:base64 pairs, newest first", () => {
    const ring = buildKeyring([generateKey(new Date(2031, 0, 1)), generateKey(new Date(2030, 0, 1))]);
    const parsed = parseKeyring(formatKeyring(ring));
    expect(parsed.primary.kid).toBe(ring.primary.kid);
    expect(parsed.keys).toHaveLength(2);
  });

  it.each([
    ["k1:" + Buffer.alloc(16).toString("base64"), /32 bytes/],
    ["k1", /kid:base64/],
    ["bad kid!:" + Buffer.alloc(32).toString("base64"), /key id/],
    ["k1:" + Buffer.alloc(32).toString("base64") + ",k1:" + Buffer.alloc(32).toString("base64"), /twice/],
    ["k1:not*base64", /base64/],
  ])("rejects %s", (text, message) => {
    expect(() => parseKeyring(text)).toThrow(KeyringError);
    expect(() => parseKeyring(text)).toThrow(message);
  });
});
