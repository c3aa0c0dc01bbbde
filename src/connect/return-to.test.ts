import { describe, expect, it } from "vitest";
import { sameOriginReturnTo, withResult } from "./return-to.ts";

const PUBLIC = "https://connect.example.test";

describe("sameOriginReturnTo", () => {
  it.each([
    ["/", `${PUBLIC}/`],
    ["/apps?tab=1#top", `${PUBLIC}/apps?tab=1#top`],
    ["/a/../b", `${PUBLIC}/b`],
  ])("accepts the path %s", (value, url) => {
    expect(sameOriginReturnTo(PUBLIC, value)).toEqual({ ok: true, url });
  });

  it.each([
    ["scheme-relative", "//evil.example"],
    ["scheme-relative with a path", "//evil.example/x"],
    ["userinfo trick", "https://host@evil.example"],
    ["absolute other origin", "https://evil.example/"],
    ["absolute same origin (a path is asked for)", `${PUBLIC}/apps`],
    ["javascript:", "javascript:alert(1)"],
    ["data:", "data:text/html,x"],
    ["slash-backslash", "/\\evil.example"],
    ["backslashes", "\\\\evil.example"],
    ["tab between slashes", "/\t/evil.example"],
    ["newline", "/x\r\nSet-Cookie: a=b"],
    ["relative", "apps"],
    ["empty", ""],
    ["too long", `/${"a".repeat(2000)}`],
  ])("refuses %s", (_name, value) => {
    expect(sameOriginReturnTo(PUBLIC, value).ok).toBe(false);
  });
});

describe("withResult", () => {
  it("adds the parameter to an existing query and keeps the fragment", () => {
    expect(withResult("https://host.example/x?a=1#f", "connected", "acme")).toBe("https://host.example/x?a=1&connected=acme#f");
  });
  it("replaces a connected or error parameter the URL already had", () => {
    expect(withResult("https://host.example/x?connected=old&error=old", "error", "access_denied")).toBe("https://host.example/x?error=access_denied");
  });
});
