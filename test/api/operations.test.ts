// /healthz, /metrics, /openapi.json and /docs: no API key, and in step with the code.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCodes } from "../../src/errors/catalog.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

describe.each(dialects)("operations on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => svc?.close());

  it("answers /healthz 200 once the database answers", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/healthz" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", database: dialect });
  });

  it("serves Prometheus metrics with HTTP and database figures", async () => {
    await svc.server.inject({ method: "GET", url: "/api/v1/apps", headers: svc.headers });
    const res = await svc.server.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/plain/);
    expect(res.body).toMatch(/connected_apps_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/apps",status="200"\} [1-9]/);
    expect(res.body).toMatch(/connected_apps_db_query_duration_seconds_count [1-9]/);
  });

  it("serves an OpenAPI 3.1 document of the API, with the error catalog", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/apps", "/api/v1/apps/{appId}"]));
    // The create body is strict: unknown fields are refused, and the schema says so.
    const create = doc.paths["/api/v1/apps"].post.requestBody.content["application/json"].schema;
    expect(create.additionalProperties).toBe(false);
    for (const code of errorCodes) expect(doc.info.description).toContain(`\`${code}\``);
  });

  it("serves /docs with every error code of the catalog as an anchor", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/docs" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    for (const code of errorCodes) expect(res.body).toContain(`id="error-${code}"`);
  });

  it("answers an unknown path with a not_found problem", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/nope" , headers: svc.headers});
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("not_found");
  });

  it("links every problem type to its catalog entry in /docs", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/apps/nope", headers: svc.headers });
    expect(res.json().type).toBe("/docs#error-not_found");
  });
});

describe("the error catalog", () => {
  it("is the only source of codes: every AppError code used in src/ is in it", () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith(".ts") && !path.endsWith(".test.ts")) {
          for (const m of readFileSync(path, "utf8").matchAll(/new AppError\(\s*"([a-z_]+)"/g)) used.add(m[1]!);
        }
      }
    };
    walk("src");
    expect(used.size).toBeGreaterThan(3);
    for (const code of used) expect(errorCodes).toContain(code);
  });
});
