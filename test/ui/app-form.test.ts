// The Connected App form and `/` through inject() on both databases: CSRF, validation beside the
// fields with nothing stored, the write-only secret, discovery (JSON endpoint and the no-script
// path) against a fake metadata server on 127.0.0.1, Disconnect scoped to the signed-in user.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../../src/accounts/user-service.ts";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { dialects } from "../support/databases.ts";
import { sendJson, startFakeEndpoint, type FakeEndpoint } from "../support/fake-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { FormClient } from "./form-client.ts";

const SECRET = "sentinel-client-secret-form-61c0aa";
const NEW_SECRET = "sentinel-client-secret-form-new-2e77f0";
const PASSWORD = "sentinel-password-form-0b4d";

const validApp = {
  name: "Acme Login",
  authorizationEndpoint: "https://login.acme.test/authorize",
  tokenEndpoint: "https://login.acme.test/token",
  clientId: "acme-client",
  clientSecret: SECRET,
  scopes: "openid email",
  extraParams: "access_type=offline\nprompt=consent",
  pkce: "auto",
  tokenRequestFormat: "form",
  scopeSeparator: " ",
  _action: "save",
};

describe.each(dialects)("Connected App form on %s", (dialect) => {
  let svc: TestService;
  let metadata: FakeEndpoint;
  let admin: FormClient;
  let member: FormClient;
  const pages: string[] = [];

  /** POST /ui/discovery as the button's script does: session cookie, CSRF header, JSON body. */
  const postDiscovery = (client: FormClient, url: string, headers: Record<string, string> = { "x-csrf-token": client.lastCsrf! }) =>
    svc.server.inject({ method: "POST", url: "/ui/discovery", cookies: Object.fromEntries(client.cookies), headers: { "content-type": "application/json", ...headers }, payload: { url } });
  const appIds = async () => (await svc.ctx.db.selectFrom("apps").select("id").orderBy("id").execute()).map((r) => r.id);

  async function signIn(email: string): Promise<FormClient> {
    const client = new FormClient(svc.server);
    await client.get("/login");
    expect((await client.post("/login", { email, password: PASSWORD })).statusCode).toBe(303);
    return client;
  }

  beforeAll(async () => {
    svc = await startTestService(dialect);
    metadata = await startFakeEndpoint((req, res) => {
      if (req.path === "/.well-known/openid-configuration") {
        return sendJson(res, 200, {
          issuer: metadata.url,
          authorization_endpoint: `${metadata.url}/authorize`,
          token_endpoint: `${metadata.url}/token`,
          revocation_endpoint: `${metadata.url}/revoke`,
          userinfo_endpoint: `${metadata.url}/userinfo`,
          jwks_uri: `${metadata.url}/jwks`,
          response_types_supported: ["code"],
          scopes_supported: ["openid", "email"],
        });
      }
      if (req.path === "/broken/.well-known/openid-configuration") return sendJson(res, 200, ["not", "metadata"]);
      return sendJson(res, 404, { error: "not_found" });
    });
    await createUser(svc.ctx, { email: "admin@example.test", password: PASSWORD, isAdmin: true });
    await createUser(svc.ctx, { email: "member@example.test", password: PASSWORD });
    admin = await signIn("admin@example.test");
    member = await signIn("member@example.test");
    const keep = (c: FormClient) => {
      const get = c.get.bind(c);
      const post = c.post.bind(c);
      c.get = async (...a) => {
        const r = await get(...a);
        pages.push(r.body);
        return r;
      };
      c.post = async (...a) => {
        const r = await post(...a);
        pages.push(r.body);
        return r;
      };
    };
    keep(admin);
    keep(member);
  });
  afterAll(async () => {
    await metadata?.close();
    await svc?.close();
  });

  it("renders every field SPEC §5 names, labelled", async () => {
    const res = await admin.get("/apps/new");
    expect(res.statusCode).toBe(200);
    for (const [id, label] of [
      ["name", "Name"],
      ["discoveryUrl", "OpenID Configuration URL"],
      ["authorizationEndpoint", "Authorization URI"],
      ["tokenEndpoint", "Token URI"],
      ["revocationEndpoint", "Revocation URI"],
      ["userinfoEndpoint", "Userinfo URI"],
      ["clientId", "Client ID"],
      ["clientSecret", "Client Secret"],
      ["scopes", "Scopes"],
      ["extraParams", "Extra parameters"],
      ["apiBaseUrl", "API base URL"],
    ]) {
      expect(res.body).toContain(`<label for="f-${id}">${label}</label>`);
      expect(res.body).toMatch(new RegExp(`id="f-${id}" name="${id}"`));
    }
    expect(res.body).toContain(">Get OpenID Configuration</button>");
    expect(res.body).toContain(">Save</button>");
    expect(res.body).not.toContain("Redirect URI"); // only after the first save
  });

  it("refuses a post without its CSRF token and stores nothing", async () => {
    const res = await admin.post("/apps/new", { ...validApp, _csrf: null });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain("Request refused");
    expect(await appIds()).toEqual([]);
  });

  it("refuses a post with another session's CSRF token and stores nothing", async () => {
    const res = await admin.post("/apps/new", { ...validApp, _csrf: member.lastCsrf! });
    expect(res.statusCode).toBe(403);
    expect(await appIds()).toEqual([]);
  });

  it("shows a bad Token URI beside its field, keeps the values, stores nothing", async () => {
    await admin.get("/apps/new");
    const res = await admin.post("/apps/new", { ...validApp, tokenEndpoint: "ftp://nope" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-tokenEndpoint-error">must be an http\(s\) URL/);
    expect(res.body).toContain('value="ftp://nope"');
    expect(res.body).toContain('value="Acme Login"');
    expect(res.body).not.toContain(SECRET);
    expect(await appIds()).toEqual([]);
  });

  it("shows an extra-parameters line without = beside that field, stores nothing", async () => {
    const res = await admin.post("/apps/new", { ...validApp, extraParams: "access_type=offline\njustaword" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-extraParams-error">Line 2 \(&#34;justaword&#34;\) is not key=value\./);
    expect(await appIds()).toEqual([]);
  });

  it("refuses an extra parameter the flow owns (state), beside Extra parameters", async () => {
    const res = await admin.post("/apps/new", { ...validApp, extraParams: "state=fixed" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-extraParams-error">state: &#34;state&#34; is set by the flow/);
    expect(await appIds()).toEqual([]);
  });

  it("asks for a name when there is none, stores nothing", async () => {
    const res = await admin.post("/apps/new", { ...validApp, name: "" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-name-error">Give the app a name\./);
    expect(await appIds()).toEqual([]);
  });

  it("refuses a name whose id would be \"new\" (the form's own address), stores nothing", async () => {
    const res = await admin.post("/apps/new", { ...validApp, name: "New" });
    expect(res.statusCode).toBe(400);
    expect(res.body).toMatch(/id="f-name-error">The id &#34;new&#34; is taken/);
    expect(await appIds()).toEqual([]);
  });

  it("saves, then shows the Redirect URI, and the secret only as set", async () => {
    const res = await admin.post("/apps/new", validApp);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/apps/acme-login?saved=1");
    const page = await admin.get("/apps/acme-login?saved=1");
    expect(page.body).toContain('<label for="redirect-uri">Redirect URI</label>');
    expect(page.body).toContain(`value="${svc.config.publicUrl}/oauth/callback/acme-login"`);
    expect(page.body).toContain(">Copy</button>");
    expect(page.body).toMatch(/<form method="get" action="\/connect\/acme-login" class="inline" target="_blank">\s*<input type="hidden" name="returnTo" value="\/apps\/acme-login">\s*<button type="submit" class="button">Connect to Acme Login<\/button>/);
    expect(page.body).toContain('id="secret-set">set</span>');
    expect(page.body).toContain('id="f-clientSecret" name="clientSecret" type="password" value=""');
    const row = await svc.ctx.db.selectFrom("apps").selectAll().where("id", "=", "acme-login").executeTakeFirstOrThrow();
    expect(JSON.parse(row.extra_params)).toEqual({ access_type: "offline", prompt: "consent" });
    expect(row.client_secret).not.toContain(SECRET);
  });

  it("answers a second app with the same name with a conflict beside Name", async () => {
    await admin.get("/apps/new");
    const res = await admin.post("/apps/new", validApp);
    expect(res.statusCode).toBe(409);
    expect(res.body).toMatch(/id="f-name-error">An app with id &#34;acme-login&#34; exists\. Choose another name\./);
    expect(await appIds()).toEqual(["acme-login"]);
  });

  it("keeps the secret when the field is left blank, replaces it when typed, removes it when asked", async () => {
    const sealed = async () => (await svc.ctx.db.selectFrom("apps").select("client_secret").where("id", "=", "acme-login").executeTakeFirstOrThrow()).client_secret;
    const first = await sealed();
    await admin.get("/apps/acme-login");
    const { clientSecret: _s, ...rest } = validApp;
    expect((await admin.post("/apps/acme-login", { ...rest, clientSecret: "", scopes: "openid email profile" })).statusCode).toBe(303);
    expect(await sealed()).toBe(first);
    const scopes = await svc.ctx.db.selectFrom("apps").select("scopes").where("id", "=", "acme-login").executeTakeFirstOrThrow();
    expect(JSON.parse(scopes.scopes)).toEqual(["openid", "email", "profile"]);
    expect((await admin.post("/apps/acme-login", { ...rest, clientSecret: NEW_SECRET })).statusCode).toBe(303);
    const second = await sealed();
    expect(second).not.toBe(first);
    expect(second).not.toContain(NEW_SECRET);
    expect((await admin.post("/apps/acme-login", { ...rest, clientSecret: "", clearClientSecret: "on" })).statusCode).toBe(303);
    expect(await sealed()).toBeNull();
  });

  it("tells the admin what a Connect test's result means when the new tab comes back to the app page", async () => {
    const ok = await admin.get("/apps/acme-login?connected=acme-login");
    expect(ok.body).toContain("Connecting to Acme Login worked");
    const failed = await admin.get("/apps/acme-login?error=invalid_client");
    expect(failed.body).toMatch(/role="alert">Connecting to Acme Login failed \(<code>invalid_client<\/code>\)\..*exactly the Redirect URI above registered/);
    const denied = await admin.get("/apps/acme-login?error=access_denied");
    expect(denied.body).toContain("access was denied at the provider");
    const markup = await admin.get(`/apps/acme-login?error=${encodeURIComponent("<script>x</script>")}`);
    expect(markup.body).not.toContain("<script>x");
  });

  it("gives a 404 page for an app that does not exist", async () => {
    const res = await admin.get("/apps/no-such-app");
    expect(res.statusCode).toBe(404);
    expect(res.body).toContain("There is no Connected App with id");
  });

  it("fills the endpoints from discovery without saving (JSON endpoint behind the button)", async () => {
    await admin.get("/apps/new");
    const res = await postDiscovery(admin, `${metadata.url}/.well-known/openid-configuration`, { "x-csrf-token": admin.lastCsrf!, origin: svc.config.publicUrl });
    expect(res.statusCode).toBe(200);
    expect(res.json().metadata).toMatchObject({ issuer: metadata.url, authorizationEndpoint: `${metadata.url}/authorize`, tokenEndpoint: `${metadata.url}/token` });
    expect(await appIds()).toEqual(["acme-login"]);
  });

  it("refuses the discovery endpoint without the CSRF header, and to a non-admin", async () => {
    const noToken = await postDiscovery(admin, metadata.url, {});
    expect(noToken.statusCode).toBe(403);
    const notAdmin = await postDiscovery(member, metadata.url);
    expect(notAdmin.statusCode).toBe(403);
    expect(metadata.requests.filter((r) => r.method === "GET").length).toBe(1);
  });

  it("says clearly when the document is not metadata", async () => {
    const res = await postDiscovery(admin, `${metadata.url}/broken/.well-known/openid-configuration`);
    expect(res.statusCode).toBe(502);
    expect(res.json().message).toMatch(/^The address answered, but not with a valid OpenID configuration: /);
  });

  it("says clearly when the URL is not usable", async () => {
    const res = await postDiscovery(admin, "javascript:alert(1)");
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^This URL cannot be used: /);
  });

  it("fills the form from discovery without a script (the button posts the form), saving nothing", async () => {
    await admin.get("/apps/new");
    const res = await admin.post("/apps/new", { name: "Fake IdP", discoveryUrl: `${metadata.url}/.well-known/openid-configuration`, _action: "discover" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`id="f-authorizationEndpoint" name="authorizationEndpoint"`);
    expect(res.body).toContain(`value="${metadata.url}/authorize"`);
    expect(res.body).toContain(`value="${metadata.url}/userinfo"`);
    expect(res.body).toContain("Nothing is saved until you press Save.");
    expect(await appIds()).toEqual(["acme-login"]);
    const bad = await admin.post("/apps/new", { name: "Fake IdP", discoveryUrl: "http://127.0.0.1:9/.well-known/openid-configuration", _action: "discover" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/id="f-discoveryUrl-error">Could not reach the provider: /);
  });

  it("lists the app's connections and its recent events, newest first", async () => {
    for (const userId of ["u-first", "u-second"]) {
      await saveConnection(svc.ctx, {
        appId: "acme-login",
        userId,
        tokens: { accessToken: `at-${userId}`, refreshToken: null, idToken: null, tokenType: "Bearer", expiresIn: null, scopes: ["openid"] },
        account: { sub: userId, email: `${userId}@example.test`, name: null },
        requestedScopes: ["openid"],
      });
    }
    const page = await admin.get("/apps/acme-login");
    expect(page.body).toContain("u-first@example.test");
    const events = page.body.slice(page.body.indexOf("Recent events"));
    expect(events.indexOf("u-second")).toBeLessThan(events.indexOf("u-first"));
    expect(events).toContain("connection.created");
  });

  it("shows each user only their own connections on /, and Disconnect removes only their own", async () => {
    const memberId = (await svc.ctx.db.selectFrom("users").select("id").where("email", "=", "member@example.test").executeTakeFirstOrThrow()).id;
    await saveConnection(svc.ctx, {
      appId: "acme-login",
      userId: memberId,
      tokens: { accessToken: "at-member", refreshToken: null, idToken: null, tokenType: "Bearer", expiresIn: 3600, scopes: ["openid", "email"] },
      account: { sub: "m-1", email: "member-at-acme@example.test", name: "Member" },
      requestedScopes: ["openid", "email"],
    });
    const adminHome = await admin.get("/");
    expect(adminHome.body).not.toContain("member-at-acme@example.test");
    expect((await admin.post("/connections/acme-login/disconnect", {})).statusCode).toBe(404);
    const home = await member.get("/");
    expect(home.body).toContain("member-at-acme@example.test");
    expect(home.body).toContain(">Disconnect</button>");
    expect(home.body).toContain(">Connect to Acme Login</button>");
    expect((await member.post("/connections/acme-login/disconnect", { _csrf: null })).statusCode).toBe(403);
    const done = await member.post("/connections/acme-login/disconnect", {});
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/?disconnected=acme-login");
    const left = await svc.ctx.db.selectFrom("connections").select("user_id").orderBy("user_id").execute();
    expect(left.map((r) => r.user_id)).toEqual(["u-first", "u-second"]);
  });

  it("never renders or logs the client secret", () => {
    expect(pages.length).toBeGreaterThan(10);
    for (const body of pages) {
      expect(body).not.toContain(SECRET);
      expect(body).not.toContain(NEW_SECRET);
    }
    expect(svc.logs.text()).not.toContain(SECRET);
    expect(svc.logs.text()).not.toContain(NEW_SECRET);
  });
});
