import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactUrl } from "./logger.ts";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, log: createLogger("trace", stream) };
}

describe("logger redaction", () => {
  it("redacts secret fields at the top level and in common containers, at every level", () => {
    const { lines, log } = capture();
    log.trace({ access_token: "SENTINEL-1", body: { client_secret: "SENTINEL-2" }, tokens: { refreshToken: "SENTINEL-3" } }, "x");
    log.error({ data: { password: "SENTINEL-4" }, headers: { authorization: "Bearer SENTINEL-5" }, query: { code: "SENTINEL-8" } }, "y");
    const text = lines.join("\n");
    for (const i of [1, 2, 3, 4, 5, 8]) expect(text).not.toContain(`SENTINEL-${i}`);
    expect(text).toContain("[REDACTED]");
  });

  it("keeps our own problem code readable", () => {
    const { lines, log } = capture();
    log.warn({ code: "provider_unavailable", detail: "x" }, "request failed");
    expect(lines.join("\n")).toContain('"code":"provider_unavailable"');
  });

  it("strips credentials from logged URLs", () => {
    expect(redactUrl("/oauth/callback/x?code=SECRET&state=S2&iss=https%3A%2F%2Fa")).toBe("/oauth/callback/x?code=[REDACTED]&state=[REDACTED]&iss=https%3A%2F%2Fa");
    expect(redactUrl("/connect/x?session=TOKEN")).toBe("/connect/x?session=[REDACTED]");
  });

  it("logs request URLs without their secret query parameters", () => {
    const { lines, log } = capture();
    log.info({ req: { method: "GET", url: "/oauth/callback/a?code=SENTINEL-6", headers: { authorization: "Bearer SENTINEL-7" } } }, "req");
    expect(lines.join("\n")).not.toMatch(/SENTINEL-[67]/);
  });
});
