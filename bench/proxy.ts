// Proxy overhead: a small JSON body and a 1 MiB body through /api/v1/proxy against the same
// requests straight to the loopback API, in one run. The API runs in a process of its own, as a
// provider would; autocannon in another.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { Agent, request } from "undici";
import { saveConnection } from "../src/connections/connection-service.ts";
import { benchService } from "./bench-service.ts";
import { load, type LoadResult } from "./harness.ts";

function printPair(title: string, direct: LoadResult, proxied: LoadResult) {
  console.log(`\n## ${title}`);
  console.table([direct, proxied].map((r) => ({ ...r, requestsPerSecond: Math.round(r.requestsPerSecond) })));
  console.log(
    `throughput ratio ${proxied.label} / ${direct.label}: ${(proxied.requestsPerSecond / direct.requestsPerSecond).toFixed(2)}; added p50 ${(proxied.p50Ms - direct.p50Ms).toFixed(1)} ms, added p99 ${(proxied.p99Ms - direct.p99Ms).toFixed(1)} ms`,
  );
}

/**
 * The least a proxy can do: a bare Fastify route forwarding to the API with undici.request and
 * streaming the answer back (no auth, no token, no checks). Ours against it is our own cost.
 */
async function bareProxy(apiUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const dispatcher = new Agent();
  const app = Fastify({ logger: false });
  app.get("/bare/*", async (req, reply) => {
    const upstream = await request(`${apiUrl}/api/${(req.params as { "*": string })["*"]}`, { dispatcher });
    return reply.code(upstream.statusCode).header("content-type", upstream.headers["content-type"]).send(upstream.body);
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return { url: `http://127.0.0.1:${port}/bare`, close: async () => (await app.close(), await dispatcher.close()) };
}

export async function run(): Promise<void> {
  const api = spawn(process.execPath, [fileURLToPath(new URL("./loopback-api.mjs", import.meta.url))], { stdio: ["pipe", "pipe", "inherit"] });
  const [firstLine] = (await once(api.stdout!, "data")) as [Buffer];
  const apiUrl = `http://127.0.0.1:${firstLine.toString().trim()}`;
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
    const bare = await bareProxy(apiUrl);
    try {
      printPair("small JSON, 20 connections, against a bare Fastify + undici proxy", await load("bare proxy", `${bare.url}/me`), await load("proxied", `${svc.url}/api/v1/proxy/bench-api/u1/me`, { headers: auth }));
      printPair(
        "1 MiB body, against a bare Fastify + undici proxy",
        await load("bare proxy", `${bare.url}/big`, { connections: 4 }),
        await load("proxied", `${svc.url}/api/v1/proxy/bench-api/u1/big`, { headers: auth, connections: 4 }),
      );
    } finally {
      await bare.close();
    }
  } finally {
    await svc.close();
    api.stdin!.end();
    api.kill();
  }
}
