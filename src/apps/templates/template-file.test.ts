// The template data files: every shipped file loads, and a broken one stops the start with a
// message naming the file.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { loadTemplates } from "./template-file.ts";

const valid = {
  id: "acme",
  name: "Acme",
  docsUrl: "https://docs.acme.test/oauth",
  params: [{ name: "region", kind: "subdomain", default: "eu", description: "the region" }],
  defaults: { authorizationEndpoint: "https://{region}.acme.test/authorize", tokenEndpoint: "https://{region}.acme.test/token", scopes: ["read"] },
};

describe("template files", () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  const folderWith = (file: string, doc: unknown) => {
    dir = mkdtempSync(join(tmpdir(), "ca-templates-"));
    writeFileSync(join(dir, file), typeof doc === "string" ? doc : JSON.stringify(doc));
    return pathToFileURL(`${dir}/`);
  };

  it("loads every shipped template, each with auth and token endpoints", () => {
    const templates = loadTemplates();
    expect(templates.length).toBeGreaterThanOrEqual(13);
    for (const t of templates) {
      expect(t.defaults.authorizationEndpoint, t.id).toEqual(expect.any(String));
      expect(t.defaults.tokenEndpoint, t.id).toEqual(expect.any(String));
    }
  });

  it("loads a valid file", () => {
    expect(loadTemplates(folderWith("acme.json", valid)).map((t) => t.id)).toEqual(["acme"]);
  });

  it.each([
    ["an id that differs from the file name", { ...valid, id: "other" }, "must match the file name"],
    ["a placeholder that is not a param", { ...valid, defaults: { ...valid.defaults, apiBaseUrl: "https://{tenant}.acme.test" } }, "{tenant}"],
    ["an unknown App field", { ...valid, defaults: { ...valid.defaults, colour: "blue" } }, "colour"],
    ["a client secret", { ...valid, defaults: { ...valid.defaults, clientSecret: "s" } }, "clientSecret"],
    ["a non-http endpoint", { ...valid, defaults: { ...valid.defaults, tokenEndpoint: "ftp://acme.test/token" } }, "tokenEndpoint"],
    ["an unknown param kind", { ...valid, params: [{ ...valid.params[0], kind: "anything" }] }, "kind"],
    ["a plain http docsUrl", { ...valid, docsUrl: "http://docs.acme.test" }, "docsUrl"],
  ])("refuses a file with %s, naming the file", (_label, doc, mentions) => {
    const load = () => loadTemplates(folderWith("acme.json", doc));
    expect(load).toThrow("acme.json");
    expect(load).toThrow(mentions);
  });

  it("refuses a file that is not JSON, naming the file", () => {
    expect(() => loadTemplates(folderWith("acme.json", "{nope"))).toThrow("acme.json");
  });
});
