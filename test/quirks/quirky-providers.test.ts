// Issue 5 end to end: providers that bend the standard connect and refresh through the same
// code as a standard one, their differences held only in the app's quirk fields (SPEC §4:
// scopeSeparator, tokenResponsePath, defaultExpiresIn, tokenRequestFormat) or in what is always
// on (Accept: application/json, form answers by content type, `error`/`ok:false` with any
// status, digit-string expires_in). Each fake below is a loopback stand-in for a provider that
// cannot run here; its authorize endpoint redirects straight back with `code` and `state`, so
// the flow is driven without a browser: inject the connect link, fetch the fake's authorize
// URL (redirect: manual), inject the callback it points to with the browser-binding cookie.
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConnectionRecord } from "../../src/connections/connection-service.ts";
import { setRefreshSettings } from "../../src/connections/refresh-policy.ts";
import { getToken } from "../../src/connections/token.ts";
import { dialects } from "../support/databases.ts";
import { sendForm, sendJson, startFakeEndpoint, type FakeEndpoint, type RecordedRequest } from "../support/fake-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const RETURN_TO = "https://host.example/back";
const CLIENT_SECRET = "sentinel-client-secret-5f1c";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a fake's token endpoint is asked to do next. */
interface Turn {
  grant: "authorization_code" | "refresh_token";
  /** Issue number: tokens carry it so each answer's tokens are distinct. */
  n: number;
  bad: boolean;
  /** How many token requests this fake has had in the current phase (flaky fakes count). */
  attempt: number;
}

interface QuirkCase {
  id: string;
  /** The app's quirk fields (and anything else it needs); endpoints are added per fake. */
  app: Record<string, unknown>;
  token(req: RecordedRequest, res: ServerResponse, turn: Turn): void | Promise<void>;
  expect: { expiresIn: number | null; scopes: string[]; accessToken: (n: number) => string };
  /** How the refresh is forced: a read asking more validity than the lifetime, or the CLI's service function. */
  refreshBy: "minValidity" | "force";
  badConnect: string;
  badRefresh: { status: number; code: string };
}

const cases: QuirkCase[] = [
  {
    // GitHub-like: answers form-encoded unless asked for JSON with Accept; errors come as HTTP
    // 200 with an `error` member; no expires_in (tokens do not expire); commas in `scope`.
    id: "githubish",
    app: { scopes: ["read:user", "user:email"], tokenEndpointAuthMethod: "client_secret_post" },
    token: (req, res, t) => {
      const body: Record<string, string> = t.bad
        ? { error: t.grant === "authorization_code" ? "bad_verification_code" : "bad_refresh_token", error_description: "The code passed is incorrect or expired." }
        : { access_token: `gho_at_${t.n}`, refresh_token: `ghr_rt_${t.n}`, scope: "read:user,user:email", token_type: "bearer" };
      if ((req.headers.accept ?? "").includes("application/json")) sendJson(res, 200, body);
      else sendForm(res, 200, body);
    },
    expect: { expiresIn: null, scopes: ["read:user", "user:email"], accessToken: (n) => `gho_at_${n}` },
    refreshBy: "force",
    badConnect: "provider_error",
    // bad_refresh_token is GitHub's spelling of invalid_grant: the connection needs reconnecting.
    badRefresh: { status: 409, code: "needs_reconnect" },
  },
  {
    // Form-only: an endpoint that answers form-encoded whatever Accept says (GitHub's default
    // without Accept); read by its content type.
    id: "formonly",
    app: { scopes: ["repo"] },
    token: (_req, res, t) =>
      sendForm(res, 200, t.bad ? { error: "unsupported_grant_type" } : { access_token: `form_at_${t.n}`, refresh_token: `form_rt_${t.n}`, expires_in: "3600", scope: "repo", token_type: "bearer" }),
    expect: { expiresIn: 3600, scopes: ["repo"], accessToken: (n) => `form_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_error",
    badRefresh: { status: 502, code: "provider_error" },
  },
  {
    // Slack-like: user tokens nested under `authed_user` (a bot token at the top level must not
    // be taken), token_type "user", errors as `ok: false` with HTTP 200, `,`-joined scopes in
    // the authorization URL and the answer. Refresh answers are flat.
    id: "slackish",
    app: { scopes: ["users:read", "chat:write"], scopeSeparator: ",", tokenResponsePath: "authed_user" },
    token: (_req, res, t) => {
      if (t.bad) return sendJson(res, 200, { ok: false, error: "token_rotation_not_enabled" });
      const user = { access_token: `xoxp_at_${t.n}`, refresh_token: `xoxe_rt_${t.n}`, expires_in: 43200, token_type: "user", scope: "users:read,chat:write" };
      if (t.grant === "refresh_token") return sendJson(res, 200, { ok: true, ...user });
      sendJson(res, 200, { ok: true, access_token: `xoxb_bot_${t.n}`, token_type: "bot", scope: "commands", team: { id: "T1" }, authed_user: { id: "U1", ...user } });
    },
    expect: { expiresIn: 43200, scopes: ["users:read", "chat:write"], accessToken: (n) => `xoxp_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_error",
    badRefresh: { status: 502, code: "provider_error" },
  },
  {
    // Salesforce/Zendesk-like: no expires_in at all; the app's defaultExpiresIn supplies the
    // lifetime. Refresh answers carry no refresh_token (the old one stays). A bad answer lacks
    // access_token.
    id: "noexpiry",
    app: { scopes: ["api", "refresh_token"], defaultExpiresIn: 7200 },
    token: (_req, res, t) => {
      if (t.bad) return sendJson(res, 200, { instance_url: "https://na1.example", token_type: "Bearer" });
      const refresh = t.grant === "authorization_code" ? { refresh_token: `sf_rt_${t.n}` } : {};
      sendJson(res, 200, { access_token: `sf_at_${t.n}`, ...refresh, instance_url: "https://na1.example", token_type: "Bearer", issued_at: "1767225600000", scope: "api refresh_token" });
    },
    expect: { expiresIn: 7200, scopes: ["api", "refresh_token"], accessToken: (n) => `sf_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_error",
    badRefresh: { status: 502, code: "provider_error" },
  },
  {
    // expires_in as a string of digits (read as a number); a negative one is a bad answer.
    id: "stringexpiry",
    app: { scopes: ["read"] },
    token: (_req, res, t) =>
      sendJson(res, 200, { access_token: `str_at_${t.n}`, refresh_token: `str_rt_${t.n}`, token_type: "Bearer", expires_in: t.bad ? "-5" : "1800", scope: "read" }),
    expect: { expiresIn: 1800, scopes: ["read"], accessToken: (n) => `str_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_error",
    badRefresh: { status: 502, code: "provider_error" },
  },
  {
    // Notion-like: the token request body must be JSON (a form body is refused with 400), client
    // authentication by HTTP Basic; errors in Notion's own shape `{object:"error", code, message}`
    // with HTTP 400 and no OAuth `error` member; no expires_in.
    id: "notionish",
    app: { scopes: [], tokenRequestFormat: "json", tokenEndpointAuthMethod: "client_secret_basic" },
    token: (req, res, t) => {
      const json = (req.headers["content-type"] ?? "").startsWith("application/json") && req.body.trim().startsWith("{");
      if (!json || !req.headers.authorization?.startsWith("Basic ")) return sendJson(res, 400, { error: "invalid_request", error_description: "body must be JSON" });
      if (t.bad) return sendJson(res, 400, { object: "error", status: 400, code: "invalid_grant", message: "Invalid code." });
      sendJson(res, 200, { access_token: `secret_at_${t.n}`, refresh_token: `nrt_${t.n}`, token_type: "bearer", bot_id: "b1", workspace_id: "w1", owner: { type: "user" } });
    },
    expect: { expiresIn: null, scopes: [], accessToken: (n) => `secret_at_${n}` },
    refreshBy: "force",
    badConnect: "provider_error",
    badRefresh: { status: 502, code: "provider_error" },
  },
  {
    // Flaky: the first token request of each phase answers 503 with Retry-After: 1, later ones
    // succeed. Bad: 503 every time with Retry-After: 120.
    id: "flaky",
    app: { scopes: ["read"] },
    token: (_req, res, t) => {
      if (t.bad) return sendJson(res, 503, { error: "temporarily_unavailable" }, { "retry-after": "120" });
      if (t.attempt === 1) return sendJson(res, 503, { message: "busy" }, { "retry-after": "1" });
      sendJson(res, 200, { access_token: `flk_at_${t.n}`, refresh_token: `flk_rt_${t.n}`, token_type: "Bearer", expires_in: 3600 });
    },
    expect: { expiresIn: 3600, scopes: ["read"], accessToken: (n) => `flk_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_unavailable",
    badRefresh: { status: 503, code: "provider_unavailable" },
  },
  {
    // Slow: answers after 300 ms when good, after 4 s when bad; the service's provider timeout
    // is set to 1.5 s for this app's tests, so a bad one is cut off, not waited for.
    id: "slow",
    app: { scopes: ["read"] },
    token: async (_req, res, t) => {
      await sleep(t.bad ? 4000 : 300);
      if (!res.destroyed) sendJson(res, 200, { access_token: `slow_at_${t.n}`, refresh_token: `slow_rt_${t.n}`, token_type: "Bearer", expires_in: 3600 });
    },
    expect: { expiresIn: 3600, scopes: ["read"], accessToken: (n) => `slow_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_unavailable",
    badRefresh: { status: 503, code: "provider_unavailable" },
  },
  {
    // HTML with status 200 (a login or maintenance page where the token endpoint should be).
    id: "htmlpage",
    app: { scopes: ["read"] },
    token: (_req, res, t) => {
      if (!t.bad) return sendJson(res, 200, { access_token: `html_at_${t.n}`, refresh_token: `html_rt_${t.n}`, token_type: "Bearer", expires_in: 600 });
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><html><body><h1>Sign in</h1></body></html>");
    },
    expect: { expiresIn: 600, scopes: ["read"], accessToken: (n) => `html_at_${n}` },
    refreshBy: "minValidity",
    badConnect: "provider_error",
    badRefresh: { status: 502, code: "provider_error" },
  },
];

/** A loopback provider for one case: /authorize redirects straight back; /token is the case's. */
class QuirkyProvider {
  bad = false;
  issued = 0;
  attempts = 0;
  private phase = "";
  readonly tokenRequests: RecordedRequest[] = [];
  readonly authorizeUrls: URL[] = [];
  endpoint!: FakeEndpoint;

  constructor(readonly quirk: QuirkCase) {}

  async start(): Promise<this> {
    this.endpoint = await startFakeEndpoint(async (req, res) => {
      const url = new URL(req.path, "http://127.0.0.1");
      if (url.pathname === "/authorize") {
        this.authorizeUrls.push(url);
        const back = new URL(url.searchParams.get("redirect_uri")!);
        back.searchParams.set("code", `code-${this.quirk.id}-${this.authorizeUrls.length}`);
        back.searchParams.set("state", url.searchParams.get("state")!);
        res.writeHead(302, { location: back.toString() });
        return void res.end();
      }
      this.tokenRequests.push(req);
      const grant = req.params.grant_type === "refresh_token" ? "refresh_token" : "authorization_code";
      const phase = `${grant}/${this.bad}`;
      if (phase !== this.phase) [this.phase, this.attempts] = [phase, 0];
      this.attempts++;
      await this.quirk.token(req, res, { grant, n: ++this.issued, bad: this.bad, attempt: this.attempts });
    });
    return this;
  }

  /** Start a new phase: the next token request is the first of its kind again. */
  reset(bad: boolean) {
    this.bad = bad;
    this.phase = "";
  }

  appBody() {
    return {
      id: this.quirk.id,
      name: this.quirk.id,
      authorizationEndpoint: `${this.endpoint.url}/authorize`,
      tokenEndpoint: `${this.endpoint.url}/token`,
      clientId: `client-${this.quirk.id}`,
      clientSecret: CLIENT_SECRET,
      pkce: "S256",
      ...this.quirk.app,
    };
  }
}

describe.each(dialects)("providers that bend the standard on %s", (dialect) => {
  let svc: TestService;
  const providers = new Map<string, QuirkyProvider>();
  let users = 0;

  beforeAll(async () => {
    svc = await startTestService(dialect);
    setRefreshSettings(svc.ctx, { cooldownMs: 50, backoffBaseMs: 20, retryBudgetMs: 3000, readWaitMs: 8000 });
    for (const quirk of cases) {
      const provider = await new QuirkyProvider(quirk).start();
      providers.set(quirk.id, provider);
      const res = await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: provider.appBody() });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await svc?.close();
    for (const p of providers.values()) await p.endpoint.close();
  });

  /** The whole connect flow for a new user; answers the callback's response. */
  async function connect(appId: string) {
    const userId = `user-${++users}`;
    const minted = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId, userId, returnTo: RETURN_TO } });
    expect(minted.statusCode, minted.body).toBe(201);
    const link = new URL(minted.json().url);
    const opened = await svc.server.inject({ method: "GET", url: link.pathname + link.search });
    expect(opened.statusCode, opened.body).toBe(302);
    const cookie = String(opened.headers["set-cookie"]).split(";")[0]!;
    const authorize = await fetch(String(opened.headers.location), { redirect: "manual" });
    expect(authorize.status).toBe(302);
    const back = new URL(authorize.headers.get("location")!);
    const callback = await svc.server.inject({ method: "GET", url: back.pathname + back.search, headers: { cookie } });
    expect(callback.statusCode, callback.body).toBe(302);
    const location = new URL(String(callback.headers.location));
    return { userId, location, authorizationUrl: new URL(String(opened.headers.location)) };
  }

  const readToken = (appId: string, userId: string, minValidity = 0) =>
    svc.server.inject({ method: "GET", url: `/api/v1/apps/${appId}/connections/${userId}/token?minValidity=${minValidity}`, headers: svc.headers });
  const row = (appId: string, userId: string) =>
    svc.ctx.db.selectFrom("connections").selectAll().where("app_id", "=", appId).where("user_id", "=", userId).executeTakeFirst();

  async function refresh(quirk: QuirkCase, userId: string) {
    if (quirk.refreshBy === "minValidity") return readToken(quirk.id, userId, (quirk.expect.expiresIn ?? 0) + 3600);
    const rec = await getConnectionRecord(svc.ctx, quirk.id, userId);
    try {
      const token = await getToken(svc.ctx, quirk.id, userId, 0, { forceUnlessVersionAfter: rec.version });
      return { statusCode: 200, json: () => token, headers: {} as Record<string, unknown>, body: "" };
    } catch (err) {
      const e = err as { code: string; status?: number; retryAfter?: number };
      const status = { needs_reconnect: 409, provider_error: 502, provider_unavailable: 503 }[e.code] ?? 500;
      return { statusCode: status, json: () => ({ code: e.code }), headers: { "retry-after": e.retryAfter }, body: String(err) };
    }
  }

  describe.each(cases)("$id", (quirk) => {
    const p = () => providers.get(quirk.id)!;
    let connected: string;
    const withSlowTimeout = async <T>(run: () => Promise<T>): Promise<T> => {
      // The service's bound on one provider call, shortened for the slow fake only.
      const ctx = svc.ctx as unknown as { providerTimeoutMs?: number };
      if (quirk.id === "slow") ctx.providerTimeoutMs = 1500;
      try {
        return await run();
      } finally {
        delete ctx.providerTimeoutMs;
      }
    };

    it("connects through the flow, and the token read via the API is the one the quirk describes", async () => {
      p().reset(false);
      const before = Date.now();
      const { userId, location, authorizationUrl } = await withSlowTimeout(() => connect(quirk.id));
      if (quirk.id === "flaky") {
        // The first exchange met the 503: nothing stored, the user is told to try again; the next flow connects.
        expect(location.searchParams.get("error")).toBe("provider_unavailable");
        expect(await row(quirk.id, userId)).toBeUndefined();
        const again = await connect(quirk.id);
        return void (connected = await expectConnected(again, before));
      }
      connected = await expectConnected({ userId, location, authorizationUrl }, before);
    }, 20_000);

    async function expectConnected(c: { userId: string; location: URL; authorizationUrl: URL }, before: number): Promise<string> {
      expect(c.location.searchParams.get("error")).toBeNull();
      expect(c.location.searchParams.get("connected")).toBe(quirk.id);
      const scope = c.authorizationUrl.searchParams.get("scope");
      const separator = (quirk.app.scopeSeparator as string | undefined) ?? " ";
      expect(scope ?? "").toBe(quirk.expect.scopes.join(separator));
      const res = await readToken(quirk.id, c.userId);
      expect(res.statusCode, res.body).toBe(200);
      const token = res.json();
      expect(token.accessToken).toBe(quirk.expect.accessToken(p().issued));
      expect(token.tokenType).toBe("Bearer");
      expect(token.scopes).toEqual(quirk.expect.scopes);
      if (quirk.expect.expiresIn === null) expect(token.expiresAt).toBeNull();
      else {
        const lifetime = (Date.parse(token.expiresAt) - before) / 1000;
        expect(lifetime).toBeGreaterThanOrEqual(quirk.expect.expiresIn - 1);
        expect(lifetime).toBeLessThanOrEqual(quirk.expect.expiresIn + 30);
      }
      // Always on: Accept: application/json on every token request.
      expect(p().tokenRequests.at(-1)!.headers.accept).toMatch(/application\/json/);
      return c.userId;
    }

    it("refreshes when forced, sending the stored refresh token, and answers the new token", async () => {
      p().reset(false);
      const sentBefore = p().tokenRequests.length;
      const res = await withSlowTimeout(() => refresh(quirk, connected));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().accessToken).toBe(quirk.expect.accessToken(p().issued));
      const refreshes = p().tokenRequests.slice(sentBefore);
      expect(refreshes.every((r) => r.params.grant_type === "refresh_token")).toBe(true);
      expect(refreshes.length).toBe(quirk.id === "flaky" ? 2 : 1);
      expect(refreshes[0]!.params.refresh_token).toMatch(/_rt_\d+$|^nrt_\d+$/);
      if (quirk.app.tokenRequestFormat === "json") {
        expect(refreshes[0]!.headers["content-type"]).toMatch(/^application\/json/);
        expect(JSON.parse(refreshes[0]!.body)).toMatchObject({ grant_type: "refresh_token" });
      }
      // A second forced refresh still has a refresh token (kept when the answer had none).
      const again = await withSlowTimeout(() => refresh(quirk, connected));
      expect(again.statusCode, again.body).toBe(200);
      expect(p().tokenRequests.at(-1)!.params.refresh_token).toBeTruthy();
    }, 20_000);

    it(`a bad token answer at connect sends error=${quirk.badConnect} to returnTo and stores no connection`, async () => {
      p().reset(true);
      const { userId, location } = await withSlowTimeout(() => connect(quirk.id));
      expect(location.origin + location.pathname).toBe(RETURN_TO);
      expect(location.searchParams.get("error")).toBe(quirk.badConnect);
      expect(location.searchParams.get("connected")).toBeNull();
      expect(await row(quirk.id, userId)).toBeUndefined();
      const events = await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", userId).execute();
      expect(events).toEqual([]);
    }, 20_000);

    it(`a bad token answer at refresh answers ${quirk.badRefresh.status} ${quirk.badRefresh.code} and keeps the stored tokens`, async () => {
      p().reset(false);
      const c = await withSlowTimeout(() => connect(quirk.id));
      // The flaky fake fails the first exchange of a phase; the second flow connects.
      const userId = quirk.id === "flaky" ? (await connect(quirk.id)).userId : c.userId;
      const stored = await row(quirk.id, userId);
      expect(stored).toBeDefined();
      p().reset(true);
      const res = await withSlowTimeout(() => refresh(quirk, userId));
      expect(res.statusCode, res.body).toBe(quirk.badRefresh.status);
      expect(res.json().code).toBe(quirk.badRefresh.code);
      if (quirk.badRefresh.code === "provider_unavailable") expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
      // The provider's own Retry-After reaches the caller when it is longer than our cooldown.
      if (quirk.id === "flaky") expect(res.headers["retry-after"]).toBe("120");
      const after = (await row(quirk.id, userId))!;
      expect(after.access_token).toBe(stored!.access_token);
      expect(after.refresh_token).toBe(stored!.refresh_token);
      expect(after.expires_at).toBe(stored!.expires_at);
      expect(after.status).toBe(quirk.badRefresh.code === "needs_reconnect" ? "needs_reconnect" : "active");
      p().reset(false);
    }, 30_000);
  });

  it("the Slack-like authorization URL joins scopes with commas; the Notion-like token requests were JSON with Basic auth", () => {
    const slack = providers.get("slackish")!.authorizeUrls[0]!;
    expect(slack.searchParams.get("scope")).toBe("users:read,chat:write");
    const notion = providers.get("notionish")!.tokenRequests.find((r) => r.params.grant_type === "authorization_code")!;
    expect(notion.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(notion.body)).toMatchObject({ grant_type: "authorization_code", code: expect.stringMatching(/^code-notionish-/) });
    expect(notion.headers.authorization).toMatch(/^Basic /);
  });

  it("no issued token or client secret is in the database or the connections API in the clear", async () => {
    const rows = JSON.stringify([
      ...(await svc.ctx.db.selectFrom("connections").selectAll().execute()),
      ...(await svc.ctx.db.selectFrom("apps").selectAll().execute()),
    ]);
    expect(rows).not.toContain(CLIENT_SECRET);
    for (const quirk of cases) {
      const listed = await svc.server.inject({ method: "GET", url: `/api/v1/apps/${quirk.id}/connections`, headers: svc.headers });
      expect(listed.statusCode).toBe(200);
      expect(listed.json().items.length).toBeGreaterThan(0);
      for (let n = 1; n <= providers.get(quirk.id)!.issued; n++) {
        expect(rows).not.toContain(quirk.expect.accessToken(n));
        expect(listed.body).not.toContain(quirk.expect.accessToken(n));
      }
      for (const r of providers.get(quirk.id)!.tokenRequests) if (r.params.refresh_token) expect(rows + listed.body).not.toContain(r.params.refresh_token);
    }
  });

  it("no issued token, authorization code or client secret appears in any log line", () => {
    const logs = svc.logs.text();
    expect(logs).not.toContain(CLIENT_SECRET);
    for (const quirk of cases) {
      for (let n = 1; n <= providers.get(quirk.id)!.issued; n++) expect(logs).not.toContain(quirk.expect.accessToken(n));
      for (const r of providers.get(quirk.id)!.tokenRequests) {
        if (r.params.refresh_token) expect(logs).not.toContain(r.params.refresh_token);
        if (r.params.code) expect(logs).not.toContain(r.params.code);
      }
    }
  });
});
