// The webhook signature of SPEC §7: `Connected-Apps-Signature: t=<unix seconds>,v1=<hex
// HMAC-SHA256(secret, t + "." + body)>`. Hand-written because it is our own scheme (no library
// defines it); it depends on node:crypto only, so the SDK can share the verifier.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "connected-apps-signature";

/** How far a signature's time may be from the receiver's clock before it counts as a replay. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmacHex(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.`).update(body, "utf8").digest("hex");
}

/** The header value for `body` (the exact bytes sent) at `nowSeconds`. */
export function signWebhook(secret: string, body: string, nowSeconds: number): string {
  const t = Math.floor(nowSeconds);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

export type SignatureVerdict = "valid" | "malformed" | "mismatch" | "stale";

/**
 * Checks a signature header against the raw body. Pure: the caller passes its clock. Any of
 * several v1 entries may match (a sender changing its secret signs with both).
 */
export function checkWebhookSignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): SignatureVerdict {
  if (!header) return "malformed";
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(",")) {
    const [key, value] = part.trim().split("=", 2);
    if (key === "t" && value && /^\d{1,12}$/.test(value)) t = Number(value);
    if (key === "v1" && value && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (t === undefined || candidates.length === 0) return "malformed";
  const expected = Buffer.from(hmacHex(secret, t, body), "hex");
  // Constant-time comparison, so the time taken says nothing about where a forgery differs.
  if (!candidates.some((c) => timingSafeEqual(Buffer.from(c, "hex"), expected))) return "mismatch";
  // After the HMAC: a forger learns nothing about our clock.
  if (Math.abs(Math.floor(nowSeconds) - t) > toleranceSeconds) return "stale";
  return "valid";
}
