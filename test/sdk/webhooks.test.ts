// verifyWebhook (SPEC §7/§8): accepts a good signature, refuses forged, stale and malformed ones.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { webhookBody } from "../../src/events/outbox-worker.ts";
import { signWebhook } from "../../src/events/webhook-signature.ts";
import { verifyWebhook, WebhookVerificationError } from "../../src/sdk/index.ts";

const SECRET = "whsec-sentinel-4b1d";
const NOW = new Date("2026-12-04T12:00:00Z");
const T = Math.floor(NOW.getTime() / 1000);
const event = { id: "evt_1", type: "connection.created", createdAt: NOW.toISOString(), data: { appId: "google", userId: "u42" } };
const body = JSON.stringify(event);

const sign = (t: number, b: string, secret = SECRET) => `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${b}`).digest("hex")}`;

function refusal(f: () => unknown): WebhookVerificationError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WebhookVerificationError);
    return e as WebhookVerificationError;
  }
  throw new Error("expected verifyWebhook to throw");
}

describe("verifyWebhook", () => {
  it("answers the event for a good signature", () => {
    expect(verifyWebhook(body, sign(T, body), SECRET, { now: NOW })).toEqual(event);
  });

  it("accepts what the service's outbox signs and sends", () => {
    const sent = webhookBody({ id: "evt_2", type: "connection.recovered", createdAt: NOW.getTime(), data: { appId: "google", userId: "u42", by: "refresh" } });
    expect(verifyWebhook(sent, signWebhook(SECRET, sent, T), SECRET, { now: NOW })).toEqual({
      id: "evt_2",
      type: "connection.recovered",
      createdAt: NOW.toISOString(),
      data: { appId: "google", userId: "u42", by: "refresh" },
    });
  });

  it("accepts the raw body as bytes (a Buffer from the request)", () => {
    expect(verifyWebhook(Buffer.from(body), sign(T, body), SECRET, { now: NOW })).toEqual(event);
    expect(verifyWebhook(new TextEncoder().encode(body), sign(T, body), SECRET, { now: NOW })).toEqual(event);
  });

  it("accepts a signature a few minutes old, within the 5 minute window", () => {
    expect(verifyWebhook(body, sign(T - 299, body), SECRET, { now: NOW }).id).toBe("evt_1");
  });

  it("accepts any of several v1 signatures (secret being changed)", () => {
    const header = `t=${T},v1=${"0".repeat(64)},v1=${sign(T, body).split("v1=")[1]}`;
    expect(verifyWebhook(body, header, SECRET, { now: NOW }).id).toBe("evt_1");
  });

  it("refuses a signature made with another secret", () => {
    expect(refusal(() => verifyWebhook(body, sign(T, body, "other-secret"), SECRET, { now: NOW })).reason).toBe("signature_mismatch");
  });

  it("refuses a body changed after signing", () => {
    const forged = body.replace("u42", "u43");
    expect(refusal(() => verifyWebhook(forged, sign(T, body), SECRET, { now: NOW })).reason).toBe("signature_mismatch");
  });

  it("refuses a timestamp changed after signing", () => {
    const header = sign(T, body).replace(`t=${T}`, `t=${T + 1}`);
    expect(refusal(() => verifyWebhook(body, header, SECRET, { now: NOW })).reason).toBe("signature_mismatch");
  });

  it("refuses a correctly signed event older than 5 minutes (a replay)", () => {
    expect(refusal(() => verifyWebhook(body, sign(T - 301, body), SECRET, { now: NOW })).reason).toBe("stale");
  });

  it("refuses a timestamp more than 5 minutes in the future", () => {
    expect(refusal(() => verifyWebhook(body, sign(T + 301, body), SECRET, { now: NOW })).reason).toBe("stale");
  });

  it("honours a custom tolerance", () => {
    expect(refusal(() => verifyWebhook(body, sign(T - 61, body), SECRET, { now: NOW, toleranceSeconds: 60 })).reason).toBe("stale");
  });

  it("refuses a missing header", () => {
    expect(refusal(() => verifyWebhook(body, undefined, SECRET, { now: NOW })).reason).toBe("missing_signature");
    expect(refusal(() => verifyWebhook(body, "", SECRET, { now: NOW })).reason).toBe("missing_signature");
  });

  it.each([
    ["no timestamp", (h: string) => h.replace(/^t=\d+,/, "")],
    ["no v1", (h: string) => h.replace(/,v1=.*/, "")],
    ["a short v1", (h: string) => h.slice(0, -2)],
    ["a non-numeric timestamp", (h: string) => h.replace(/^t=\d+/, "t=soon")],
    ["another scheme only", (h: string) => h.replace("v1=", "v0=")],
    ["garbage", () => "Bearer abc"],
  ])("refuses a malformed header: %s", (_name, mangle) => {
    expect(refusal(() => verifyWebhook(body, mangle(sign(T, body)), SECRET, { now: NOW })).reason).toBe("malformed_signature");
  });

  it("refuses a signed body that is not an event", () => {
    const notEvent = JSON.stringify([1, 2]);
    expect(refusal(() => verifyWebhook(notEvent, sign(T, notEvent), SECRET, { now: NOW })).reason).toBe("malformed_body");
    const notJson = "hello";
    expect(refusal(() => verifyWebhook(notJson, sign(T, notJson), SECRET, { now: NOW })).reason).toBe("malformed_body");
  });

  it("refuses to verify with an empty secret", () => {
    expect(() => verifyWebhook(body, sign(T, body, ""), "", { now: NOW })).toThrow(TypeError);
  });

  it("never puts the secret in its error messages", () => {
    const e = refusal(() => verifyWebhook(body, sign(T, body, "x"), SECRET, { now: NOW }));
    expect(e.message).not.toContain(SECRET);
  });
});
