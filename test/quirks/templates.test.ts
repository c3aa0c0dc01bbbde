// Issue 5's template checks, end to end: each of the 13 built-in templates becomes an app
// through `POST /api/v1/apps {template, templateParams, ...}`; the connect flow builds its
// authorization URL (checked as the provider's browser would receive it, never fetched); the
// callback then exchanges a code at a loopback fake standing in for the provider's token
// endpoint, which answers in the shape the provider documents (values made up), signing an ID
// token with its own key when the template asks for `openid`. The token read via the API, the
// stored refresh token and a forced refresh check what the one token-answer reader made of it.
// Only the token, userinfo, revocation and JWKS endpoints and the issuer are overridden: the
// authorization endpoint stays the template's, so the tenant/realm/subdomain show in the URL.
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyTemplate, listTemplates } from "../../src/apps/templates/index.ts";
import { getConnectionRecord } from "../../src/connections/connection-service.ts";
import { getToken } from "../../src/connections/token.ts";
import { dialects } from "../support/databases.ts";
import { sendForm, sendJson, startFakeEndpoint, type FakeEndpoint } from "../support/fake-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const CLIENT_SECRET = "sentinel-template-secret-93be";

interface TemplateCase {
  params?: Record<string, string>;
  /** Where the authorization URL must point (origin + path) and what it must carry beyond the basics. */
  authorize: { endpoint: string; params: Record<string, string | null> };
  /** The documented answer shape; served as JSON unless `form`. `id_token: true` asks for a signed one. */
  answer: Record<string, unknown>;
  form?: boolean;
  expected: { accessToken: string; refreshToken: string | null; expiresIn: number | null; scopes: string[] };
}

const cases: Record<string, TemplateCase> = {
  google: {
    authorize: { endpoint: "https://accounts.google.com/o/oauth2/v2/auth", params: { scope: "openid email profile", access_type: "offline", prompt: "consent" } },
    answer: { access_token: "ya29.a0AfH6SM", expires_in: 3599, refresh_token: "1//0gLh", scope: "openid https://www.googleapis.com/auth/userinfo.email", token_type: "Bearer", id_token: true },
    expected: { accessToken: "ya29.a0AfH6SM", refreshToken: "1//0gLh", expiresIn: 3599, scopes: ["openid", "https://www.googleapis.com/auth/userinfo.email"] },
  },
  microsoft: {
    params: { tenant: "contoso.onmicrosoft.com" },
    authorize: { endpoint: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize", params: { scope: "openid email profile offline_access User.Read" } },
    answer: { token_type: "Bearer", scope: "openid email profile offline_access User.Read", expires_in: 4742, ext_expires_in: 4742, access_token: "eyJ0eXAi.ms", refresh_token: "0.AQkA", id_token: true },
    expected: { accessToken: "eyJ0eXAi.ms", refreshToken: "0.AQkA", expiresIn: 4742, scopes: ["openid", "email", "profile", "offline_access", "User.Read"] },
  },
  github: {
    authorize: { endpoint: "https://github.com/login/oauth/authorize", params: { scope: "read:user user:email" } },
    form: true,
    answer: { access_token: "gho_16C7e42F292c6912E7710c838347Ae178B4a", scope: "read:user,user:email", token_type: "bearer" },
    expected: { accessToken: "gho_16C7e42F292c6912E7710c838347Ae178B4a", refreshToken: null, expiresIn: null, scopes: ["read:user", "user:email"] },
  },
  slack: {
    // No bot scopes: `scope` is absent, the user scopes travel in user_scope, comma-joined.
    authorize: { endpoint: "https://slack.com/oauth/v2/authorize", params: { scope: null, user_scope: "users:read,users:read.email" } },
    answer: {
      ok: true,
      app_id: "A0KRD7HC3",
      authed_user: { id: "U1234", scope: "users:read,users:read.email", access_token: "xoxp-1234", token_type: "user" },
      scope: "",
      token_type: "bot",
      access_token: "xoxb-17653672481",
      team: { name: "Slack Softball Team", id: "T9TK3CUKW" },
    },
    expected: { accessToken: "xoxp-1234", refreshToken: null, expiresIn: null, scopes: ["users:read", "users:read.email"] },
  },
  salesforce: {
    params: { domain: "acme.my.salesforce.com" },
    authorize: { endpoint: "https://acme.my.salesforce.com/services/oauth2/authorize", params: { scope: "api refresh_token openid" } },
    answer: {
      access_token: "00Dxx0000001gPL!AR8AQJXg",
      refresh_token: "5Aep861TSESvWeug",
      signature: "CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=",
      scope: "refresh_token openid api",
      id_token: true,
      instance_url: "https://yourInstance.salesforce.com",
      token_type: "Bearer",
      issued_at: "1278448832702",
    },
    // No expires_in: the template's defaultExpiresIn (7200).
    expected: { accessToken: "00Dxx0000001gPL!AR8AQJXg", refreshToken: "5Aep861TSESvWeug", expiresIn: 7200, scopes: ["refresh_token", "openid", "api"] },
  },
  notion: {
    authorize: { endpoint: "https://api.notion.com/v1/oauth/authorize", params: { scope: null, owner: "user" } },
    answer: { access_token: "secret_e_AbCdEf", token_type: "bearer", refresh_token: "nrt_4991090011501Ejc", bot_id: "b3414d65", workspace_id: "j565j4d7x3", owner: { type: "user", user: { object: "user", id: "4e8a9e8d" } } },
    expected: { accessToken: "secret_e_AbCdEf", refreshToken: "nrt_4991090011501Ejc", expiresIn: null, scopes: [] },
  },
  dropbox: {
    authorize: { endpoint: "https://www.dropbox.com/oauth2/authorize", params: { scope: "account_info.read files.metadata.read", token_access_type: "offline" } },
    answer: { access_token: "sl.BsomeToken", expires_in: 14400, token_type: "bearer", scope: "account_info.read files.metadata.read", refresh_token: "nBiM85CZALsAAAAAAAAAAQXH", account_id: "dbid:AAH4f99T0taONIb", uid: "12345" },
    expected: { accessToken: "sl.BsomeToken", refreshToken: "nBiM85CZALsAAAAAAAAAAQXH", expiresIn: 14400, scopes: ["account_info.read", "files.metadata.read"] },
  },
  zendesk: {
    params: { subdomain: "acme" },
    authorize: { endpoint: "https://acme.zendesk.com/oauth/authorizations/new", params: { scope: "read write" } },
    answer: { access_token: "gErypPlm4dOVgGRvA1ZzMH5MQ3nLo8bo", token_type: "bearer", scope: "read write" },
    // No expires_in: the template's defaultExpiresIn (172800).
    expected: { accessToken: "gErypPlm4dOVgGRvA1ZzMH5MQ3nLo8bo", refreshToken: null, expiresIn: 172800, scopes: ["read", "write"] },
  },
  gitlab: {
    params: { baseUrl: "https://gitlab.example.com" },
    authorize: { endpoint: "https://gitlab.example.com/oauth/authorize", params: { scope: "openid profile email read_user" } },
    answer: { access_token: "de6780bc506a0446", token_type: "Bearer", expires_in: 7200, refresh_token: "8257e65c97202ed1", scope: "openid profile email read_user", created_at: 1607635748, id_token: true },
    expected: { accessToken: "de6780bc506a0446", refreshToken: "8257e65c97202ed1", expiresIn: 7200, scopes: ["openid", "profile", "email", "read_user"] },
  },
  atlassian: {
    authorize: { endpoint: "https://auth.atlassian.com/authorize", params: { scope: "read:me read:jira-user read:jira-work offline_access", audience: "api.atlassian.com", prompt: "consent" } },
    answer: { access_token: "eyJraWQiOiJhdGxhc3NpYW4", expires_in: 3600, token_type: "Bearer", refresh_token: "eyJraWQiOiI1MWE2YjE2", scope: "read:me read:jira-user read:jira-work offline_access" },
    expected: { accessToken: "eyJraWQiOiJhdGxhc3NpYW4", refreshToken: "eyJraWQiOiI1MWE2YjE2", expiresIn: 3600, scopes: ["read:me", "read:jira-user", "read:jira-work", "offline_access"] },
  },
  hubspot: {
    authorize: { endpoint: "https://app.hubspot.com/oauth/authorize", params: { scope: "oauth crm.objects.contacts.read" } },
    // No scope in the answer: RFC 6749 §5.1, the requested ones were granted.
    answer: { token_type: "bearer", refresh_token: "1e8fbfb1-8e96-4826", access_token: "CIrToaiiMhIHAAEAQAAAARiO1ooB", expires_in: 1800 },
    expected: { accessToken: "CIrToaiiMhIHAAEAQAAAARiO1ooB", refreshToken: "1e8fbfb1-8e96-4826", expiresIn: 1800, scopes: ["oauth", "crm.objects.contacts.read"] },
  },
  linkedin: {
    authorize: { endpoint: "https://www.linkedin.com/oauth/v2/authorization", params: { scope: "openid profile email" } },
    // LinkedIn answers with commas though it takes spaces in the request.
    answer: { access_token: "AQUvlL_DYEzvT2wz1QJiEPeLioeA", expires_in: 5184000, scope: "email,openid,profile", token_type: "Bearer", id_token: true },
    expected: { accessToken: "AQUvlL_DYEzvT2wz1QJiEPeLioeA", refreshToken: null, expiresIn: 5184000, scopes: ["email", "openid", "profile"] },
  },
  keycloak: {
    params: { baseUrl: "https://sso.example.com", realm: "acme" },
    authorize: { endpoint: "https://sso.example.com/realms/acme/protocol/openid-connect/auth", params: { scope: "openid profile email" } },
    answer: {
      access_token: "eyJhbGciOiJSUzI1NiJ9.kc",
      expires_in: 300,
      refresh_expires_in: 1800,
      refresh_token: "eyJhbGciOiJIUzUxMiJ9.kcr",
      token_type: "Bearer",
      id_token: true,
      "not-before-policy": 0,
      session_state: "4ba8a3a3-0d4b-4ab4",
      scope: "openid profile email",
    },
    expected: { accessToken: "eyJhbGciOiJSUzI1NiJ9.kc", refreshToken: "eyJhbGciOiJIUzUxMiJ9.kcr", expiresIn: 300, scopes: ["openid", "profile", "email"] },
  },
};

describe.each(dialects)("built-in templates end to end on %s", (dialect) => {
  let svc: TestService;
  let fake: FakeEndpoint;
  /** What the fake token endpoint answers next, and the nonce its ID token carries. */
  let current: { id: string; nonce: string | null } = { id: "google", nonce: null };
  let signingKey: CryptoKey;
  let users = 0;
  const lastTokenRequest = () => fake.requests.filter((r) => r.path === "/token").at(-1)!;

  async function signedIdToken(clientId: string, nonce: string | null): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email: "ada@example.test", name: "Ada", ...(nonce ? { nonce } : {}) })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuer(fake.url)
      .setSubject("user-1")
      .setAudience(clientId)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(signingKey);
  }

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256");
    signingKey = privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    // The provider's token endpoint (documented answer shapes) and its JWKS.
    fake = await startFakeEndpoint(async (req, res) => {
      if (req.path === "/jwks") return sendJson(res, 200, { keys: [jwk] });
      const c = cases[current.id]!;
      const { id_token: wantsIdToken, ...rest } = c.answer;
      const answer: Record<string, unknown> = { ...rest };
      // An ID token only in the code grant's answer: the nonce belongs to the authorization request.
      if (wantsIdToken && req.params.grant_type === "authorization_code") answer.id_token = await signedIdToken(`client-${current.id}`, current.nonce);
      if (c.form) sendForm(res, 200, answer as Record<string, string>);
      else sendJson(res, 200, answer);
    });
    svc = await startTestService(dialect);
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  it("covers every template listed by listTemplates() and GET /api/v1/templates", async () => {
    expect(listTemplates().map((t) => t.id).sort()).toEqual(Object.keys(cases).sort());
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/templates", headers: svc.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((t: { id: string }) => t.id).sort()).toEqual(Object.keys(cases).sort());
  });

  describe.each(Object.keys(cases))("%s", (templateId) => {
    const c = cases[templateId]!;
    const appId = `t-${templateId}`;
    let authorizationUrl: URL;
    let userId: string;
    let cookie = "";
    let jsonRequests = false;

    it("creates the app from the template with only the token-side endpoints overridden", async () => {
      const usesOpenId = applyTemplate(templateId, c.params ?? {}).scopes?.includes("openid") ?? false;
      const res = await svc.server.inject({
        method: "POST",
        url: "/api/v1/apps",
        headers: svc.headers,
        payload: {
          id: appId,
          template: templateId,
          ...(c.params ? { templateParams: c.params } : {}),
          clientId: `client-${templateId}`,
          clientSecret: CLIENT_SECRET,
          discoveryUrl: null,
          tokenEndpoint: `${fake.url}/token`,
          userinfoEndpoint: null,
          revocationEndpoint: null,
          introspectionEndpoint: null,
          ...(usesOpenId ? { issuer: fake.url, jwksUri: `${fake.url}/jwks` } : {}),
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ template: templateId, authorizationEndpoint: c.authorize.endpoint, hasClientSecret: true });
      jsonRequests = res.json().tokenRequestFormat === "json";
    });

    it("builds its authorization URL: endpoint, scope separator, extra parameters", async () => {
      userId = `user-${++users}`;
      const minted = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId, userId, returnTo: "https://host.example/back" } });
      expect(minted.statusCode, minted.body).toBe(201);
      const link = new URL(minted.json().url);
      const opened = await svc.server.inject({ method: "GET", url: link.pathname + link.search });
      expect(opened.statusCode, opened.body).toBe(302);
      authorizationUrl = new URL(String(opened.headers.location));
      cookie = String(opened.headers["set-cookie"]).split(";")[0]!;
      expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(c.authorize.endpoint);
      const q = authorizationUrl.searchParams;
      expect(q.get("response_type")).toBe("code");
      expect(q.get("client_id")).toBe(`client-${templateId}`);
      expect(q.get("redirect_uri")).toBe(`${svc.config.publicUrl}/oauth/callback/${appId}`);
      expect(q.get("state")).toBeTruthy();
      for (const [name, value] of Object.entries(c.authorize.params)) expect(q.get(name), name).toBe(value);
      expect(q.get("nonce") !== null).toBe((c.authorize.params.scope ?? "").split(" ").includes("openid"));
    });

    it("reads its documented token answer: access token, expiry, scopes, refresh token", async () => {
      current = { id: templateId, nonce: authorizationUrl.searchParams.get("nonce") };
      const query = new URLSearchParams({ code: `code-${templateId}`, state: authorizationUrl.searchParams.get("state")! });
      const before = Date.now();
      const callback = await svc.server.inject({ method: "GET", url: `/oauth/callback/${appId}?${query}`, headers: { cookie } });
      expect(callback.statusCode, callback.body).toBe(302);
      const back = new URL(String(callback.headers.location));
      expect(back.searchParams.get("error"), back.toString()).toBeNull();
      expect(back.searchParams.get("connected")).toBe(appId);
      const request = lastTokenRequest();
      expect(request.params).toMatchObject({ grant_type: "authorization_code", code: `code-${templateId}` });
      expect(request.headers.accept).toMatch(/application\/json/);

      const res = await svc.server.inject({ method: "GET", url: `/api/v1/apps/${appId}/connections/${userId}/token?minValidity=0`, headers: svc.headers });
      expect(res.statusCode, res.body).toBe(200);
      const token = res.json();
      expect(token.accessToken).toBe(c.expected.accessToken);
      expect(token.tokenType).toBe("Bearer");
      expect(token.scopes).toEqual(c.expected.scopes);
      if (c.expected.expiresIn === null) expect(token.expiresAt).toBeNull();
      else {
        const lifetime = (Date.parse(token.expiresAt) - before) / 1000;
        expect(lifetime).toBeGreaterThanOrEqual(c.expected.expiresIn - 1);
        expect(lifetime).toBeLessThanOrEqual(c.expected.expiresIn + 30);
      }
      const row = await svc.ctx.db.selectFrom("connections").select(["refresh_token", "access_token"]).where("app_id", "=", appId).where("user_id", "=", userId).executeTakeFirstOrThrow();
      expect(row.refresh_token === null).toBe(c.expected.refreshToken === null);
      expect(JSON.stringify(row)).not.toContain(c.expected.accessToken);
    });

    it("refreshes with the refresh token it was given (when the provider gives one)", async () => {
      if (c.expected.refreshToken === null) {
        // Nothing to refresh with: a forced refresh must not call the provider, and the token,
        // still valid (or without expiry), stays the answer and the connection stays active.
        const sent = fake.requests.filter((r) => r.path === "/token").length;
        const rec = await getConnectionRecord(svc.ctx, appId, userId);
        const kept = await getToken(svc.ctx, appId, userId, 0, { forceUnlessVersionAfter: rec.version });
        expect(kept.accessToken).toBe(c.expected.accessToken);
        expect(fake.requests.filter((r) => r.path === "/token").length).toBe(sent);
        expect((await getConnectionRecord(svc.ctx, appId, userId)).status).toBe("active");
        return;
      }
      const rec = await getConnectionRecord(svc.ctx, appId, userId);
      const token = await getToken(svc.ctx, appId, userId, 0, { forceUnlessVersionAfter: rec.version });
      expect(token.accessToken).toBe(c.expected.accessToken);
      const request = lastTokenRequest();
      expect(request.params).toMatchObject({ grant_type: "refresh_token", refresh_token: c.expected.refreshToken });
      if (jsonRequests) expect(request.headers["content-type"]).toMatch(/^application\/json/);
    });
  });

  it("no client secret or issued token appears in the logs", () => {
    const logs = svc.logs.text();
    expect(logs).not.toContain(CLIENT_SECRET);
    for (const c of Object.values(cases)) {
      expect(logs).not.toContain(c.expected.accessToken);
      if (c.expected.refreshToken) expect(logs).not.toContain(c.expected.refreshToken);
    }
  });
});
