// The published package (`connected-apps/sdk`, built by `npm run build:sdk`) stands alone: plain
// ESM that needs nothing but fetch and node:crypto, and declarations that need neither zod nor
// the server's sources. Built into a scratch directory so the working dist/ is left alone.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
const tsc = join(root, "node_modules/typescript/bin/tsc");
let out: string;

const importsOf = (text: string) => [...text.matchAll(/(?:import|export)[^"']*?from\s*["']([^"']+)["']/g)].map((m) => m[1]!);

describe("the built SDK package", () => {
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), "ca-sdk-build-"));
    const run = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.sdk.json"), "--outDir", out], { cwd: root, encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("emits only the sdk folder, JavaScript and declarations", () => {
    expect(readdirSync(out).sort()).toEqual(
      ["client", "errors", "index", "types", "webhooks", "xoauth2"].flatMap((n) => [`${n}.d.ts`, `${n}.js`]),
    );
  });

  it("imports nothing at run time but its own files and node:crypto/node:buffer", () => {
    const specifiers = readdirSync(out)
      .filter((f) => f.endsWith(".js"))
      .flatMap((f) => importsOf(readFileSync(join(out, f), "utf8")));
    for (const s of specifiers) expect(s).toMatch(/^(\.\/[a-z0-9]+\.js|node:crypto|node:buffer)$/);
  });

  it("declarations reference only each other: no zod, no server source", () => {
    const specifiers = readdirSync(out)
      .filter((f) => f.endsWith(".d.ts"))
      .flatMap((f) => importsOf(readFileSync(join(out, f), "utf8")));
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s).toMatch(/^\.\/[a-z0-9]+\.(js|ts)$/);
  });

  it("runs in plain Node (no tsx) and a consumer type-checks against it without @types/node", () => {
    const run = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", `const m = await import(${JSON.stringify(join(out, "index.js"))}); console.log(Object.keys(m).sort().join(","), m.xoauth2("a@b.c", "t"))`],
      { encoding: "utf8" },
    );
    expect(run.stderr).toBe("");
    expect(run.stdout.trim()).toBe(`ConnectedApps,ConnectedAppsError,ConnectedAppsNetworkError,WebhookVerificationError,verifyWebhook,xoauth2 ${btoa("user=a@b.c\x01auth=Bearer t\x01\x01")}`);

    writeFileSync(
      join(out, "consumer.ts"),
      `import { ConnectedApps, type App } from "./index.js";\nconst ca = new ConnectedApps({ baseUrl: "http://x", apiKey: "k" });\nexport const app: Promise<App> = ca.apps.get("a");\n// @ts-expect-error App.name is a string\nexport const n: number = ({} as App).name;\n`,
    );
    writeFileSync(
      join(out, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { strict: true, module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", lib: ["ES2022", "DOM"], types: [], noEmit: true, skipLibCheck: false }, files: ["consumer.ts"] }),
    );
    const check = spawnSync(process.execPath, [tsc, "-p", join(out, "tsconfig.json")], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  }, 120_000);
});
