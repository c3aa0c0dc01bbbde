// The quick start (README): `connected-apps serve` with nothing configured but a port and a data
// folder serves /healthz on SQLite, and a SIGTERM to its PID stops it cleanly (exit 0).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, lines, spawnCli } from "./cli-process.ts";

async function waitForHealthy(url: string, child: { exitCode: number | null }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode} before /healthz answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

describe("quick start", () => {
  const dir = mkdtempSync(join(tmpdir(), "ca-quick-start-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("serves /healthz on a fresh SQLite database and stops with exit 0 on SIGTERM", async () => {
    const port = await freePort();
    const dataDir = join(dir, "data");
    // The defaults of SPEC §2, with the data folder moved into a temp dir: DATABASE_URL is
    // ./data/connected-apps.db relative to the working directory, which is `dir` here.
    const started = performance.now();
    const child = spawnCli(["serve"], { PORT: String(port), CONNECTED_APPS_DATA_DIR: dataDir, DATABASE_URL: "sqlite:./data/connected-apps.db" }, dir);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
      await waitForHealthy(`http://127.0.0.1:${port}/healthz`, child, 20_000);
      const msToHealthy = Math.round(performance.now() - started);
      console.log(`quick start: spawn to first /healthz 200 in ${msToHealthy} ms`);

      const health = await (await fetch(`http://127.0.0.1:${port}/healthz`)).json();
      expect(health).toMatchObject({ status: "ok", database: "sqlite" });
      expect(statSync(join(dataDir, "connected-apps.db")).isFile()).toBe(true);
      expect(statSync(join(dataDir, "keys.json")).mode & 0o777).toBe(0o600);
      // pino logs on stdout: the generated-keyring warning, then the serving line.
      const logs = lines(stdout).map((l) => JSON.parse(l) as { level: number; msg: string });
      expect(logs.some((l) => l.level === 40 && /generated a new encryption keyring/.test(l.msg))).toBe(true);
      expect(logs.some((l) => l.msg === "connected-apps is serving")).toBe(true);
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${(err as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    }

    const stopAsked = performance.now();
    expect(process.kill(child.pid!, "SIGTERM")).toBe(true);
    const outcome = await Promise.race([
      exited,
      new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 5000)),
    ]);
    if (outcome === "timeout") child.kill("SIGKILL");
    expect(outcome).toEqual({ code: 0, signal: null });
    console.log(`quick start: stopped ${Math.round(performance.now() - stopAsked)} ms after SIGTERM`);
    expect(stderr).not.toMatch(/^\s+at .+/m);
    // The port is free again.
    await expect(fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) })).rejects.toThrow();
  });
});
