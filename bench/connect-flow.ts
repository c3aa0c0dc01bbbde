// One full connect, from opening a connect-session link to the stored connection, with no
// browser time: GET /connect/{appId}?session=… (→ 302 to the provider), the provider's
// authorization step skipped (the fake hands out a code), then GET /oauth/callback/{appId}
// (code exchange, ID token signature via JWKS, persist). Each run is split into the provider's
// time (every outbound call, body included, timed inside ctx.fetch) and our own time (the rest).
// Against the loopback fake OIDC provider of the callback suite; SQLite and PostgreSQL.
import type { OutboundFetch } from "../src/context.ts";
import { FakeOidcProvider } from "../test/connect/fake-oidc-provider.ts";
import { benchService } from "./bench-service.ts";

const RUNS = 200;

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

function timedFetch(inner: OutboundFetch, spent: { ms: number }): OutboundFetch {
  return async (input, init) => {
    const started = performance.now();
    const res = await inner(input, init);
    const body = await res.arrayBuffer();
    spent.ms += performance.now() - started;
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

export async function run(): Promise<void> {
  const provider = await FakeOidcProvider.start();
  try {
    const rows = [];
    for (const dialect of ["sqlite", "postgres"] as const) {
      const svc = await benchService(dialect);
      try {
        const spent = { ms: 0 };
        svc.ctx.fetch = timedFetch(svc.ctx.fetch, spent);
        const created = await fetch(`${svc.url}/api/v1/apps`, {
          method: "POST",
          headers: svc.headers,
          body: JSON.stringify(provider.appBody("bench", "Bench")),
        });
        if (created.status !== 201) throw new Error(`creating the app answered ${created.status}`);
        const totals: number[] = [];
        const opens: number[] = [];
        const providerTimes: number[] = [];
        // The first 20 runs warm up the JIT, the pools and the JWKS cache and are not reported.
        for (let i = -20; i < RUNS; i++) {
          const minted = await fetch(`${svc.url}/api/v1/connect-sessions`, { method: "POST", headers: svc.headers, body: JSON.stringify({ appId: "bench", userId: `u${i}`, returnTo: "https://host.example/done" }) });
          const link = new URL((await minted.json()).url);
          spent.ms = 0;
          const started = performance.now();
          const opened = await fetch(`${svc.url}${link.pathname}${link.search}`, { redirect: "manual" });
          const authorization = new URL(opened.headers.get("location")!);
          const cookie = opened.headers.getSetCookie()[0]!.split(";")[0]!;
          const openedAt = performance.now();
          const before = performance.now();
          provider.idToken = { nonce: authorization.searchParams.get("nonce")! };
          const query = new URLSearchParams({ code: provider.newCode(), state: authorization.searchParams.get("state")!, iss: provider.issuer });
          const outsideMs = performance.now() - before;
          const back = await fetch(`${svc.url}/oauth/callback/bench?${query}`, { redirect: "manual", headers: { cookie } });
          if (!back.headers.get("location")?.includes("connected=bench")) throw new Error(`the callback answered ${back.status} ${back.headers.get("location")}`);
          const total = performance.now() - started - outsideMs;
          if (i >= 0) {
            opens.push(openedAt - started);
            totals.push(total);
            providerTimes.push(spent.ms);
          }
        }
        const ours = totals.map((t, i) => t - providerTimes[i]!);
        rows.push({
          dialect,
          runs: RUNS,
          "total p50 ms": +percentile(totals, 0.5).toFixed(2),
          "total p99 ms": +percentile(totals, 0.99).toFixed(2),
          "open link p50 ms": +percentile(opens, 0.5).toFixed(2),
          "provider p50 ms": +percentile(providerTimes, 0.5).toFixed(2),
          "ours p50 ms": +percentile(ours, 0.5).toFixed(2),
          "ours p99 ms": +percentile(ours, 0.99).toFixed(2),
          "ours share": `${Math.round((100 * ours.reduce((a, b) => a + b, 0)) / totals.reduce((a, b) => a + b, 0))}%`,
        });
      } finally {
        await svc.close();
      }
    }
    console.log("\n## one connect (link opened → connection stored), no browser time");
    console.table(rows);
  } finally {
    await provider.close();
  }
}
