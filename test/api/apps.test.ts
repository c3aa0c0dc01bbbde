// The apps registry through app.inject() on both databases (SPEC §4).
import { existsSync, readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const SECRET = "sentinel-client-secret-7f3a9c";

const base = {
  name: "Acme Login",
  clientId: "acme-client",
  clientSecret: SECRET,
  scopes: ["openid", "email"],
  authorizationEndpoint: "https://login.acme.test/authorize",
  tokenEndpoint: "https://login.acme.test/token",
};

describe.each(dialects)("apps API on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => svc?.close());

  const post = (body: unknown, headers = svc.headers) =>
    svc.server.inject({ method: "POST", url: "/api/v1/apps", headers, payload: body as object });
  const count = async () => (await svc.ctx.db.selectFrom("apps").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n;

  it("creates an app with a slug id, a redirect URI and a write-only secret", async () => {
    const res = await post(base);
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app.id).toBe("acme-login");
    expect(app.redirectUri).toBe(`${svc.config.publicUrl}/oauth/callback/acme-login`);
    expect(app.hasClientSecret).toBe(true);
    expect(app.tokenEndpointAuthMethod).toBe("client_secret_basic");
    expect(app.pkce).toBe("auto");
    expect(res.body).not.toContain(SECRET);
    expect(app).not.toHaveProperty("clientSecret");
  });

  it("stores the client secret sealed, never in the clear", async () => {
    const row = await svc.ctx.db.selectFrom("apps").select("client_secret").where("id", "=", "acme-login").executeTakeFirstOrThrow();
    expect(row.client_secret).toMatch(/^v1\./);
    expect(row.client_secret).not.toContain(SECRET);
  });

  it("lists and gets apps", async () => {
    const list = await svc.server.inject({ method: "GET", url: "/api/v1/apps", headers: svc.headers });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((a: { id: string }) => a.id)).toContain("acme-login");
    const one = await svc.server.inject({ method: "GET", url: "/api/v1/apps/acme-login", headers: svc.headers });
    expect(one.json().name).toBe("Acme Login");
    expect(list.body + one.body).not.toContain(SECRET);
  });

  it("answers 409 conflict for a taken id and stores nothing", async () => {
    const before = await count();
    const res = await post(base);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("conflict");
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(await count()).toBe(before);
  });

  it("rejects an unknown field, naming it, and stores nothing", async () => {
    const before = await count();
    const res = await post({ ...base, id: "other", colour: "blue" });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_request");
    expect(res.json().detail).toContain("colour");
    expect(await count()).toBe(before);
  });

  it.each([
    ["a bad id", { id: "Not A Slug" }, "id"],
    ["an id over 64 characters", { id: "a".repeat(65) }, "id"],
    ["a non-http endpoint", { id: "x1", tokenEndpoint: "ftp://x.test/token" }, "tokenEndpoint"],
    ["a scope with a space", { id: "x2", scopes: ["a b"] }, "scopes"],
    ["a reserved extra parameter", { id: "x3", extraParams: { redirect_uri: "https://evil.test" } }, "redirect_uri"],
    ["a bad pkce mode", { id: "x4", pkce: "plain" }, "pkce"],
    ["a negative defaultExpiresIn", { id: "x5", defaultExpiresIn: -1 }, "defaultExpiresIn"],
    ["a name of only symbols", { name: "!!!", id: undefined }, "id"],
  ])("rejects %s with invalid_request and stores nothing", async (_label, patch, field) => {
    const before = await count();
    const res = await post({ ...base, ...patch });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_request");
    expect(res.json().detail).toContain(field);
    expect(await count()).toBe(before);
  });

  it("rejects a body that is not JSON", async () => {
    const res = await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: "{nope" });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_request");
  });

  it("defaults tokenEndpointAuthMethod to none without a secret, and re-derives it when one is added", async () => {
    const created = (await post({ ...base, id: "public-client", clientSecret: undefined })).json();
    expect(created.tokenEndpointAuthMethod).toBe("none");
    expect(created.hasClientSecret).toBe(false);
    const patched = await svc.server.inject({ method: "PATCH", url: "/api/v1/apps/public-client", headers: svc.headers, payload: { clientSecret: SECRET } });
    expect(patched.json().tokenEndpointAuthMethod).toBe("client_secret_basic");
    expect(patched.json().hasClientSecret).toBe(true);
  });

  it("patches fields but never id or redirectUri", async () => {
    const res = await svc.server.inject({ method: "PATCH", url: "/api/v1/apps/acme-login", headers: svc.headers, payload: { name: "Acme", scopes: ["openid"] } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: "acme-login", name: "Acme", scopes: ["openid"] });
    for (const field of ["id", "redirectUri"]) {
      const bad = await svc.server.inject({ method: "PATCH", url: "/api/v1/apps/acme-login", headers: svc.headers, payload: { [field]: "x" } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().detail).toContain(field);
    }
    const after = (await svc.server.inject({ method: "GET", url: "/api/v1/apps/acme-login", headers: svc.headers })).json();
    expect(after.redirectUri).toBe(`${svc.config.publicUrl}/oauth/callback/acme-login`);
  });

  it("answers 404 not_found for an unknown app", async () => {
    for (const method of ["GET", "PATCH", "DELETE"] as const) {
      const res = await svc.server.inject({ method, url: "/api/v1/apps/nope", headers: svc.headers, ...(method === "PATCH" ? { payload: {} } : {}) });
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe("not_found");
    }
  });

  it("deletes an app", async () => {
    await post({ ...base, id: "to-delete" });
    const res = await svc.server.inject({ method: "DELETE", url: "/api/v1/apps/to-delete", headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(204);
    expect((await svc.server.inject({ method: "GET", url: "/api/v1/apps/to-delete", headers: svc.headers })).statusCode).toBe(404);
  });

  it("answers 401 unauthorized without a key or with a wrong one", async () => {
    const none = await svc.server.inject({ method: "GET", url: "/api/v1/apps" });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe("unauthorized");
    const wrong = await svc.server.inject({ method: "GET", url: "/api/v1/apps", headers: { authorization: "Bearer ca_000000000000_wrongwrongwrongwrongwrongwrongwrongwrongwro" } });
    expect(wrong.statusCode).toBe(401);
    const before = await count();
    const post401 = await post(base, { "content-type": "application/json" });
    expect(post401.statusCode).toBe(401);
    expect(await count()).toBe(before);
  });

  it("never logs the client secret", () => {
    expect(svc.logs.text().length).toBeGreaterThan(0);
    expect(svc.logs.text()).not.toContain(SECRET);
  });

  if (dialect === "sqlite") {
    it("keeps the secret out of the database file and its WAL", async () => {
      const path = svc.database.url.slice("sqlite:".length);
      const bytes = Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
      expect(bytes.includes(Buffer.from("acme-login"))).toBe(true);
      expect(bytes.includes(Buffer.from(SECRET))).toBe(false);
    });
  }

  if (dialect === "postgres") {
    it("keeps the secret out of a pg_dump-equivalent read of every table", async () => {
      const client = new pg.Client({ connectionString: svc.database.url });
      await client.connect();
      const tables = (await client.query("select tablename from pg_tables where schemaname = 'public'")).rows.map((r) => r.tablename as string);
      let dump = "";
      for (const t of tables) dump += JSON.stringify((await client.query(`select * from "${t}"`)).rows);
      await client.end();
      expect(dump).toContain("acme-login");
      expect(dump).not.toContain(SECRET);
    });
  }
});
