// The example host app end to end in Chromium (issue 8), on both databases: sign in at the host
// app, Connect to Acme through a connect session and oidc-provider's login and consent, land back
// at the host app connected, and call the provider's API through the proxy as that user.
import type { Server } from "node:http";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostApp } from "../../examples/host-app/host-app.ts";
import { Accounts, parseUsers } from "../../examples/host-app/users.ts";
import { startOutboxWorker, type OutboxWorker } from "../../src/events/outbox-worker.ts";
import { ConnectedApps } from "../../src/sdk/index.ts";
import { launchBrowser, type TestBrowser } from "../support/browser.ts";
import { dialects } from "../support/databases.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { freePort } from "./free-port.ts";

const CLIENT_SECRET = "sentinel-host-e2e-client-secret-41d0";
const WEBHOOK_SECRET = "sentinel-host-e2e-webhook-secret-c3b7";

describe.each(dialects)("example host app in Chromium on %s", (dialect) => {
  let oidc: TestOidcProvider;
  let svc: TestService;
  let host: { server: Server; received: import("../../src/sdk/index.ts").WebhookEvent[] };
  let hostUrl: string;
  let browser: TestBrowser;
  let page: Page;
  let outbox: OutboxWorker;

  beforeAll(async () => {
    const servicePort = await freePort();
    const hostPort = await freePort();
    // SPEC: the product (and here the host app) on localhost, the authorization server on 127.0.0.1.
    const publicUrl = `http://localhost:${servicePort}`;
    hostUrl = `http://localhost:${hostPort}`;
    oidc = await startOidcProvider({
      clients: [
        {
          client_id: "host-e2e",
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${publicUrl}/oauth/callback/acme`],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic",
          scope: "openid email profile",
        },
      ],
      accounts: { "alice-at-acme": { email: "alice@acme.test", name: "Alice Acme" } },
    });
    svc = await startTestService(dialect, {
      env: { PUBLIC_URL: publicUrl, WEBHOOK_URL: `${hostUrl}/webhooks`, WEBHOOK_SECRET },
    });
    await svc.server.listen({ port: servicePort, host: "127.0.0.1" });
    // What `serve` runs beside the server: the webhook sender, polling quickly for the test.
    outbox = startOutboxWorker(svc.ctx, { pollMs: 100 });
    const ca = new ConnectedApps({ baseUrl: publicUrl, apiKey: svc.apiKey });
    await ca.apps.create({
      id: "acme",
      name: "Acme",
      ...oidc.appFields({ clientId: "host-e2e" }),
      clientSecret: CLIENT_SECRET,
      scopes: ["openid", "email", "profile"],
      // The provider's API: its userinfo endpoint answers the signed-in user's claims.
      apiBaseUrl: oidc.issuer,
    });
    host = createHostApp({ ca, accounts: new Accounts(parseUsers("alice@example.com:alice-pw")), publicUrl: hostUrl, webhookSecret: WEBHOOK_SECRET });
    await new Promise<void>((r) => host.server.listen(hostPort, "127.0.0.1", r));
    browser = await launchBrowser();
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await outbox?.stop();
    await new Promise<void>((r) => (host ? host.server.close(() => r()) : r()));
    await svc?.close();
    await oidc?.close();
  });

  it("signs alice in at the host app", async () => {
    await page.goto(`${hostUrl}/`);
    await page.getByLabel("Email").fill("alice@example.com");
    await page.getByLabel("Password").fill("alice-pw");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => page.getByText("Signed in as alice@example.com").count()).toBe(1);
  });

  it("connects Acme through a connect session, the provider's login and consent", async () => {
    await page.getByRole("button", { name: "Connect to Acme" }).click();
    // oidc-provider's development interactions.
    await page.locator('input[name="login"]').fill("alice-at-acme");
    await page.locator('input[name="password"]').fill("any");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.waitForURL((url) => url.origin === hostUrl && url.searchParams.get("connected") === "acme");
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Connected acme.");
    expect(await page.locator('li[data-app="acme"]').textContent()).toMatch(/Acme: active as alice@acme\.test/);
  });

  it("sees the connection as the host app's user at the service", async () => {
    const ca = new ConnectedApps({ baseUrl: svc.config.publicUrl, apiKey: svc.apiKey });
    const c = await ca.connections.get("acme", "alice");
    expect(c).toMatchObject({ appId: "acme", userId: "alice", status: "active", account: { sub: "alice-at-acme", email: "alice@acme.test" } });
  });

  it("receives the signed connection.created webhook and shows it to alice", async () => {
    await expect.poll(() => host.received.map((e) => [e.type, e.data.appId, e.data.userId]), { timeout: 10_000 }).toContainEqual(["connection.created", "acme", "alice"]);
    await page.reload();
    expect(await page.locator("#webhooks").textContent()).toMatch(/connection\.created acme/);
  });

  it("calls the provider's API through the proxy and shows alice's data", async () => {
    await page.locator('li[data-app="acme"]').getByLabel("API path").fill("/me");
    await page.getByRole("button", { name: "Call Acme" }).click();
    await expect.poll(() => page.getByRole("heading").textContent()).toBe("Acme answered 200");
    const data = JSON.parse((await page.locator("#result").textContent())!) as Record<string, unknown>;
    expect(data).toMatchObject({ sub: "alice-at-acme", email: "alice@acme.test", name: "Alice Acme" });
  });

  it("shows no secret or token on the host app's pages or in the service's logs", async () => {
    await page.goto(`${hostUrl}/`);
    const html = await page.content();
    const logs = svc.logs.text();
    for (const s of [CLIENT_SECRET, WEBHOOK_SECRET, svc.apiKey]) {
      expect(html).not.toContain(s);
      expect(logs).not.toContain(s);
    }
  });
});
