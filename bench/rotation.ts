// Key rotation speed: `connected-apps keys rotate` (the real CLI, in another process) over
// CA_BENCH_USERS (100,000) connections seeded by direct inserts (access + refresh token each),
// while the service answers token reads at CA_BENCH_RATE/s; token-read p50/p99 during the
// rotation against the same reads before it. SQLite and PostgreSQL.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { startKeyringWatcher } from "../src/crypto/keyring-reload.ts";
import { benchService } from "./bench-service.ts";
import { seedConnections } from "./seed-connections.ts";

const USERS = Number(process.env.CA_BENCH_USERS ?? 100_000);
const RATE = Number(process.env.CA_BENCH_RATE ?? 200);
const CLI = fileURLToPath(new URL("../bin/connected-apps.mjs", import.meta.url));

function reads(url: string, headers: Record<string, string>, seconds: number) {
  let finish: (r: autocannon.Result) => void = () => {};
  const done = new Promise<autocannon.Result>((resolve) => (finish = resolve));
  const instance = autocannon({
    url,
    duration: seconds,
    connections: 10,
    overallRate: RATE,
    headers,
    requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: `/api/v1/apps/bench/connections/u${Math.floor(Math.random() * USERS)}/token?minValidity=0` }) }],
  }, (_err, result) => finish(result));
  return { stop: () => instance.stop(), done };
}

async function measure(dialect: "sqlite" | "postgres") {
  // Keys in the keys file, as `keys rotate` updates it and the service reloads it.
  const svc = await benchService(dialect, { CONNECTED_APPS_KEYS: "" });
  const watcher = startKeyringWatcher(svc.ctx);
  try {
    const app = await fetch(`${svc.url}/api/v1/apps`, {
      method: "POST",
      headers: svc.headers,
      body: JSON.stringify({ name: "bench", clientId: "c", authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" }),
    });
    if (app.status !== 201) throw new Error(`creating the app: ${app.status}`);
    const s0 = performance.now();
    await seedConnections(svc.ctx, "bench", USERS, (i) => ({ accessToken: `at-${i}`, refreshToken: `rt-${i}`, expiresAt: Date.now() + 86400_000, nextRefreshAt: null }));
    const seedSeconds = (performance.now() - s0) / 1000;

    const before = reads(svc.url, svc.headers, 5);
    const baseline = await before.done;

    const during = reads(svc.url, svc.headers, 120);
    const cli = spawn(process.execPath, [CLI, "keys", "rotate"], {
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: svc.databaseUrl, CONNECTED_APPS_DATA_DIR: svc.ctx.config.dataDir },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    cli.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => cli.on("exit", resolve));
    during.stop();
    const loaded = await during.done;
    if (code !== 0) throw new Error(`keys rotate exited ${code}: ${out}`);
    const m = /(\d+) values re-sealed in ([\d.]+) s/.exec(out);
    const values = Number(m?.[1]);
    const seconds = Number(m?.[2]);
    return {
      dialect,
      connections: USERS,
      seedS: Number(seedSeconds.toFixed(1)),
      valuesResealed: values,
      rotationS: seconds,
      connectionsPerS: Math.round(USERS / seconds),
      readP50Before: baseline.latency.p50,
      readP99Before: baseline.latency.p99,
      readP50During: loaded.latency.p50,
      readP99During: loaded.latency.p99,
      readErrorsDuring: loaded.errors + loaded.non2xx,
    };
  } finally {
    await watcher.stop();
    await svc.close();
  }
}

export async function run(): Promise<void> {
  const rows = [];
  for (const dialect of ["sqlite", "postgres"] as const) rows.push(await measure(dialect));
  console.table(rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await run().then(() => process.exit(0));
