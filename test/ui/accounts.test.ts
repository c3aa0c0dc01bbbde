// Local accounts in the web UI through inject() on both databases: /setup, /login, /logout,
// sessions in web_sessions, CSRF and the sign-in rate limit.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/accounts/user-service.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { FormClient } from "./form-client.ts";

const PASSWORD = "sentinel-password-5d1e8b";

async function sessionCount(svc: TestService): Promise<number> {
  const row = await svc.ctx.db.selectFrom("web_sessions").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}
async function userCount(svc: TestService): Promise<number> {
  const row = await svc.ctx.db.selectFrom("users").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(dialects)("web UI accounts on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
  });
  afterAll(async () => svc?.close());

  async function signIn(email: string, password = PASSWORD): Promise<FormClient> {
    const client = new FormClient(svc.server);
    await client.get("/login");
    const res = await client.post("/login", { email, password });
    expect(res.statusCode).toBe(303);
    return client;
  }

  describe("first start", () => {
    it("sends / to /login and /login to /setup while no account exists", async () => {
      const client = new FormClient(svc.server);
      expect((await client.get("/")).headers.location).toBe("/login");
      expect((await client.get("/login")).headers.location).toBe("/setup");
      const setup = await client.get("/setup");
      expect(setup.statusCode).toBe(200);
      expect(setup.body).toContain(">Create administrator</button>");
      expect(setup.body).toContain('<label for="email">Email</label>');
      expect(setup.body).toContain('<label for="password">Password</label>');
    });

    it("refuses a setup post without its CSRF token and creates nobody", async () => {
      const client = new FormClient(svc.server);
      await client.get("/setup");
      const res = await client.post("/setup", { _csrf: null, email: "admin@example.test", password: PASSWORD });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain("Request refused");
      expect(await userCount(svc)).toBe(0);
    });

    it("refuses a setup post with a token from another browser and creates nobody", async () => {
      const other = new FormClient(svc.server);
      await other.get("/setup");
      const client = new FormClient(svc.server);
      await client.get("/setup");
      const res = await client.post("/setup", { _csrf: other.lastCsrf!, email: "admin@example.test", password: PASSWORD });
      expect(res.statusCode).toBe(403);
      expect(await userCount(svc)).toBe(0);
    });

    it("shows a short password beside the Password field, keeps the email, creates nobody", async () => {
      const client = new FormClient(svc.server);
      await client.get("/setup");
      const res = await client.post("/setup", { email: "admin@example.test", password: "short" });
      expect(res.statusCode).toBe(400);
      expect(res.body).toMatch(/id="password-error">Password must be at least 8 characters/);
      expect(res.body).toContain('value="admin@example.test"');
      expect(res.body).not.toContain("short");
      expect(await userCount(svc)).toBe(0);
    });

    it("creates exactly one administrator from two setup posts at the same moment", async () => {
      const a = new FormClient(svc.server);
      const b = new FormClient(svc.server);
      await a.get("/setup");
      await b.get("/setup");
      const [ra, rb] = await Promise.all([
        a.post("/setup", { email: "racer-a@example.test", password: PASSWORD }),
        b.post("/setup", { email: "racer-b@example.test", password: PASSWORD }),
      ]);
      expect([ra.statusCode, rb.statusCode]).toEqual([303, 303]);
      expect(await userCount(svc)).toBe(1);
      await svc.ctx.db.deleteFrom("users").execute();
      await svc.ctx.db.deleteFrom("meta").where("key", "=", "first_user").execute();
    });

    it("creates the first administrator, then /setup redirects to /login", async () => {
      const client = new FormClient(svc.server);
      await client.get("/setup");
      const res = await client.post("/setup", { email: "Admin@Example.test", password: PASSWORD });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe("/login?setup=done");
      const user = await svc.ctx.db.selectFrom("users").selectAll().executeTakeFirstOrThrow();
      expect(user.email).toBe("admin@example.test");
      expect(user.is_admin).toBe(1);
      expect(user.password_hash).not.toContain(PASSWORD);
      expect((await client.get("/setup")).headers.location).toBe("/login");
      const again = await client.post("/setup", { email: "second@example.test", password: PASSWORD });
      expect(again.headers.location).toBe("/login");
      expect(await userCount(svc)).toBe(1);
    });
  });

  describe("signing in", () => {
    beforeAll(async () => {
      await createUser(svc.ctx, { email: "user@example.test", password: PASSWORD });
      await createUser(svc.ctx, { email: "limited@example.test", password: PASSWORD });
    });

    it("a wrong password shows an error and stores no session", async () => {
      const before = await sessionCount(svc);
      const client = new FormClient(svc.server);
      await client.get("/login");
      const res = await client.post("/login", { email: "user@example.test", password: "not the password" });
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain("The email or password is not right.");
      expect(res.body).toContain('value="user@example.test"');
      expect(await sessionCount(svc)).toBe(before);
      expect(client.cookies.has("ca_session")).toBe(false);
    });

    it("an unknown email gets the same answer and stores no session", async () => {
      const before = await sessionCount(svc);
      const client = new FormClient(svc.server);
      await client.get("/login");
      const res = await client.post("/login", { email: "nobody@example.test", password: PASSWORD });
      expect(res.statusCode).toBe(401);
      expect(res.body).toContain("The email or password is not right.");
      expect(await sessionCount(svc)).toBe(before);
    });

    it("refuses a sign-in post without its CSRF token and stores no session", async () => {
      const before = await sessionCount(svc);
      const client = new FormClient(svc.server);
      await client.get("/login");
      const res = await client.post("/login", { _csrf: null, email: "user@example.test", password: PASSWORD });
      expect(res.statusCode).toBe(403);
      expect(await sessionCount(svc)).toBe(before);
    });

    it("refuses a sign-in post whose Origin is another site, even with the token", async () => {
      const before = await sessionCount(svc);
      const client = new FormClient(svc.server);
      await client.get("/login");
      const res = await client.post("/login", { email: "user@example.test", password: PASSWORD }, { origin: "https://evil.example" });
      expect(res.statusCode).toBe(403);
      expect(await sessionCount(svc)).toBe(before);
    });

    it("refuses a sign-in post marked Sec-Fetch-Site: cross-site", async () => {
      const client = new FormClient(svc.server);
      await client.get("/login");
      const res = await client.post("/login", { email: "user@example.test", password: PASSWORD }, { "sec-fetch-site": "cross-site" });
      expect(res.statusCode).toBe(403);
    });

    it("signs in with an HttpOnly, SameSite=Lax cookie whose value is stored only as its SHA-256", async () => {
      const client = new FormClient(svc.server);
      await client.get("/login");
      const res = await client.post("/login", { email: "user@example.test", password: PASSWORD }, { origin: svc.config.publicUrl });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe("/");
      const setCookie = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith("ca_session="))!;
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Lax/i);
      expect(setCookie).not.toMatch(/Secure/i);
      const value = client.cookies.get("ca_session")!;
      const rows = await svc.ctx.db.selectFrom("web_sessions").selectAll().execute();
      expect(rows.some((r) => r.id_hash === createHash("sha256").update(value).digest("base64url"))).toBe(true);
      expect(rows.some((r) => r.id_hash === value)).toBe(false);
      const home = await client.get("/");
      expect(home.statusCode).toBe(200);
      expect(home.body).toContain("user@example.test");
    });

    it("rotates the session at sign-in: a cookie the browser had before is dead afterwards", async () => {
      const client = await signIn("user@example.test");
      const before = client.cookies.get("ca_session")!;
      // Signing in again from the same browser (here as another account) replaces the session.
      client.cookies.delete("ca_session");
      await client.get("/login");
      client.cookies.set("ca_session", before);
      const res = await client.post("/login", { email: "limited@example.test", password: PASSWORD });
      expect(res.statusCode).toBe(303);
      expect(client.cookies.get("ca_session")).not.toBe(before);
      const hash = createHash("sha256").update(before).digest("base64url");
      expect(await svc.ctx.db.selectFrom("web_sessions").select("id_hash").where("id_hash", "=", hash).executeTakeFirst()).toBeUndefined();
      const stale = new FormClient(svc.server);
      stale.cookies.set("ca_session", before);
      expect((await stale.get("/")).headers.location).toBe("/login");
    });

    it("goes back to a same-site returnTo after sign-in, never to another site", async () => {
      const client = new FormClient(svc.server);
      await client.get("/login?returnTo=%2Fconnect%2Fx%3FreturnTo%3D%2F");
      const res = await client.post("/login", { email: "user@example.test", password: PASSWORD, returnTo: "/connect/x?returnTo=/" });
      expect(res.headers.location).toBe("/connect/x?returnTo=/");
      const other = new FormClient(svc.server);
      await other.get("/login");
      const evil = await other.post("/login", { email: "user@example.test", password: PASSWORD, returnTo: "//evil.example/" });
      expect(evil.headers.location).toBe("/");
    });

    it("limits sign-in attempts per email and address with a clear message, even with the right password", async () => {
      const client = new FormClient(svc.server);
      await client.get("/login");
      for (let i = 0; i < 5; i++) {
        expect((await client.post("/login", { email: "limited@example.test", password: `wrong ${i}` })).statusCode).toBe(401);
      }
      const before = await sessionCount(svc);
      const res = await client.post("/login", { email: "limited@example.test", password: PASSWORD });
      expect(res.statusCode).toBe(429);
      expect(res.body).toMatch(/Too many failed sign-ins for this email from your address\. Try again in \d+ minutes?\./);
      expect(res.headers["retry-after"]).toBeDefined();
      expect(await sessionCount(svc)).toBe(before);
      // Another account from the same address is not held back.
      expect((await client.post("/login", { email: "user@example.test", password: PASSWORD })).statusCode).toBe(303);
    });

    it("a non-admin gets a 403 page at /apps/new and cannot post the form", async () => {
      const client = await signIn("user@example.test");
      const page = await client.get("/apps/new");
      expect(page.statusCode).toBe(403);
      expect(page.headers["content-type"]).toContain("text/html");
      expect(page.body).toContain("Only administrators");
      await client.get("/");
      const post = await client.post("/apps/new", { name: "Sneaky", authorizationEndpoint: "https://a.example/auth" });
      expect(post.statusCode).toBe(403);
      const apps = await svc.ctx.db.selectFrom("apps").select("id").execute();
      expect(apps).toEqual([]);
    });

    it("signs out only with a POST carrying the CSRF token; the session row is removed", async () => {
      const client = await signIn("user@example.test");
      const value = client.cookies.get("ca_session")!;
      const hash = createHash("sha256").update(value).digest("base64url");
      const confirm = await client.get("/logout");
      expect(confirm.statusCode).toBe(200);
      expect(confirm.body).toContain(">Sign out</button>");
      const refused = await client.post("/logout", { _csrf: null });
      expect(refused.statusCode).toBe(403);
      expect(await svc.ctx.db.selectFrom("web_sessions").select("id_hash").where("id_hash", "=", hash).executeTakeFirst()).toBeDefined();
      const res = await client.post("/logout", {});
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe("/login");
      expect(await svc.ctx.db.selectFrom("web_sessions").select("id_hash").where("id_hash", "=", hash).executeTakeFirst()).toBeUndefined();
      expect((await client.get("/")).headers.location).toBe("/login");
    });

    it("never logs the password", () => {
      expect(svc.logs.text()).not.toContain(PASSWORD);
    });
  });
});

describe.each(dialects)("web UI sessions over time on %s", (dialect) => {
  let svc: TestService;
  const clock = { t: Date.UTC(2026, 0, 1), now: () => clock.t };
  beforeAll(async () => {
    svc = await startTestService(dialect, { clock });
    await createUser(svc.ctx, { email: "user@example.test", password: PASSWORD });
  });
  afterAll(async () => svc?.close());

  it("ends a session after 12 hours, and removes expired rows at the next sign-in", async () => {
    const client = new FormClient(svc.server);
    await client.get("/login");
    expect((await client.post("/login", { email: "user@example.test", password: PASSWORD })).statusCode).toBe(303);
    clock.t += 12 * 60 * 60 * 1000 - 1000;
    expect((await client.get("/")).statusCode).toBe(200);
    clock.t += 1000;
    expect((await client.get("/")).headers.location).toBe("/login");
    expect(await sessionCount(svc)).toBe(1);
    const next = new FormClient(svc.server);
    await next.get("/login");
    expect((await next.post("/login", { email: "user@example.test", password: PASSWORD })).statusCode).toBe(303);
    expect(await sessionCount(svc)).toBe(1);
  });
});

describe("web UI accounts behind https", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService("sqlite", { env: { PUBLIC_URL: "https://apps.example.test" } });
    await createUser(svc.ctx, { email: "user@example.test", password: PASSWORD });
  });
  afterAll(async () => svc?.close());

  it("uses __Host- cookies marked Secure", async () => {
    const client = new FormClient(svc.server);
    const page = await client.get("/login");
    expect(([] as string[]).concat(page.headers["set-cookie"] ?? []).join("\n")).toMatch(/__Host-ca_csrf=[^;]+;.*Secure/i);
    const res = await client.post("/login", { email: "user@example.test", password: PASSWORD }, { origin: "https://apps.example.test" });
    expect(res.statusCode).toBe(303);
    const setCookie = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith("__Host-ca_session="))!;
    expect(setCookie).toMatch(/Secure/);
    expect(setCookie).toMatch(/Path=\//);
    expect(setCookie).not.toMatch(/Domain=/i);
    expect(setCookie).toMatch(/HttpOnly/);
  });
});
