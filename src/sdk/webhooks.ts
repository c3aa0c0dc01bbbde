// Checks a webhook from connected-apps (SPEC §7): the `Connected-Apps-Signature` header is
// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`. The HMAC covers the exact
// bytes received, so pass the raw body, not a re-serialised object. Synchronous, on node:crypto
// (Node, Bun and Deno have it), so a handler can verify before it parses.
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { WebhookEvent } from "./types.ts";

export type WebhookFailure = "missing_signature" | "malformed_signature" | "signature_mismatch" | "stale" | "malformed_body";

export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
  readonly reason: WebhookFailure;
  constructor(reason: WebhookFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface VerifyWebhookOptions {
  /** The time to judge staleness by; defaults to now. */
  now?: Date;
  /** How far the signature's time may be from `now`, either way; defaults to 300 (5 minutes). */
  toleranceSeconds?: number;
}

const DEFAULT_TOLERANCE_SECONDS = 300;

function parseHeader(header: string): { t: number; v1: string[] } {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === "t" && /^\d{1,12}$/.test(value)) t = Number(value);
    // Several v1 entries may be sent while a secret is being changed; any one may match.
    if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) v1.push(value.toLowerCase());
  }
  if (t === undefined || v1.length === 0) {
    throw new WebhookVerificationError("malformed_signature", "Connected-Apps-Signature must be t=<unix seconds>,v1=<64 hex digits>");
  }
  return { t, v1 };
}

function isEvent(value: unknown): value is WebhookEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const e = value as Record<string, unknown>;
  return (
    typeof e.id === "string" &&
    typeof e.type === "string" &&
    typeof e.createdAt === "string" &&
    typeof e.data === "object" &&
    e.data !== null &&
    !Array.isArray(e.data)
  );
}

/**
 * Answers the event if `signatureHeader` is a valid signature of `rawBody` with `secret`, made
 * within the tolerance of now; throws WebhookVerificationError otherwise. Dedupe by `event.id`:
 * delivery is at least once.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  signatureHeader: string | readonly string[] | null | undefined,
  secret: string,
  opts: VerifyWebhookOptions = {},
): WebhookEvent {
  if (!secret) throw new TypeError("verifyWebhook: the webhook secret is empty");
  const header = Array.isArray(signatureHeader) ? signatureHeader.join(",") : signatureHeader;
  if (typeof header !== "string" || header.trim() === "") {
    throw new WebhookVerificationError("missing_signature", "no Connected-Apps-Signature header");
  }
  const { t, v1 } = parseHeader(header);
  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  const expected = createHmac("sha256", secret).update(`${t}.`).update(body).digest();
  // Constant time: the comparison takes as long whichever byte differs.
  const matches = v1.some((sig) => timingSafeEqual(Buffer.from(sig, "hex"), expected));
  if (!matches) throw new WebhookVerificationError("signature_mismatch", "the signature does not match this body and secret");
  // Checked after the HMAC so an attacker learns nothing about the clock from a forged request.
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSeconds - t) > tolerance) {
    throw new WebhookVerificationError("stale", `the signature was made at ${t}, more than ${tolerance} s from now (${nowSeconds}): refused as a possible replay`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new WebhookVerificationError("malformed_body", "the signed body is not JSON");
  }
  if (!isEvent(parsed)) throw new WebhookVerificationError("malformed_body", "the signed body is not an event {id, type, createdAt, data}");
  return parsed;
}
