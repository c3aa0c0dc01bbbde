// The callback's checks one attack at a time, through server.inject() against a hand-made OIDC
// provider (no browser needed): each bad callback gets its exact error and stores nothing.
// The whole flow through Chromium and oidc-provider is connect-flow.browser.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { FakeOidcProvider } from "./fake-oidc-provider.ts";

const RETURN_TO = "https://host.example/settings?tab=apps";

describe.each(dialects)("connect callback checks on %s", (dialect) => {
  let svc: TestService;
  let provider: FakeOidcProvider;
  let offsetMs = 0;
  let users = 0;
  const sentinels: string[] = [];

  beforeAll(async () => {
    provider = await FakeOidcProvider.start();
    svc = await startTestService(dialect, { clock: { now: () => Date.now() + offsetMs } });
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: provider.appBody("acme", "Acme <Mail>"),
    });
    expect(res.statusCode, res.body).toBe(201);
    // What discovery of this provider records (RFC 9207 §3 and RFC 8414 metadata), set directly
    // so this suite does not depend on the discovery code.
    await svc.ctx.db.updateTable("apps").set({ iss_parameter_supported: 1, code_challenge_methods: JSON.stringify(["S256"]) }).where("id", "=", "acme").execute();
    sentinels.push(provider.clientSecret);
  });
  afterAll(async () => {
    await svc?.close();
    await provider?.close();
  });

  interface Started {
    userId: string;
    state: string;
    nonce: string;
    /** `name=value` of the browser-binding cookie. */
    cookie: string;
    authorizationUrl: URL;
  }

  /** Mints a connect session for a new user and opens it, as the user's browser would. */
  async function start(opts: { returnTo?: string | null; cookie?: string; userId?: string } = {}): Promise<Started> {
    const userId = opts.userId ?? `user-${++users}`;
    const returnTo = opts.returnTo === undefined ? RETURN_TO : opts.returnTo;
    const minted = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId: "acme", userId, ...(returnTo ? { returnTo } : {}) } });
    expect(minted.statusCode, minted.body).toBe(201);
    const link = new URL(minted.json().url);
    sentinels.push(link.searchParams.get("session")!);
    const opened = await svc.server.inject({ method: "GET", url: link.pathname + link.search, headers: opts.cookie ? { cookie: opts.cookie } : {} });
    expect(opened.statusCode, opened.body).toBe(302);
    const authorizationUrl = new URL(opened.headers.location as string);
    const setCookie = String(opened.headers["set-cookie"]);
    const state = authorizationUrl.searchParams.get("state")!;
    sentinels.push(state);
    return { userId, state, nonce: authorizationUrl.searchParams.get("nonce")!, cookie: setCookie.split(";")[0]!, authorizationUrl };
  }

  const callback = (query: string, cookie?: string) =>
    svc.server.inject({ method: "GET", url: `/oauth/callback/acme?${query}`, headers: cookie ? { cookie } : {} });

  const goodQuery = (s: Started, code = provider.newCode()) => {
    sentinels.push(code);
    return new URLSearchParams({ code, state: s.state, iss: provider.issuer }).toString();
  };

  const connectionOf = (userId: string) => svc.ctx.db.selectFrom("connections").selectAll().where("user_id", "=", userId).executeTakeFirst();
  const eventsOf = async (userId: string) => (await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", userId).execute()).map((e) => e.type);
  const consumed = async (s: Started) =>
    (await svc.ctx.db.selectFrom("connect_transactions").select("consumed_at").where("user_id", "=", s.userId).executeTakeFirstOrThrow()).consumed_at !== null;

  async function expectNothingStored(s: Started) {
    expect(await connectionOf(s.userId)).toBeUndefined();
    expect(await eventsOf(s.userId)).toEqual([]);
  }
  const errorIn = (location: unknown) => new URL(String(location)).searchParams.get("error");

  it("starts with state, PKCE S256, a nonce and an HttpOnly SameSite=Lax binding cookie (plain on http)", async () => {
    const s = await start();
    const q = s.authorizationUrl.searchParams;
    expect(s.authorizationUrl.origin + s.authorizationUrl.pathname).toBe(`${provider.url}/authorize`);
    expect(q.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("code_challenge_method")).toBe("S256");
    expect(q.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get("nonce")).toBeTruthy();
    expect(q.get("redirect_uri")).toBe(`${svc.config.publicUrl}/oauth/callback/acme`);
    expect(s.cookie).toMatch(/^ca_connect=[A-Za-z0-9_-]{43}$/);
    const opened = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId: "acme", userId: "cookie-check" } });
    const link = new URL(opened.json().url);
    const res = await svc.server.inject({ method: "GET", url: link.pathname + link.search });
    const cookie = String(res.headers["set-cookie"]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    // Stored hashed: neither the state nor the verifier is in the row in the clear.
    const row = await svc.ctx.db.selectFrom("connect_transactions").selectAll().where("user_id", "=", s.userId).executeTakeFirstOrThrow();
    expect(row.state_hash).not.toBe(s.state);
    expect(row.code_verifier).toMatch(/^v1\./);
    expect(row.expires_at - row.created_at).toBe(10 * 60 * 1000);
  });

  it("connects on a good callback: 302 to returnTo with connected=acme, tokens sealed, event recorded", async () => {
    const s = await start();
    provider.idToken = { nonce: s.nonce };
    const res = await callback(goodQuery(s), s.cookie);
    expect(res.statusCode, res.body).toBe(302);
    expect(res.headers.location).toBe(`${RETURN_TO}&connected=acme`);
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["cache-control"]).toBe("no-store");
    const row = (await connectionOf(s.userId))!;
    expect(row.account_sub).toBe("acct-42");
    expect(row.account_email).toBe("alice@acme.test");
    expect(row.access_token).toMatch(/^v1\./);
    for (const t of provider.issued) expect(JSON.stringify(row)).not.toContain(t);
    expect(await eventsOf(s.userId)).toEqual(["connection.created"]);
  });

  it("without returnTo, answers a page naming the provider account (escaped)", async () => {
    const s = await start({ returnTo: null });
    provider.idToken = { nonce: s.nonce, email: "<b>bob</b>@acme.test" };
    const res = await callback(goodQuery(s), s.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toContain("Connected to Acme &#60;Mail&#62;");
    expect(res.body).toContain("&#60;b&#62;bob&#60;/b&#62;@acme.test");
    expect(res.body).not.toContain("<b>bob");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
  });

  it("takes the account from userinfo for an app without openid (no ID token)", async () => {
    const created = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: {
        id: "plain",
        name: "Plain",
        authorizationEndpoint: `${provider.url}/authorize`,
        tokenEndpoint: `${provider.url}/token`,
        userinfoEndpoint: `${provider.url}/userinfo`,
        clientId: provider.clientId,
        clientSecret: provider.clientSecret,
        scopes: ["email"],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const minted = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId: "plain", userId: "plain-user" } });
    const link = new URL(minted.json().url);
    const opened = await svc.server.inject({ method: "GET", url: link.pathname + link.search });
    const authorizationUrl = new URL(String(opened.headers.location));
    expect(authorizationUrl.searchParams.has("nonce")).toBe(false);
    provider.idToken = null;
    const code = provider.newCode();
    sentinels.push(code, link.searchParams.get("session")!, authorizationUrl.searchParams.get("state")!);
    const res = await svc.server.inject({
      method: "GET",
      url: `/oauth/callback/plain?${new URLSearchParams({ code, state: authorizationUrl.searchParams.get("state")! })}`,
      headers: { cookie: String(opened.headers["set-cookie"]).split(";")[0]! },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain("userinfo@acme.test");
    const row = await svc.ctx.db.selectFrom("connections").selectAll().where("app_id", "=", "plain").executeTakeFirstOrThrow();
    expect(row.account_sub).toBe("userinfo-sub");
  });

  it("refuses an answer without an ID token when openid was requested, and stores nothing", async () => {
    const s = await start();
    provider.idToken = null;
    const res = await callback(goodQuery(s), s.cookie);
    expect(res.statusCode).toBe(302);
    // OIDC Core §3.1.3.3: an answer to an openid request carries an ID token; without one it is unusable.
    expect(errorIn(res.headers.location)).toBe("provider_error");
    await expectNothingStored(s);
  });

  it("two flows started in one browser (two tabs) share its binding cookie and both finish", async () => {
    const first = await start();
    const second = await start({ cookie: first.cookie });
    expect(second.cookie).toBe(first.cookie);
    provider.idToken = { nonce: first.nonce };
    expect((await callback(goodQuery(first), first.cookie)).headers.location).toContain("connected=acme");
    provider.idToken = { nonce: second.nonce };
    expect((await callback(goodQuery(second), first.cookie)).headers.location).toContain("connected=acme");
  });

  it("reconnecting the same user replaces the tokens of the one connection", async () => {
    const first = await start();
    provider.idToken = { nonce: first.nonce };
    await callback(goodQuery(first), first.cookie);
    const before = (await connectionOf(first.userId))!;
    const again = await start({ userId: first.userId });
    provider.idToken = { nonce: again.nonce, name: "Alice Renamed" };
    expect((await callback(goodQuery(again), again.cookie)).headers.location).toContain("connected=acme");
    const rows = await svc.ctx.db.selectFrom("connections").selectAll().where("user_id", "=", first.userId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(before.id);
    expect(rows[0]!.access_token).not.toBe(before.access_token);
    expect(rows[0]!.account_name).toBe("Alice Renamed");
  });

  it("refuses a callback with no state: invalid_state, nothing stored", async () => {
    const s = await start();
    const res = await callback(new URLSearchParams({ code: provider.newCode(), iss: provider.issuer }).toString(), s.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>invalid_state</code>");
    expect(res.headers["cache-control"]).toBe("no-store");
    await expectNothingStored(s);
  });

  it("refuses an unknown state: invalid_state, nothing stored", async () => {
    const s = await start();
    const res = await callback(new URLSearchParams({ code: provider.newCode(), state: "x".repeat(43), iss: provider.issuer }).toString(), s.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>invalid_state</code>");
    await expectNothingStored(s);
    expect(await consumed(s)).toBe(false);
  });

  it("refuses an expired state (after 10 minutes): error=invalid_state, no exchange, nothing stored", async () => {
    const s = await start();
    const before = provider.exchanges;
    offsetMs = 10 * 60 * 1000 + 1;
    try {
      const res = await callback(goodQuery(s), s.cookie);
      expect(res.statusCode).toBe(302);
      expect(errorIn(res.headers.location)).toBe("invalid_state");
    } finally {
      offsetMs = 0;
    }
    expect(provider.exchanges).toBe(before);
    await expectNothingStored(s);
  });

  it("refuses a replayed state: error=invalid_state, the code is not exchanged again", async () => {
    const s = await start();
    provider.idToken = { nonce: s.nonce };
    const query = goodQuery(s);
    expect((await callback(query, s.cookie)).headers.location).toContain("connected=acme");
    const before = provider.exchanges;
    const replay = await callback(query, s.cookie);
    expect(replay.statusCode).toBe(302);
    expect(errorIn(replay.headers.location)).toBe("invalid_state");
    expect(provider.exchanges).toBe(before);
    expect(await eventsOf(s.userId)).toEqual(["connection.created"]);
  });

  it("refuses the callback in another browser (no binding cookie): browser_mismatch page, state left unused", async () => {
    const s = await start();
    const res = await callback(goodQuery(s));
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>browser_mismatch</code>");
    expect(res.headers.location).toBeUndefined();
    await expectNothingStored(s);
    expect(await consumed(s)).toBe(false);
  });

  it("refuses the callback with another browser's binding cookie: browser_mismatch", async () => {
    const s = await start();
    const other = await start();
    const res = await callback(goodQuery(s), other.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>browser_mismatch</code>");
    await expectNothingStored(s);
  });

  it("refuses a state started for another app: invalid_state", async () => {
    const created = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { id: "other", name: "Other", authorizationEndpoint: `${provider.url}/authorize`, tokenEndpoint: `${provider.url}/token`, clientId: "other" },
    });
    expect(created.statusCode).toBe(201);
    const s = await start();
    const res = await svc.server.inject({ method: "GET", url: `/oauth/callback/other?${goodQuery(s)}`, headers: { cookie: s.cookie } });
    expect(res.statusCode).toBe(302);
    expect(errorIn(res.headers.location)).toBe("invalid_state");
    await expectNothingStored(s);
  });

  it("refuses a wrong iss (RFC 9207 mix-up): error=invalid_issuer, no exchange, nothing stored", async () => {
    const s = await start();
    const before = provider.exchanges;
    const res = await callback(new URLSearchParams({ code: provider.newCode(), state: s.state, iss: "https://evil.example" }).toString(), s.cookie);
    expect(res.statusCode).toBe(302);
    expect(errorIn(res.headers.location)).toBe("invalid_issuer");
    expect(provider.exchanges).toBe(before);
    await expectNothingStored(s);
  });

  it("refuses a missing iss when the provider advertises it: error=invalid_issuer", async () => {
    const s = await start();
    const res = await callback(new URLSearchParams({ code: provider.newCode(), state: s.state }).toString(), s.cookie);
    expect(errorIn(res.headers.location)).toBe("invalid_issuer");
    await expectNothingStored(s);
  });

  it("refuses an issuer that differs only by a trailing slash (plain string comparison)", async () => {
    const s = await start();
    const res = await callback(new URLSearchParams({ code: provider.newCode(), state: s.state, iss: `${provider.issuer}/` }).toString(), s.cookie);
    expect(errorIn(res.headers.location)).toBe("invalid_issuer");
    await expectNothingStored(s);
  });

  it("refuses a forged ID token (signed by a key not in the JWKS): error=invalid_id_token, nothing stored", async () => {
    const s = await start();
    provider.idToken = { nonce: s.nonce, forged: true };
    const res = await callback(goodQuery(s), s.cookie);
    expect(res.statusCode).toBe(302);
    expect(errorIn(res.headers.location)).toBe("invalid_id_token");
    await expectNothingStored(s);
  });

  it("refuses an ID token with another nonce: error=invalid_id_token, nothing stored", async () => {
    const s = await start();
    provider.idToken = { nonce: "some-other-flows-nonce" };
    const res = await callback(goodQuery(s), s.cookie);
    expect(res.statusCode).toBe(302);
    expect(errorIn(res.headers.location)).toBe("invalid_id_token");
    await expectNothingStored(s);
  });

  it.each([
    ["state", (s: Started) => `code=c1&state=${s.state}&state=${"y".repeat(43)}&iss=${encodeURIComponent(provider.issuer)}`],
    ["code", (s: Started) => `code=c1&code=c2&state=${s.state}&iss=${encodeURIComponent(provider.issuer)}`],
    ["iss", (s: Started) => `code=c1&state=${s.state}&iss=${encodeURIComponent(provider.issuer)}&iss=${encodeURIComponent("https://evil.example")}`],
  ])("refuses a duplicate %s parameter: invalid_request page, state left unused, nothing stored", async (name, query) => {
    const s = await start();
    const res = await callback(query(s), s.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("<code>invalid_request</code>");
    expect(res.body).toContain(`&#34;${name}&#34; appears more than once`);
    await expectNothingStored(s);
    expect(await consumed(s)).toBe(false);
  });

  it("passes the provider's access_denied to returnTo and stores nothing", async () => {
    const s = await start();
    const before = provider.exchanges;
    const res = await callback(new URLSearchParams({ error: "access_denied", state: s.state, iss: provider.issuer }).toString(), s.cookie);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`${RETURN_TO}&error=access_denied`);
    expect(provider.exchanges).toBe(before);
    await expectNothingStored(s);
  });

  it("shows a provider error and its description escaped when there is no returnTo", async () => {
    const s = await start({ returnTo: null });
    const res = await callback(new URLSearchParams({ error: "invalid_scope", error_description: "<script>alert(1)</script>", state: s.state, iss: provider.issuer }).toString(), s.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain("invalid_scope");
    expect(res.body).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(res.body).not.toContain("<script>");
    await expectNothingStored(s);
  });

  it("shows the exact Redirect URI to register when the provider says the redirect URI is wrong", async () => {
    const s = await start({ returnTo: null });
    const res = await callback(new URLSearchParams({ error: "invalid_request", error_description: "redirect_uri did not match any of the client's registered redirect_uris", state: s.state, iss: provider.issuer }).toString(), s.cookie);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain(`${svc.config.publicUrl}/oauth/callback/acme`);
    await expectNothingStored(s);
  });

  it("exchanges once when two callbacks with one state arrive together: one connects, the other gets invalid_state", async () => {
    const s = await start();
    provider.idToken = { nonce: s.nonce };
    provider.delayMs = 200;
    const before = provider.exchanges;
    const query = goodQuery(s);
    try {
      const results = await Promise.all([callback(query, s.cookie), callback(query, s.cookie)]);
      const outcomes = results.map((r) => new URL(String(r.headers.location)).search).sort();
      expect(outcomes).toEqual(["?tab=apps&connected=acme", "?tab=apps&error=invalid_state"]);
    } finally {
      provider.delayMs = 0;
    }
    expect(provider.exchanges - before).toBe(1);
    expect(await eventsOf(s.userId)).toEqual(["connection.created"]);
  });

  it("a refused code at the token endpoint gives error=provider_error and stores nothing", async () => {
    const s = await start();
    const res = await callback(new URLSearchParams({ code: "sentinel-code-never-issued", state: s.state, iss: provider.issuer }).toString(), s.cookie);
    expect(res.statusCode).toBe(302);
    expect(errorIn(res.headers.location)).toBe("provider_error");
    await expectNothingStored(s);
  });

  it("a callback for an unknown app answers a 404 page, not a problem document or a 500", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/oauth/callback/nope?code=a&state=b" });
    expect(res.statusCode).toBe(404);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toContain("<code>not_found</code>");
  });

  it("logs no token, code, state, session token or client secret", () => {
    const text = svc.logs.text();
    expect(sentinels.length).toBeGreaterThan(10);
    for (const s of [...sentinels, ...provider.issued]) expect(text).not.toContain(s);
  });
});
