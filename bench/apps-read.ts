// GET /api/v1/apps/{id} against a bare Fastify route returning the same JSON, on SQLite and PostgreSQL.
import { bareFastify, load, printComparison } from "./harness.ts";
import { benchService } from "./bench-service.ts";

export async function run(): Promise<void> {
  for (const dialect of ["sqlite", "postgres"] as const) {
    const svc = await benchService(dialect);
    try {
      const created = await fetch(`${svc.url}/api/v1/apps`, {
        method: "POST",
        headers: svc.headers,
        body: JSON.stringify({ name: "Bench App", clientId: "c", clientSecret: "s", scopes: ["openid"], authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" }),
      });
      const body = await created.json();
      const bare = await bareFastify(body);
      try {
        const baseline = await load("bare fastify", bare.url);
        const subject = await load(`GET /api/v1/apps/{id} (${dialect})`, `${svc.url}/api/v1/apps/bench-app`, { headers: svc.headers });
        printComparison(`apps read on ${dialect}`, baseline, subject);
      } finally {
        await bare.close();
      }
    } finally {
      await svc.close();
    }
  }
}
