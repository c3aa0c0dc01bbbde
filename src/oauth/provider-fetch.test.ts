// Retry-After (RFC 9110 §10.2.3) read against a fixed clock.
import { describe, expect, it } from "vitest";
import { fixedClock } from "../../test/support/fake-provider.ts";
import { retryAfterSeconds } from "./provider-fetch.ts";

const clock = fixedClock(Date.UTC(2026, 0, 1, 12, 0, 0));

describe("retryAfterSeconds", () => {
  it("reads delay-seconds", () => expect(retryAfterSeconds("120", clock)).toBe(120));
  it("reads an HTTP-date relative to the clock", () => expect(retryAfterSeconds("Thu, 01 Jan 2026 12:01:30 GMT", clock)).toBe(90));
  it("never goes negative for a date in the past", () => expect(retryAfterSeconds("Thu, 01 Jan 2026 11:00:00 GMT", clock)).toBe(0));
  it("ignores what it cannot read", () => expect(retryAfterSeconds("soon", clock)).toBeUndefined());
  it("ignores a negative number", () => expect(retryAfterSeconds("-5", clock)).toBeUndefined());
  it("is undefined when absent", () => expect(retryAfterSeconds(null, clock)).toBeUndefined());
});
