// Shared pieces for benchmarks: autocannon runs, a bare Fastify baseline, and figures printed as
// ratios against a baseline measured in the same run (these machines are noisy).
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import Fastify from "fastify";

const run = promisify(execFile);
const AUTOCANNON = createRequire(import.meta.url).resolve("autocannon/autocannon.js");

export interface LoadResult {
  label: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

/**
 * Runs autocannon in a child process, so the load generator does not share the event loop of
 * the server under test (in one process it took half of every figure, baseline included).
 */
export async function load(label: string, url: string, opts: { seconds?: number; connections?: number; headers?: Record<string, string> } = {}): Promise<LoadResult> {
  const args = [AUTOCANNON, "--json", "-d", String(opts.seconds ?? 5), "-c", String(opts.connections ?? 20)];
  for (const [name, value] of Object.entries(opts.headers ?? {})) args.push("-H", `${name}=${value}`);
  args.push(url);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
  return {
    label,
    requestsPerSecond: r.requests.average,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
  };
}

/** A bare Fastify route answering `body` as JSON: the ceiling our routes are compared with. */
export async function bareFastify(body: unknown): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify({ logger: false });
  const json = JSON.stringify(body);
  app.get("/bare", async (_req, reply) => reply.type("application/json").send(json));
  await app.listen({ port: 0, host: "127.0.0.1" });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/bare`, close: () => app.close() };
}

export function printComparison(title: string, baseline: LoadResult, subject: LoadResult): void {
  const ratio = subject.requestsPerSecond / baseline.requestsPerSecond;
  console.log(`\n## ${title}`);
  console.table([baseline, subject].map((r) => ({ ...r, requestsPerSecond: Math.round(r.requestsPerSecond) })));
  console.log(`throughput ratio ${subject.label} / ${baseline.label}: ${ratio.toFixed(2)}; p99 ${subject.p99Ms} ms vs ${baseline.p99Ms} ms`);
}

export function timeOps(fn: () => void, ms = 1000): number {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return n / (ms / 1000);
}
