// Proxy overhead: a small JSON body and a 1 MiB body through /api/v1/proxy against the same
// requests straight to the loopback API, in one run.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { saveConnection } from "../src/connections/connection-service.ts";
import { benchService } from "./bench-service.ts";
import { load, type LoadResult } from "./harness.ts";

function printPair(title: string, direct: LoadResult, proxied: LoadResult) {
  console.log(`\n## ${title}`);
  console.table([direct, proxied].map((r) => ({ ...r, requestsPerSecond: Math.round(r.requestsPerSecond) })));
  console.log(
    `throughput ratio proxied / direct: ${(proxied.requestsPerSecond / direct.requestsPerSecond).toFixed(2)}; added p50 ${(proxied.p50Ms - direct.p50Ms).toFixed(1)} ms, added p99 ${(proxied.p99Ms - direct.p99Ms).toFixed(1)} ms`,
  );
}

export async function run(): Promise<void> {
  const small = Buffer.from(JSON.stringify({ id: 42, email: "user@example.test", name: "A User", plan: "pro" }));
  const big = Buffer.alloc(1024 * 1024, 97);
  const api = createServer((req, res) => {
    const body = req.url?.startsWith("/api/big") ? big : small;
    res.writeHead(200, { "content-type": req.url?.startsWith("/api/big") ? "application/octet-stream" : "application/json", "content-length": body.length });
    res.end(body);
  });
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const svc = await benchService("sqlite");
  try {
    await fetch(`${svc.url}/api/v1/apps`, {
      method: "POST",
      headers: svc.headers,
      body: JSON.stringify({ name: "Bench API", clientId: "c", authorizationEndpoint: `${apiUrl}/authorize`, tokenEndpoint: `${apiUrl}/token`, apiBaseUrl: `${apiUrl}/api` }),
    });
    await saveConnection(svc.ctx, {
      appId: "bench-api",
      userId: "u1",
      tokens: { accessToken: "bench-access-token", tokenType: "Bearer", refreshToken: null, idToken: null, expiresIn: 86400, scopes: null },
      account: { sub: "u1", email: null, name: null },
      requestedScopes: [],
    });
    const auth = { authorization: svc.headers.authorization! };
    printPair("small JSON, 20 connections", await load("direct", `${apiUrl}/api/me`), await load("proxied", `${svc.url}/api/v1/proxy/bench-api/u1/me`, { headers: auth }));
    // One connection: the latency a single call gains by going through the proxy, without queueing.
    printPair(
      "small JSON, 1 connection",
      await load("direct", `${apiUrl}/api/me`, { connections: 1 }),
      await load("proxied", `${svc.url}/api/v1/proxy/bench-api/u1/me`, { headers: auth, connections: 1 }),
    );
    printPair(
      "1 MiB body",
      await load("direct", `${apiUrl}/api/big`, { connections: 4 }),
      await load("proxied", `${svc.url}/api/v1/proxy/bench-api/u1/big`, { headers: auth, connections: 4 }),
    );
  } finally {
    await svc.close();
    await new Promise((r) => api.close(r));
  }
}
