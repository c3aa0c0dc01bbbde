import { describe, expect, it } from "vitest";
import { FlowFailure } from "../flow-failure.ts";
import { readCallbackQuery, singleValuedQuery } from "./callback-query.ts";

describe("readCallbackQuery", () => {
  it("reads each parameter once, decoded", () => {
    const q = readCallbackQuery("/oauth/callback/acme?code=a%2Bb&state=s&iss=https%3A%2F%2Fidp.test");
    expect(Object.fromEntries(q)).toEqual({ code: "a+b", state: "s", iss: "https://idp.test" });
  });

  it("reads no query as empty", () => {
    expect(readCallbackQuery("/oauth/callback/acme").size).toBe(0);
  });

  it.each(["code=a&code=b", "state=a&state=a", "iss=x&code=c&iss=y", "error=a&error=b"])("refuses the repeated parameter in %s (RFC 6749 §3.1)", (query) => {
    expect(() => readCallbackQuery(`/cb?${query}`)).toThrow(FlowFailure);
    try {
      readCallbackQuery(`/cb?${query}`);
    } catch (err) {
      expect((err as FlowFailure).code).toBe("invalid_request");
    }
  });

  it("names the repeated parameter", () => {
    expect(singleValuedQuery("/cb?a=1&b=2&b=3")).toEqual({ repeated: "b" });
  });
});
