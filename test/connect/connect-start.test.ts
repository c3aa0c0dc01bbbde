// POST /api/v1/connect-sessions and GET /connect/{appId} through server.inject(): the link is
// stored hashed, single use, 30 minutes; a signed-in user's returnTo is a same-origin path only.
// Each refused input gets its exact code and starts nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStore } from "../../src/accounts/session-store.ts";
import { createUser } from "../../src/accounts/user-service.ts";
import { hashOpaqueToken, newOpaqueToken } from "../../src/connect/opaque-token.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

describe.each(dialects)("connect sessions and /connect on %s", (dialect) => {
  let svc: TestService;
  let offsetMs = 0;
  const sessionTokens: string[] = [];

  beforeAll(async () => {
    svc = await startTestService(dialect, { clock: { now: () => Date.now() + offsetMs } });
    const app = (payload: object) => svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload });
    expect((await app({ id: "acme", name: "Acme", authorizationEndpoint: "https://login.acme.test/authorize", tokenEndpoint: "https://login.acme.test/token", clientId: "acme-client", scopes: ["email"] })).statusCode).toBe(201);
    expect((await app({ id: "half", name: "Half", tokenEndpoint: "https://login.half.test/token" })).statusCode).toBe(201);
  });
  afterAll(async () => svc?.close());

  const mint = (payload: object) => svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload });
  const count = async (table: "connect_sessions" | "connect_transactions") =>
    Number((await svc.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);
  const open = (url: string) => {
    const u = new URL(url);
    return svc.server.inject({ method: "GET", url: u.pathname + u.search });
  };

  it("mints a 30-minute link, stored only as its hash", async () => {
    const res = await mint({ appId: "acme", userId: "u-42", returnTo: "https://host.example/done" });
    expect(res.statusCode, res.body).toBe(201);
    const { url, expiresAt } = res.json();
    expect(url).toMatch(new RegExp(`^${svc.config.publicUrl}/connect/acme\\?session=[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 60 * 1000);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(30 * 60 * 1000);
    expect(res.headers["cache-control"]).toBe("no-store");
    const token = new URL(url).searchParams.get("session")!;
    sessionTokens.push(token);
    const rows = await svc.ctx.db.selectFrom("connect_sessions").selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]).toMatchObject({ app_id: "acme", user_id: "u-42", return_to: "https://host.example/done", used_at: null });
  });

  it("accepts a returnTo with userinfo in it (the caller is the host's trusted backend) and a 200-character userId", async () => {
    expect((await mint({ appId: "acme", userId: "u".repeat(200), returnTo: "https://host@host.example/x" })).statusCode).toBe(201);
  });

  it.each([
    ["a missing userId", { appId: "acme" }, "invalid_request", "userId"],
    ["an empty userId", { appId: "acme", userId: "" }, "invalid_request", "userId"],
    ["a 201-character userId", { appId: "acme", userId: "u".repeat(201) }, "invalid_request", "userId"],
    ["a javascript: returnTo", { appId: "acme", userId: "u1", returnTo: "javascript:alert(1)" }, "invalid_request", "returnTo"],
    ["a scheme-relative returnTo", { appId: "acme", userId: "u1", returnTo: "//evil.example" }, "invalid_request", "returnTo"],
    ["an unknown field", { appId: "acme", userId: "u1", colour: "blue" }, "invalid_request", "colour"],
    ["an unknown app", { appId: "nope", userId: "u1" }, "not_found", "nope"],
    ["an app without an authorization endpoint or client id", { appId: "half", userId: "u1" }, "invalid_request", "authorizationEndpoint"],
  ])("refuses %s with %s and stores nothing", async (_name, body, code, mentions) => {
    const before = await count("connect_sessions");
    const res = await mint(body);
    expect(res.json().code).toBe(code);
    expect(res.json().detail).toContain(mentions);
    expect(await count("connect_sessions")).toBe(before);
  });

  it("refuses without an API key", async () => {
    const res = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: { "content-type": "application/json" }, payload: { appId: "acme", userId: "u1" } });
    expect(res.statusCode).toBe(401);
  });

  it("opening the link starts the flow for the session's user with no sign-in, and spends it", async () => {
    const { url } = (await mint({ appId: "acme", userId: "u-open" })).json();
    const res = await open(url);
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toMatch(/^https:\/\/login\.acme\.test\/authorize\?/);
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    const tx = await svc.ctx.db.selectFrom("connect_transactions").selectAll().where("user_id", "=", "u-open").executeTakeFirstOrThrow();
    expect(tx.app_id).toBe("acme");
    const session = await svc.ctx.db.selectFrom("connect_sessions").select("used_at").where("user_id", "=", "u-open").executeTakeFirstOrThrow();
    expect(session.used_at).not.toBeNull();
  });

  it("refuses a spent connect session: invalid_session page, no second flow", async () => {
    const { url } = (await mint({ appId: "acme", userId: "u-spent" })).json();
    expect((await open(url)).statusCode).toBe(302);
    const before = await count("connect_transactions");
    const again = await open(url);
    expect(again.statusCode).toBe(400);
    expect(again.headers["content-type"]).toMatch(/text\/html/);
    expect(again.body).toContain("<code>invalid_session</code>");
    expect(again.body).toContain("already used");
    expect(await count("connect_transactions")).toBe(before);
  });

  it("a HEAD request (a link checker) does not spend the link", async () => {
    const { url } = (await mint({ appId: "acme", userId: "u-head" })).json();
    const u = new URL(url);
    const head = await svc.server.inject({ method: "HEAD", url: u.pathname + u.search });
    expect(head.statusCode).toBe(404);
    expect((await open(url)).statusCode).toBe(302);
  });

  it("two concurrent opens of one link start one flow", async () => {
    const { url } = (await mint({ appId: "acme", userId: "u-race" })).json();
    const results = await Promise.all([open(url), open(url), open(url)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([302, 400, 400]);
    const flows = await svc.ctx.db.selectFrom("connect_transactions").select("user_id").where("user_id", "=", "u-race").execute();
    expect(flows).toHaveLength(1);
  });

  it("refuses an expired connect session (after 30 minutes): invalid_session, no flow", async () => {
    const { url } = (await mint({ appId: "acme", userId: "u-late" })).json();
    offsetMs = 30 * 60 * 1000 + 1;
    try {
      const res = await open(url);
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain("<code>invalid_session</code>");
      expect(res.body).toContain("expired");
    } finally {
      offsetMs = 0;
    }
    expect(await svc.ctx.db.selectFrom("connect_transactions").select("user_id").where("user_id", "=", "u-late").execute()).toEqual([]);
  });

  it("refuses an unknown session token, and one minted for another app", async () => {
    expect((await svc.server.inject({ method: "GET", url: `/connect/acme?session=${"x".repeat(43)}` })).body).toContain("<code>invalid_session</code>");
    const { url } = (await mint({ appId: "acme", userId: "u-other-app" })).json();
    const token = new URL(url).searchParams.get("session")!;
    sessionTokens.push(token);
    await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: { id: "beta", name: "Beta", authorizationEndpoint: "https://b.test/a", tokenEndpoint: "https://b.test/t", clientId: "b" } });
    const res = await svc.server.inject({ method: "GET", url: `/connect/beta?session=${token}` });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>invalid_session</code>");
    // Still good for its own app: a wrong-app attempt does not spend it.
    expect((await open(url)).statusCode).toBe(302);
  });

  it("answers a clear page for an app that is not set up, and for an unknown app", async () => {
    const half = await svc.server.inject({ method: "GET", url: "/connect/half" });
    expect(half.statusCode).toBe(409);
    expect(half.body).toContain("<code>app_not_ready</code>");
    expect(half.body).toContain("authorizationEndpoint");
    const nope = await svc.server.inject({ method: "GET", url: "/connect/nope" });
    expect(nope.statusCode).toBe(404);
    expect(nope.body).toContain("<code>not_found</code>");
  });

  it("sends a visitor who is not signed in to /login, keeping where they were going", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/connect/acme?returnTo=%2Fapps%3Ftab%3D1" });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`/login?returnTo=${encodeURIComponent("/connect/acme?returnTo=%2Fapps%3Ftab%3D1")}`);
  });

  /** A local account signed in to the web UI: its session cookie. */
  async function signedIn(email: string): Promise<{ userId: string; cookie: string }> {
    const user = await createUser(svc.ctx, { email, password: "a-long-password" });
    const value = newOpaqueToken();
    const now = Date.now();
    await new SessionStore(svc.ctx.db).insert({ idHash: hashOpaqueToken(value), userId: user.id, csrfToken: newOpaqueToken(), expiresAt: now + 3600_000 }, now);
    return { userId: user.id, cookie: `ca_session=${value}` };
  }

  it("starts the flow for the signed-in local user, returning to a same-origin path", async () => {
    const { userId, cookie } = await signedIn("carol@example.test");
    const res = await svc.server.inject({ method: "GET", url: "/connect/acme?returnTo=%2Fapps%3Ftab%3D1", headers: { cookie } });
    expect(res.statusCode).toBe(302);
    expect(String(res.headers.location)).toMatch(/^https:\/\/login\.acme\.test\/authorize\?/);
    const tx = await svc.ctx.db.selectFrom("connect_transactions").selectAll().where("user_id", "=", userId).executeTakeFirstOrThrow();
    expect(tx.return_to).toBe(`${svc.config.publicUrl}/apps?tab=1`);
    expect(tx.app_id).toBe("acme");
  });

  it("starts the flow for the signed-in local user with no returnTo (the callback then answers a page)", async () => {
    const { userId, cookie } = await signedIn("dave@example.test");
    const res = await svc.server.inject({ method: "GET", url: "/connect/acme", headers: { cookie } });
    expect(res.statusCode).toBe(302);
    const tx = await svc.ctx.db.selectFrom("connect_transactions").selectAll().where("user_id", "=", userId).executeTakeFirstOrThrow();
    expect(tx.return_to).toBeNull();
  });

  it("refuses a bad returnTo from a signed-in user too, starting nothing", async () => {
    const { userId, cookie } = await signedIn("erin@example.test");
    const res = await svc.server.inject({ method: "GET", url: `/connect/acme?returnTo=${encodeURIComponent("//evil.example")}`, headers: { cookie } });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>invalid_return_to</code>");
    expect(await svc.ctx.db.selectFrom("connect_transactions").select("user_id").where("user_id", "=", userId).execute()).toEqual([]);
  });

  it.each([
    ["//evil.example", "//evil.example"],
    ["https://host@evil.example", "https://host@evil.example"],
    ["https://evil.example/", "https://evil.example/"],
    ["javascript:", "javascript:alert(document.cookie)"],
    ["a backslash", "/\\evil.example"],
    ["a leading backslash", "\\\\evil.example"],
    ["a tab inside", "/\t/evil.example"],
    ["an encoded newline", "/x\nLocation: https://evil.example"],
    ["a relative path", "apps"],
  ])("refuses returnTo %s with an invalid_return_to page and starts nothing", async (_name, value) => {
    const before = await count("connect_transactions");
    const res = await svc.server.inject({ method: "GET", url: `/connect/acme?returnTo=${encodeURIComponent(value)}` });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toContain("<code>invalid_return_to</code>");
    expect(res.headers.location).toBeUndefined();
    expect(await count("connect_transactions")).toBe(before);
  });

  it("refuses a repeated returnTo or session parameter", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/connect/acme?returnTo=%2Fa&returnTo=%2F%2Fevil.example" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>invalid_request</code>");
  });

  it("logs no connect session token", () => {
    const text = svc.logs.text();
    expect(sessionTokens.length).toBeGreaterThan(0);
    for (const t of sessionTokens) expect(text).not.toContain(t);
  });
});

describe.each(dialects)("the browser-binding cookie on an https PUBLIC_URL on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect, { env: { PUBLIC_URL: "https://connect.example.test" } });
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { id: "acme", name: "Acme", authorizationEndpoint: "https://login.acme.test/authorize", tokenEndpoint: "https://login.acme.test/token", clientId: "acme-client" },
    });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => svc?.close());

  it("is __Host- prefixed, Secure, HttpOnly, SameSite=Lax, Path=/ and has no Domain", async () => {
    const minted = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId: "acme", userId: "u1" } });
    const link = new URL(minted.json().url);
    expect(link.origin).toBe("https://connect.example.test");
    const res = await svc.server.inject({ method: "GET", url: link.pathname + link.search });
    expect(res.statusCode).toBe(302);
    const cookie = String(res.headers["set-cookie"]);
    expect(cookie).toMatch(/^__Host-ca_connect=[A-Za-z0-9_-]{43};/);
    for (const attr of [/; Secure/, /; HttpOnly/, /; SameSite=Lax/, /; Path=\//]) expect(cookie).toMatch(attr);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(new URL(String(res.headers.location)).searchParams.get("redirect_uri")).toBe("https://connect.example.test/oauth/callback/acme");
  });
});
