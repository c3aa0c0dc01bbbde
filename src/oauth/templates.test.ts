// Every built-in template through the protocol layer (issue 5's template checks): its
// authorization URL, and a token answer in the shape the provider documents, served by a
// loopback fake in place of its token endpoint and read by the one token-answer reader.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock, oauthTestContext, sendForm, sendJson, startFakeEndpoint, testApp, type FakeEndpoint } from "../../test/support/fake-provider.ts";
import type { App } from "../apps/app-store.ts";
import { applyTemplate, listTemplates } from "../apps/templates/index.ts";
import { buildAuthorizationUrl, exchangeCode } from "./grants.ts";
import type { TokenSet } from "./token-set.ts";

const clock = fixedClock();
const ctx = oauthTestContext({ clock });
const NONCE = "n-0S6_WzA2Mj";
const now = Math.floor(clock.now() / 1000);

/** An ID token as the provider would shape it; oauth4webapi checks its claims, not its signature. */
function idToken(iss: string, extra: Record<string, unknown> = {}): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256", kid: "k1", typ: "JWT" })}.${part({ iss, sub: "user-1", aud: "client-1", iat: now, exp: now + 3600, nonce: NONCE, ...extra })}.c2lnbmF0dXJl`;
}

interface TemplateCase {
  params?: Record<string, string>;
  /** The documented answer shape; served as JSON unless `form`. */
  answer: Record<string, unknown>;
  form?: boolean;
  expected: Partial<TokenSet>;
}

// Answers follow each provider's documentation of its token endpoint (values made up).
const cases: Record<string, TemplateCase> = {
  google: {
    answer: {
      access_token: "ya29.a0AfH6SM",
      expires_in: 3599,
      refresh_token: "1//0gLh",
      scope: "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
      token_type: "Bearer",
      id_token: idToken("https://accounts.google.com"),
    },
    expected: { accessToken: "ya29.a0AfH6SM", refreshToken: "1//0gLh", expiresIn: 3599 },
  },
  microsoft: {
    answer: {
      token_type: "Bearer",
      scope: "openid email profile offline_access User.Read",
      expires_in: 4742,
      ext_expires_in: 4742,
      access_token: "eyJ0eXAiOiJKV1Qi.ms",
      refresh_token: "0.AQkA",
      // Multi-tenant: the iss names the user's tenant, which no fixed issuer can.
      id_token: idToken("https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", { tid: "9188040d-6c67-4c5b-b112-36a304b66dad" }),
    },
    expected: { accessToken: "eyJ0eXAiOiJKV1Qi.ms", refreshToken: "0.AQkA", expiresIn: 4742 },
  },
  github: {
    form: true,
    answer: { access_token: "gho_16C7e42F292c6912E7710c838347Ae178B4a", scope: "read:user,user:email", token_type: "bearer" },
    expected: { accessToken: "gho_16C7e42F292c6912E7710c838347Ae178B4a", refreshToken: null, expiresIn: null, scopes: ["read:user", "user:email"] },
  },
  slack: {
    answer: {
      ok: true,
      app_id: "A0KRD7HC3",
      authed_user: { id: "U1234", scope: "users:read,users:read.email", access_token: "xoxp-1234", token_type: "user" },
      scope: "",
      token_type: "bot",
      access_token: "xoxb-17653672481",
      bot_user_id: "U0KRQLJ9H",
      team: { name: "Slack Softball Team", id: "T9TK3CUKW" },
    },
    expected: { accessToken: "xoxp-1234", refreshToken: null, expiresIn: null, scopes: ["users:read", "users:read.email"] },
  },
  salesforce: {
    answer: {
      access_token: "00Dxx0000001gPL!AR8AQJXg",
      refresh_token: "5Aep861TSESvWeug",
      signature: "CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=",
      scope: "refresh_token openid api",
      id_token: idToken("https://login.salesforce.com"),
      instance_url: "https://yourInstance.salesforce.com",
      id: "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
      token_type: "Bearer",
      issued_at: "1278448832702",
    },
    // No expires_in: the template's defaultExpiresIn.
    expected: { accessToken: "00Dxx0000001gPL!AR8AQJXg", refreshToken: "5Aep861TSESvWeug", expiresIn: 7200 },
  },
  notion: {
    answer: {
      access_token: "secret_e_AbCdEf",
      token_type: "bearer",
      refresh_token: "nrt_4991090011501Ejc",
      bot_id: "b3414d659-1224-5ty7-6ffr-cc9d8773drt601288f",
      workspace_name: "Ada's Notion Workspace",
      workspace_icon: "https://example.test/icon.png",
      workspace_id: "j565j4d7x3-2882-61bs-564a-jj9d9ui-c36hxfr7x",
      owner: { type: "user", user: { object: "user", id: "4e8a9e8d" } },
      duplicated_template_id: null,
      request_id: "f3b4d3a1",
    },
    expected: { accessToken: "secret_e_AbCdEf", refreshToken: "nrt_4991090011501Ejc", expiresIn: null, scopes: null },
  },
  dropbox: {
    answer: {
      access_token: "sl.BsomeToken",
      expires_in: 14400,
      token_type: "bearer",
      scope: "account_info.read files.metadata.read",
      refresh_token: "nBiM85CZALsAAAAAAAAAAQXHBoNpNutK4ngsXHsqW4iGz9tisb3JyjGqikMJIYbd",
      account_id: "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
      uid: "12345",
    },
    expected: { accessToken: "sl.BsomeToken", expiresIn: 14400, scopes: ["account_info.read", "files.metadata.read"] },
  },
  zendesk: {
    params: { subdomain: "acme" },
    answer: { access_token: "gErypPlm4dOVgGRvA1ZzMH5MQ3nLo8bo", token_type: "bearer", scope: "read write" },
    expected: { accessToken: "gErypPlm4dOVgGRvA1ZzMH5MQ3nLo8bo", refreshToken: null, expiresIn: 172800, scopes: ["read", "write"] },
  },
  gitlab: {
    params: { baseUrl: "https://gitlab.example.com" },
    answer: {
      access_token: "de6780bc506a0446309bd9362820ba8aed28aa506c71eedbe1c5c4f9dd350e54",
      token_type: "Bearer",
      expires_in: 7200,
      refresh_token: "8257e65c97202ed1726cf9571600918f3bffb2544b26e00a61df9897668c33a1",
      scope: "openid profile email read_user",
      created_at: 1607635748,
      id_token: idToken("https://gitlab.example.com"),
    },
    expected: { expiresIn: 7200, refreshToken: "8257e65c97202ed1726cf9571600918f3bffb2544b26e00a61df9897668c33a1" },
  },
  atlassian: {
    answer: {
      access_token: "eyJraWQiOiJhdGxhc3NpYW4",
      expires_in: 3600,
      token_type: "Bearer",
      refresh_token: "eyJraWQiOiI1MWE2YjE2MjRlMTQ",
      scope: "read:me read:jira-user read:jira-work offline_access",
    },
    expected: { accessToken: "eyJraWQiOiJhdGxhc3NpYW4", expiresIn: 3600, scopes: ["read:me", "read:jira-user", "read:jira-work", "offline_access"] },
  },
  hubspot: {
    answer: { token_type: "bearer", refresh_token: "1e8fbfb1-8e96-4826-8b8d-c8af73715", access_token: "CIrToaiiMhIHAAEAQAAAARiO1ooBIOP0sgEokuLtAEaOaTFnToZ3VjUbtl46MAAAAEAAAAAgAAAAAAAAAAAACAAAAAAAOABAAAAAAAAAAAAAAQAkIUVrptEzQ4hQHP89Eoahkq-p7dVIAWgBgAA", expires_in: 1800 },
    expected: { refreshToken: "1e8fbfb1-8e96-4826-8b8d-c8af73715", expiresIn: 1800, scopes: null },
  },
  linkedin: {
    answer: {
      access_token: "AQUvlL_DYEzvT2wz1QJiEPeLioeA",
      expires_in: 5184000,
      // LinkedIn answers with commas though it takes spaces in the request.
      scope: "email,openid,profile",
      token_type: "Bearer",
      id_token: idToken("https://www.linkedin.com/oauth"),
    },
    expected: { accessToken: "AQUvlL_DYEzvT2wz1QJiEPeLioeA", expiresIn: 5184000, refreshToken: null, scopes: ["email", "openid", "profile"] },
  },
  keycloak: {
    params: { baseUrl: "https://sso.example.com", realm: "acme" },
    answer: {
      access_token: "eyJhbGciOiJSUzI1NiJ9.kc",
      expires_in: 300,
      refresh_expires_in: 1800,
      refresh_token: "eyJhbGciOiJIUzUxMiJ9.kcr",
      token_type: "Bearer",
      id_token: idToken("https://sso.example.com/realms/acme"),
      "not-before-policy": 0,
      session_state: "4ba8a3a3-0d4b-4ab4-9f3c-1a2b3c4d5e6f",
      scope: "openid profile email",
    },
    expected: { accessToken: "eyJhbGciOiJSUzI1NiJ9.kc", expiresIn: 300, refreshToken: "eyJhbGciOiJIUzUxMiJ9.kcr", scopes: ["openid", "profile", "email"] },
  },
};

let fake: FakeEndpoint;
let answer: TemplateCase = cases.google!;
beforeAll(async () => {
  fake = await startFakeEndpoint((_req, res) => (answer.form ? sendForm(res, 200, answer.answer as Record<string, string>) : sendJson(res, 200, answer.answer)));
});
afterAll(() => fake.close());

function appFromTemplate(id: string, params: Record<string, string> = {}): App {
  const { name: _name, clientId: _c, clientSecret: _s, ...fields } = applyTemplate(id, params) as Partial<App> & { clientSecret?: string };
  return testApp(ctx, { id, template: id, ...fields, clientId: "client-1", clientSecret: "sentinel-secret", tokenEndpointAuthMethod: fields.tokenEndpointAuthMethod ?? "client_secret_basic" });
}

describe("built-in templates", () => {
  it("are all covered here", () => {
    expect(listTemplates().map((t) => t.id).sort()).toEqual(Object.keys(cases).sort());
  });

  describe.each(Object.entries(cases))("%s", (id, c) => {
    const templateApp = appFromTemplate(id, c.params);
    const usesOpenId = templateApp.scopes.includes("openid");

    it("builds its authorization URL", () => {
      const url = buildAuthorizationUrl(templateApp, { redirectUri: "http://localhost:8000/oauth/callback/x", state: "s1", codeChallenge: "c1", nonce: usesOpenId ? NONCE : null });
      expect(`${url.origin}${url.pathname}`).toBe(templateApp.authorizationEndpoint!.split("?")[0]);
      const params = Object.fromEntries(url.searchParams);
      expect(params).toMatchObject({ response_type: "code", client_id: "client-1", state: "s1", code_challenge: "c1", code_challenge_method: "S256" });
      expect(params.scope).toBe(templateApp.scopes.length ? templateApp.scopes.join(templateApp.scopeSeparator) : undefined);
      expect(params).toMatchObject(templateApp.extraParams);
      expect(params.nonce).toBe(usesOpenId ? NONCE : undefined);
    });

    it("reads its documented token answer", async () => {
      answer = c;
      const app = { ...templateApp, tokenEndpoint: `${fake.url}/token` };
      const tokens = await exchangeCode(ctx, app, { code: "code-1", codeVerifier: "v".repeat(43), redirectUri: "http://localhost:8000/oauth/callback/x", nonce: usesOpenId ? NONCE : null, iss: null });
      expect(tokens).toMatchObject({ tokenType: "Bearer", ...c.expected });
      expect(tokens.idToken).toBe(typeof c.answer.id_token === "string" ? c.answer.id_token : null);
      const request = fake.requests.at(-1)!;
      if (app.tokenRequestFormat === "json") expect(request.headers["content-type"]).toBe("application/json");
      expect(request.params).toMatchObject({ grant_type: "authorization_code", code: "code-1" });
    });
  });
});
