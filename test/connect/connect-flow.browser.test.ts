// The whole connect flow in Chromium against a real OpenID Provider (oidc-provider: PKCE
// required, RFC 9207 iss, refresh rotation), on both databases: a host app's backend mints a
// connect session, the user's browser opens it, signs in and consents at the provider, and lands
// on the host app's returnTo with connected=<appId>; the stored token works at the provider's
// protected resource. Denying at consent lands with error=access_denied and stores nothing.
// The service is served on `localhost`, the provider and the host app on 127.0.0.1.
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser, type TestBrowser } from "../support/browser.ts";
import { dialects } from "../support/databases.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const CLIENT_SECRET = "sentinel-browser-client-secret-5d2e";

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The host app's returnTo page: it only shows what it was given. */
async function startHostApp(): Promise<{ server: Server; url: string }> {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end(`<!doctype html><title>Host app</title><h1>Host app</h1><p id="query">${new URL(req.url ?? "/", "http://x").search.replace(/[<>&"]/g, "")}</p>`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Loopback only: oidc-provider's dev pages import a web font, which must not leave the machine. */
async function loopbackOnly(context: BrowserContext): Promise<void> {
  await context.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === "127.0.0.1" || host === "localhost" ? route.continue() : route.abort();
  });
}

describe.each(dialects)("connect flow in a browser on %s", (dialect) => {
  let svc: TestService;
  let provider: TestOidcProvider;
  let browser: TestBrowser;
  let host: { server: Server; url: string };
  let publicUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://localhost:${port}`;
    provider = await startOidcProvider({
      accounts: { alice: { email: "alice@example.test", name: "Alice Example" } },
      clients: [
        {
          client_id: "connect-client",
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${publicUrl}/oauth/callback/acme`],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic",
          scope: "openid email profile offline_access",
        },
      ],
    });
    svc = await startTestService(dialect, { env: { PUBLIC_URL: publicUrl } });
    await svc.server.listen({ port, host: "127.0.0.1" });
    host = await startHostApp();
    const created = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { id: "acme", name: "Acme", discoveryUrl: provider.endpoints.discovery, clientId: "connect-client", clientSecret: CLIENT_SECRET, scopes: ["openid", "email", "profile", "offline_access"] },
    });
    expect(created.statusCode, created.body).toBe(201);
    // Discovery recorded what the callback enforces: RFC 9207 iss and PKCE S256.
    const app = await svc.ctx.db.selectFrom("apps").select(["iss_parameter_supported", "code_challenge_methods", "issuer"]).where("id", "=", "acme").executeTakeFirstOrThrow();
    expect(app).toEqual({ iss_parameter_supported: 1, code_challenge_methods: JSON.stringify(["S256"]), issuer: provider.issuer });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.close();
    await provider?.close();
    await new Promise<void>((r) => (host ? host.server.close(() => r()) : r()));
  });

  const mint = async (userId: string, returnTo?: string) => {
    const res = await svc.server.inject({ method: "POST", url: "/api/v1/connect-sessions", headers: svc.headers, payload: { appId: "acme", userId, ...(returnTo ? { returnTo } : {}) } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().url as string;
  };
  const connectionOf = (userId: string) => svc.ctx.db.selectFrom("connections").selectAll().where("user_id", "=", userId).executeTakeFirst();

  /** A fresh browser profile per test: no provider session left over from another test. */
  async function newPage(): Promise<Page> {
    const context = await browser.newContext();
    await loopbackOnly(context);
    return context.newPage();
  }

  async function signInAtProvider(page: Page) {
    await page.waitForURL((u) => u.origin === provider.issuer);
    await page.locator('input[name="login"]').fill("alice");
    await page.locator('input[name="password"]').fill("any-password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).waitFor();
  }

  /** Opens a connect link in `page`'s browser (its cookie jar), consents headlessly, and answers the authorization response URL. */
  async function authorizationResponse(page: Page, userId: string): Promise<URL> {
    const opened = await page.context().request.get(await mint(userId, `${host.url}/after`), { maxRedirects: 0 });
    expect(opened.status()).toBe(302);
    return provider.authorize(opened.headers()["location"]!);
  }

  it("connects through a connect session and lands on returnTo with connected=acme; the token works at the provider", { timeout: 60_000 }, async () => {
    const url = await mint("host-user-1", `${host.url}/after?from=connect`);
    expect(new URL(url).origin).toBe(publicUrl);
    const page = await newPage();
    await page.goto(url);
    await signInAtProvider(page);
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL((u) => u.origin === host.url);
    const landed = new URL(page.url());
    expect(landed.pathname).toBe("/after");
    expect(landed.searchParams.get("from")).toBe("connect");
    expect(landed.searchParams.get("connected")).toBe("acme");
    await page.context().close();

    const row = (await connectionOf("host-user-1"))!;
    expect(row).toBeDefined();
    expect(row.account_sub).toBe("alice");
    expect(row.account_email).toBe("alice@example.test");
    expect(row.account_name).toBe("Alice Example");
    expect(row.refresh_token).toMatch(/^v1\./);

    const token = await svc.server.inject({ method: "GET", url: "/api/v1/apps/acme/connections/host-user-1/token", headers: svc.headers });
    expect(token.statusCode, token.body).toBe(200);
    const { accessToken } = token.json();
    expect(row.access_token).not.toContain(accessToken);
    const resource = await fetch(provider.endpoints.resource, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(resource.status).toBe(200);
    expect((await resource.json()).sub).toBe("alice");
    const userinfo = await fetch(provider.endpoints.userinfo, { headers: { authorization: `Bearer ${accessToken}` } });
    expect((await userinfo.json()).email).toBe("alice@example.test");
    expect(svc.logs.text()).not.toContain(accessToken);
  });

  it("without returnTo, ends on a page naming the provider account", { timeout: 60_000 }, async () => {
    const page = await newPage();
    const response = page.waitForResponse((r) => r.url().startsWith(`${publicUrl}/oauth/callback/acme`));
    await page.goto(await mint("host-user-2"));
    await signInAtProvider(page);
    await page.getByRole("button", { name: "Continue" }).click();
    const callback = await response;
    expect(callback.headers()["referrer-policy"]).toBe("no-referrer");
    expect(callback.headers()["cache-control"]).toBe("no-store");
    await page.getByRole("status").waitFor();
    expect(await page.getByRole("status").textContent()).toContain("alice@example.test");
    await page.context().close();
    expect(await connectionOf("host-user-2")).toBeDefined();
  });

  it("denying at consent lands on returnTo with error=access_denied and stores nothing", { timeout: 60_000 }, async () => {
    const page = await newPage();
    await page.goto(await mint("host-user-deny", `${host.url}/after`));
    await signInAtProvider(page);
    await page.getByRole("link", { name: "[ Cancel ]" }).click();
    await page.waitForURL((u) => u.origin === host.url);
    expect(new URL(page.url()).searchParams.get("error")).toBe("access_denied");
    expect(new URL(page.url()).searchParams.get("connected")).toBeNull();
    await page.context().close();
    expect(await connectionOf("host-user-deny")).toBeUndefined();
    expect(await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", "host-user-deny").execute()).toEqual([]);
  });

  it("the callback opened in another browser is refused (browser_mismatch) and stores nothing; the first browser can still finish", { timeout: 60_000 }, async () => {
    const page = await newPage();
    // Started in the first browser; the authorization response is then taken elsewhere.
    const callbackUrl = await authorizationResponse(page, "host-user-moved");
    expect(callbackUrl.origin + callbackUrl.pathname).toBe(`${publicUrl}/oauth/callback/acme`);

    const otherPage = await newPage();
    const answer = await otherPage.goto(callbackUrl.toString());
    expect(answer!.status()).toBe(400);
    expect(await otherPage.locator("code").textContent()).toBe("browser_mismatch");
    await otherPage.context().close();
    expect(await connectionOf("host-user-moved")).toBeUndefined();

    await page.goto(callbackUrl.toString());
    await page.waitForURL((u) => u.origin === host.url);
    expect(new URL(page.url()).searchParams.get("connected")).toBe("acme");
    await page.context().close();
    expect(await connectionOf("host-user-moved")).toBeDefined();
  });

  it("a replayed authorization response in the same browser lands with error=invalid_state; the connection is made once", { timeout: 60_000 }, async () => {
    const page = await newPage();
    const response = await authorizationResponse(page, "host-user-replay");
    await page.goto(response.toString());
    await page.waitForURL((u) => u.origin === host.url && u.searchParams.has("connected"));
    await page.goto(response.toString());
    await page.waitForURL((u) => u.origin === host.url && u.searchParams.has("error"));
    expect(new URL(page.url()).searchParams.get("error")).toBe("invalid_state");
    await page.context().close();
    expect(await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", "host-user-replay").execute()).toEqual([{ type: "connection.created" }]);
  });

  it("an authorization response whose iss was changed lands with error=invalid_issuer and stores nothing", { timeout: 60_000 }, async () => {
    const page = await newPage();
    const response = await authorizationResponse(page, "host-user-mixup");
    expect(response.searchParams.get("iss")).toBe(provider.issuer);
    response.searchParams.set("iss", "http://127.0.0.1:1/other-issuer");
    await page.goto(response.toString());
    await page.waitForURL((u) => u.origin === host.url);
    expect(new URL(page.url()).searchParams.get("error")).toBe("invalid_issuer");
    await page.context().close();
    expect(await connectionOf("host-user-mixup")).toBeUndefined();
  });

  it("logs no token, code or client secret", () => {
    const text = svc.logs.text();
    expect(text).not.toContain(CLIENT_SECRET);
    expect(text).not.toMatch(/[?&]code=(?!\[REDACTED\])/);
    expect(text).not.toMatch(/[?&]session=(?!\[REDACTED\])/);
  });
});
