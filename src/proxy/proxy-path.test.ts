import { describe, expect, it } from "vitest";
import { AppError } from "../errors/problem.ts";
import { proxyTarget } from "./proxy-path.ts";

const BASE = "https://api.example.test/v1";

describe("proxyTarget", () => {
  it.each([
    ["/users/me", "https://api.example.test/v1/users/me"],
    ["/users/me?fields=a,b&x=%20y", "https://api.example.test/v1/users/me?fields=a,b&x=%20y"],
    ["", "https://api.example.test/v1"],
    ["/files/a%20b.txt", "https://api.example.test/v1/files/a%20b.txt"],
    ["/a.b/..c/c..", "https://api.example.test/v1/a.b/..c/c.."],
  ])("keeps %s under the base", (path, expected) => {
    expect(proxyTarget(BASE, path).toString()).toBe(expected);
  });

  it.each([
    ["/../admin", "dot segments"],
    ["/a/../../admin", "dot segments"],
    ["/%2e%2e/admin", "dot segments"],
    ["/%2E%2e/admin", "dot segments"],
    ["/.%2e/admin", "dot segments"],
    ["/./x", "dot segments"],
    ["/..", "dot segments"],
    ["/..?x=1", "dot segments"],
    ["/a%2f..%2fb", "encoded slashes"],
    ["/a%5c..%5cb", "encoded slashes"],
    ["/a\\..\\b", "encoded slashes"],
    ["//evil.example/x", "empty path segments"],
    ["/a//b", "empty path segments"],
    ["/user@evil.example", "@"],
    ["/%40evil.example", "@"],
    ["/https://evil.example/", "absolute URLs"],
    ["/a%00b", "control characters"],
    ["/a%zz", "malformed percent-encoding"],
    ["/a#frag", "fragments"],
    ["x", "must start with /"],
  ])("refuses %s", (path, why) => {
    let error: unknown;
    try {
      proxyTarget(BASE, path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("invalid_request");
    expect((error as AppError).detail).toContain(why);
  });

  it("never changes host or port whatever the path", () => {
    for (const path of ["/:8080/x", "/x:y@z", "/%3a8080"]) {
      try {
        const url = proxyTarget(BASE, path);
        expect(url.origin).toBe("https://api.example.test");
      } catch (err) {
        expect((err as AppError).code).toBe("invalid_request");
      }
    }
  });
});
