import { describe, expect, it } from "vitest";
import { LoginRateLimit } from "./login-rate-limit.ts";

function clockAt(ms: number) {
  const clock = { t: ms, now: () => clock.t };
  return clock;
}

describe("LoginRateLimit", () => {
  it("blocks a pair after five failures until the first of them is fifteen minutes old", () => {
    const clock = clockAt(0);
    const limit = new LoginRateLimit(clock);
    for (let i = 0; i < 5; i++) {
      expect(limit.blockedFor("a@example.test", "10.0.0.1")).toBe(0);
      limit.recordFailure("a@example.test", "10.0.0.1");
      clock.t += 1000;
    }
    expect(limit.blockedFor("A@Example.test ", "10.0.0.1")).toBe(15 * 60 * 1000 - 5000);
    clock.t = 15 * 60 * 1000;
    expect(limit.blockedFor("a@example.test", "10.0.0.1")).toBe(0);
  });

  it("keeps other emails and other addresses apart", () => {
    const limit = new LoginRateLimit(clockAt(0));
    for (let i = 0; i < 5; i++) limit.recordFailure("a@example.test", "10.0.0.1");
    expect(limit.blockedFor("a@example.test", "10.0.0.2")).toBe(0);
    expect(limit.blockedFor("b@example.test", "10.0.0.1")).toBe(0);
  });

  it("forgets the failures of a pair that signs in", () => {
    const limit = new LoginRateLimit(clockAt(0));
    for (let i = 0; i < 4; i++) limit.recordFailure("a@example.test", "10.0.0.1");
    limit.recordSuccess("a@example.test", "10.0.0.1");
    limit.recordFailure("a@example.test", "10.0.0.1");
    expect(limit.blockedFor("a@example.test", "10.0.0.1")).toBe(0);
  });
});
