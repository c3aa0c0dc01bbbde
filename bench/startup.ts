// Time from `npm start` (node bin/connected-apps.mjs serve) to the first /healthz 200, on a new
// data directory (keyring generated, migrations applied) and on an existing one.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

async function timeToHealthy(dir: string, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ["bin/connected-apps.mjs", "serve"], {
    env: { ...process.env, PORT: String(port), CONNECTED_APPS_DATA_DIR: dir, DATABASE_URL: `sqlite:${join(dir, "db.sqlite")}`, LOG_LEVEL: "warn" },
    stdio: "ignore",
  });
  try {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        if (res.status === 200) return performance.now() - started;
      } catch {}
      if (performance.now() - started > 30_000) throw new Error("no /healthz 200 within 30 s");
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "ca-start-"));
  const baselineStart = performance.now();
  await new Promise((r) => spawn(process.execPath, ["-e", "0"]).once("exit", r));
  const bareNode = performance.now() - baselineStart;
  try {
    const port = 18000 + Math.floor(Math.random() * 1000);
    const first = await timeToHealthy(dir, port);
    const again = await timeToHealthy(dir, port + 1);
    console.log("\n## start to /healthz 200");
    console.table([
      { run: "bare `node -e 0` (baseline)", ms: Math.round(bareNode) },
      { run: "first start (new keys, migrations)", ms: Math.round(first) },
      { run: "later start", ms: Math.round(again) },
    ]);
    console.log(`ratio later start / bare node: ${(again / bareNode).toFixed(1)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
