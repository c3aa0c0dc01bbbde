// GET /api/v1/apps/{appId}/connections/{userId}/token for a valid token, against a bare Fastify
// route returning the same JSON in the same run, on SQLite and PostgreSQL.
import { saveConnection } from "../src/connections/connection-service.ts";
import { benchService } from "./bench-service.ts";
import { bareFastify, load, printComparison } from "./harness.ts";

export async function run(): Promise<void> {
  for (const dialect of ["sqlite", "postgres"] as const) {
    const svc = await benchService(dialect);
    try {
      await fetch(`${svc.url}/api/v1/apps`, {
        method: "POST",
        headers: svc.headers,
        body: JSON.stringify({ name: "Bench", clientId: "c", authorizationEndpoint: "http://127.0.0.1:9/auth", tokenEndpoint: "http://127.0.0.1:9/token" }),
      });
      await saveConnection(svc.ctx, {
        appId: "bench",
        userId: "u1",
        tokens: { accessToken: "a".repeat(200), tokenType: "Bearer", refreshToken: "r".repeat(100), idToken: null, expiresIn: 86400, scopes: ["openid", "email"] },
        account: { sub: "u1", email: null, name: null },
        requestedScopes: [],
      });
      const url = `${svc.url}/api/v1/apps/bench/connections/u1/token`;
      const body = await (await fetch(url, { headers: svc.headers })).json();
      const bare = await bareFastify(body);
      try {
        printComparison(`token read on ${dialect}`, await load("bare fastify", bare.url), await load(`GET .../token (${dialect})`, url, { headers: svc.headers }));
      } finally {
        await bare.close();
      }
    } finally {
      await svc.close();
    }
  }
}
