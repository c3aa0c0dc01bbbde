// Provider templates: GET /api/v1/templates and POST /api/v1/apps {template, templateParams}
// (SPEC §4), on both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const SECRET = "sentinel-template-secret-91c2e0";

const TEMPLATE_IDS = [
  "atlassian",
  "dropbox",
  "github",
  "gitlab",
  "google",
  "hubspot",
  "keycloak",
  "linkedin",
  "microsoft",
  "notion",
  "salesforce",
  "slack",
  "zendesk",
];

// What each template must give, with the parameters it is created with.
const expected: [string, Record<string, string>, Record<string, unknown>][] = [
  [
    "google",
    {},
    {
      authorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
      tokenEndpoint: "https://oauth2.googleapis.com/token",
      revocationEndpoint: "https://oauth2.googleapis.com/revoke",
      issuer: "https://accounts.google.com",
      discoveryUrl: "https://accounts.google.com/.well-known/openid-configuration",
      extraParams: { access_type: "offline", prompt: "consent" },
      scopes: ["openid", "email", "profile"],
    },
  ],
  [
    "microsoft",
    {},
    {
      authorizationEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
      tokenEndpoint: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
      apiBaseUrl: "https://graph.microsoft.com",
      scopes: expect.arrayContaining(["openid", "offline_access"]),
    },
  ],
  [
    "github",
    {},
    {
      authorizationEndpoint: "https://github.com/login/oauth/authorize",
      tokenEndpoint: "https://github.com/login/oauth/access_token",
      apiBaseUrl: "https://api.github.com",
      defaultExpiresIn: null,
      tokenResponsePath: null,
    },
  ],
  [
    "slack",
    {},
    {
      authorizationEndpoint: "https://slack.com/oauth/v2/authorize",
      tokenEndpoint: "https://slack.com/api/oauth.v2.access",
      scopeSeparator: ",",
      tokenResponsePath: "authed_user",
    },
  ],
  [
    "salesforce",
    {},
    {
      authorizationEndpoint: "https://login.salesforce.com/services/oauth2/authorize",
      tokenEndpoint: "https://login.salesforce.com/services/oauth2/token",
      revocationEndpoint: "https://login.salesforce.com/services/oauth2/revoke",
      defaultExpiresIn: 7200,
    },
  ],
  [
    "notion",
    {},
    {
      authorizationEndpoint: "https://api.notion.com/v1/oauth/authorize",
      tokenEndpoint: "https://api.notion.com/v1/oauth/token",
      tokenRequestFormat: "json",
      tokenEndpointAuthMethod: "client_secret_basic",
      extraParams: { owner: "user" },
    },
  ],
  [
    "dropbox",
    {},
    {
      authorizationEndpoint: "https://www.dropbox.com/oauth2/authorize",
      tokenEndpoint: "https://api.dropboxapi.com/oauth2/token",
      extraParams: { token_access_type: "offline" },
    },
  ],
  [
    "zendesk",
    { subdomain: "acme" },
    {
      authorizationEndpoint: "https://acme.zendesk.com/oauth/authorizations/new",
      tokenEndpoint: "https://acme.zendesk.com/oauth/tokens",
      apiBaseUrl: "https://acme.zendesk.com/api/v2",
      defaultExpiresIn: expect.any(Number),
    },
  ],
  [
    "gitlab",
    {},
    {
      authorizationEndpoint: "https://gitlab.com/oauth/authorize",
      tokenEndpoint: "https://gitlab.com/oauth/token",
      revocationEndpoint: "https://gitlab.com/oauth/revoke",
      apiBaseUrl: "https://gitlab.com/api/v4",
    },
  ],
  [
    "atlassian",
    {},
    {
      authorizationEndpoint: "https://auth.atlassian.com/authorize",
      tokenEndpoint: "https://auth.atlassian.com/oauth/token",
      extraParams: { audience: "api.atlassian.com", prompt: "consent" },
    },
  ],
  [
    "hubspot",
    {},
    {
      authorizationEndpoint: "https://app.hubspot.com/oauth/authorize",
      tokenEndpoint: "https://api.hubapi.com/oauth/v1/token",
    },
  ],
  [
    "linkedin",
    {},
    {
      authorizationEndpoint: "https://www.linkedin.com/oauth/v2/authorization",
      tokenEndpoint: "https://www.linkedin.com/oauth/v2/accessToken",
      userinfoEndpoint: "https://api.linkedin.com/v2/userinfo",
      scopes: ["openid", "profile", "email"],
    },
  ],
  [
    "keycloak",
    { baseUrl: "https://sso.example.test/", realm: "acme" },
    {
      issuer: "https://sso.example.test/realms/acme",
      discoveryUrl: "https://sso.example.test/realms/acme/.well-known/openid-configuration",
      authorizationEndpoint: "https://sso.example.test/realms/acme/protocol/openid-connect/auth",
      tokenEndpoint: "https://sso.example.test/realms/acme/protocol/openid-connect/token",
      revocationEndpoint: "https://sso.example.test/realms/acme/protocol/openid-connect/revoke",
      jwksUri: "https://sso.example.test/realms/acme/protocol/openid-connect/certs",
    },
  ],
];

describe.each(dialects)("provider templates on %s", (dialect) => {
  let svc: TestService;
  const outbound: string[] = [];
  beforeAll(async () => {
    // Creating from a template must not reach the provider: record any attempt.
    svc = await startTestService(dialect, {
      fetch: async (input) => {
        outbound.push(String(input));
        throw new Error("no network in this test");
      },
    });
  });
  afterAll(async () => svc?.close());

  const post = (body: unknown) => svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: body as object });
  const count = async () =>
    Number((await svc.ctx.db.selectFrom("apps").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);

  it("lists all the built-in templates with id, name, docsUrl, params and defaults", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/templates", headers: svc.headers });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { id: string; name: string; docsUrl: string; params: unknown; defaults: Record<string, unknown> }[];
    expect(items.map((t) => t.id).sort()).toEqual(expect.arrayContaining(TEMPLATE_IDS));
    for (const t of items) {
      expect(t.name.length).toBeGreaterThan(0);
      expect(t.docsUrl).toMatch(/^https:\/\//);
      expect(Array.isArray(t.params)).toBe(true);
      expect(t.defaults.authorizationEndpoint).toEqual(expect.any(String));
      expect(t.defaults.tokenEndpoint).toEqual(expect.any(String));
    }
    const byId = Object.fromEntries(items.map((t) => [t.id, t]));
    expect(byId.microsoft!.params).toEqual(["tenant"]);
    expect(byId.zendesk!.params).toEqual(["subdomain"]);
    expect(byId.keycloak!.params).toEqual(["baseUrl", "realm"]);
    expect(byId.google!.params).toEqual([]);
  });

  it("answers 401 unauthorized for the template list without an API key", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/templates" });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("unauthorized");
  });

  it.each(expected)("creates an app from the %s template", async (template, templateParams, fields) => {
    const res = await post({ template, templateParams, clientId: `${template}-client`, clientSecret: SECRET });
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app).toMatchObject({ id: template, template, clientId: `${template}-client`, hasClientSecret: true, ...fields });
    expect(app.redirectUri).toBe(`${svc.config.publicUrl}/oauth/callback/${template}`);
    expect(app.tokenEndpointAuthMethod).not.toBe("none");
    expect(res.body).not.toContain(SECRET);
    const stored = (await svc.server.inject({ method: "GET", url: `/api/v1/apps/${template}`, headers: svc.headers })).json();
    expect(stored).toMatchObject(fields);
  });

  it("reached no provider while creating apps from templates", () => {
    expect(outbound).toEqual([]);
  });

  it("lets fields in the body win over the template's", async () => {
    const res = await post({
      template: "google",
      id: "google-mail",
      name: "Gmail",
      clientId: "c",
      scopes: ["https://www.googleapis.com/auth/gmail.readonly"],
      extraParams: { access_type: "online" },
      tokenEndpoint: "https://token.example.test/token",
      pkce: "off",
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      id: "google-mail",
      name: "Gmail",
      template: "google",
      scopes: ["https://www.googleapis.com/auth/gmail.readonly"],
      extraParams: { access_type: "online" },
      tokenEndpoint: "https://token.example.test/token",
      authorizationEndpoint: "https://accounts.google.com/o/oauth2/v2/auth",
      pkce: "off",
    });
  });

  it("fills a Microsoft tenant into every tenant URL", async () => {
    const tenant = "contoso.onmicrosoft.com";
    const res = await post({ template: "microsoft", id: "ms-contoso", templateParams: { tenant }, clientId: "c", clientSecret: SECRET });
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app.authorizationEndpoint).toBe(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/authorize`);
    expect(app.tokenEndpoint).toBe(`https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`);
    expect(app.jwksUri).toBe(`https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`);
    expect(app.discoveryUrl).toBe(`https://login.microsoftonline.com/${tenant}/v2.0/.well-known/openid-configuration`);
    expect(JSON.stringify(app)).not.toContain("{tenant}");
  });

  it("fills a Zendesk subdomain into the host of its URLs", async () => {
    const res = await post({ template: "zendesk", id: "zendesk-globex", templateParams: { subdomain: "globex" }, clientId: "c" });
    expect(res.statusCode).toBe(201);
    for (const field of ["authorizationEndpoint", "tokenEndpoint", "apiBaseUrl"]) {
      expect(new URL(res.json()[field]).host).toBe("globex.zendesk.com");
    }
  });

  it("derives tokenEndpointAuthMethod none for a template app without a client secret", async () => {
    const res = await post({ template: "notion", id: "notion-public", clientId: "c" });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ tokenEndpointAuthMethod: "none", hasClientSecret: false, tokenRequestFormat: "json" });
  });

  it.each([
    ["an unknown template", { template: "myspace" }, "myspace"],
    ["a missing required parameter", { template: "zendesk" }, "subdomain"],
    ["an unknown parameter", { template: "google", templateParams: { tenant: "x" } }, "tenant"],
    ["a subdomain that would change the host", { template: "zendesk", templateParams: { subdomain: "evil.test/x" } }, "subdomain"],
    ["a subdomain with an @", { template: "zendesk", templateParams: { subdomain: "evil.test@acme" } }, "subdomain"],
    ["a tenant with a slash", { template: "microsoft", templateParams: { tenant: "common/../evil" } }, "tenant"],
    ["a tenant of ..", { template: "microsoft", templateParams: { tenant: ".." } }, "tenant"],
    ["a Salesforce domain with a path", { template: "salesforce", templateParams: { domain: "evil.test/x" } }, "domain"],
    ["a Keycloak baseUrl that is not http(s)", { template: "keycloak", templateParams: { baseUrl: "javascript:alert(1)", realm: "a" } }, "baseUrl"],
    ["a Keycloak baseUrl with credentials", { template: "keycloak", templateParams: { baseUrl: "https://u:p@sso.test", realm: "a" } }, "baseUrl"],
    ["a Keycloak baseUrl with a query", { template: "keycloak", templateParams: { baseUrl: "https://sso.test/?x=", realm: "a" } }, "baseUrl"],
    ["a Keycloak realm with a slash", { template: "keycloak", templateParams: { baseUrl: "https://sso.test", realm: "a/b" } }, "realm"],
    ["a Keycloak template without a realm", { template: "keycloak", templateParams: { baseUrl: "https://sso.test" } }, "realm"],
    ["templateParams without a template", { name: "Plain", templateParams: { subdomain: "acme" } }, "templateParams"],
  ])("rejects %s with invalid_request and stores nothing", async (_label, body, named) => {
    const before = await count();
    const res = await post({ clientId: "c", clientSecret: SECRET, ...body });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    expect(res.json().code).toBe("invalid_request");
    expect(res.json().detail).toContain(named);
    expect(res.body).not.toContain(SECRET);
    expect(await count()).toBe(before);
  });

  it("never logs the client secret", () => {
    expect(svc.logs.text()).not.toContain(SECRET);
  });
});
