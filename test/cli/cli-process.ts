// Runs the real CLI (`node bin/connected-apps.mjs ...`) as a child process, with an environment
// that holds only what a test gives it (none of the service's variables leak in from the shell).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../bin/connected-apps.mjs", import.meta.url));
const REPO = fileURLToPath(new URL("../..", import.meta.url));

const SERVICE_VARIABLES = /^(PORT|HOST|PUBLIC_URL|DATABASE_URL|CONNECTED_APPS_.*|WEBHOOK_.*|LOG_LEVEL)$/;

export function cliEnv(env: Record<string, string>): Record<string, string> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !SERVICE_VARIABLES.test(k))) as Record<string, string>;
  return { ...base, ...env };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI; `cwd` defaults to the repository. */
export function spawnCli(args: string[], env: Record<string, string>, cwd = REPO): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [CLI, ...args], { env: cliEnv(env), cwd, stdio: "pipe" });
}

/** Runs the CLI to its end; a run longer than `timeoutMs` is killed (by its PID) and fails the test. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<CliResult> {
  const child = spawnCli(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`connected-apps ${args.join(" ")} did not exit within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The non-empty lines of a stream's output. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
