// SASL XOAUTH2 for IMAP/SMTP (Gmail, Microsoft 365): the exact bytes servers expect.
import { describe, expect, it } from "vitest";
import { xoauth2 } from "../../src/sdk/index.ts";

describe("xoauth2", () => {
  it("builds base64 of user=<email>^Aauth=Bearer <token>^A^A", () => {
    const s = xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");
    expect(Buffer.from(s, "base64").toString("latin1")).toBe("user=someuser@example.com\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\x01\x01");
    // Google's documented example string for these values.
    expect(s).toBe("dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==");
  });

  it("encodes a non-ASCII address as UTF-8", () => {
    expect(Buffer.from(xoauth2("jösé@exämple.de", "t"), "base64").toString("utf8")).toBe("user=jösé@exämple.de\x01auth=Bearer t\x01\x01");
  });

  it("refuses a \\x01 in either value, which would inject a field", () => {
    expect(() => xoauth2("a@b.c\x01auth=Bearer evil", "t")).toThrow(TypeError);
    expect(() => xoauth2("a@b.c", "t\x01\x01")).toThrow(TypeError);
  });

  it("refuses empty values", () => {
    expect(() => xoauth2("", "t")).toThrow(TypeError);
    expect(() => xoauth2("a@b.c", "")).toThrow(TypeError);
  });
});
