// Compiles connected-apps/sdk (src/sdk) to dist/sdk: `npm run build:sdk`, and `prepare`, so
// npm install / npm ci (and installing this repository as a git dependency) build it. A
// production install without devDependencies (npm ci --omit=dev) has no TypeScript and only
// runs the service, which needs no build: it skips with a note instead of failing the install.
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let tsc;
try {
  tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
} catch {
  console.warn("build-sdk: typescript is not installed (production install?); dist/sdk not built");
  process.exit(0);
}
rmSync(join(root, "dist/sdk"), { recursive: true, force: true });
const run = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.sdk.json")], { stdio: "inherit" });
process.exit(run.status ?? 1);
