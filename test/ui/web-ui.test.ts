// The web UI in Chromium against oidc-provider (SPEC §5): first administrator, the admin path of
// the Connected App form (Get OpenID Configuration, Save, Redirect URI, client settings, Save),
// Connect in a new tab through the provider's login and consent, the connection on `/`, and
// Disconnect. Every page's HTML is kept and checked for the client-secret sentinel. Screenshots
// go to docs/screenshots/.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { createUser } from "../../src/accounts/user-service.ts";
import { launchBrowser, type TestBrowser } from "../support/browser.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import type { TestService } from "../support/test-service.ts";
import { startListeningService } from "./listening-service.ts";

const SECRET = "sentinel-client-secret-ui-4b9e21";
const ADMIN = { email: "admin@example.test", password: "sentinel-admin-password-93c1" };
// The pictures in docs/ change with every run (the port is in them), so they are written there
// only when asked (UPDATE_SCREENSHOTS=1); otherwise to a temp folder, still taken and looked at.
const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? new URL("../../docs/screenshots/", import.meta.url).pathname : `${mkdtempSync(join(tmpdir(), "ca-shots-"))}/`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("web UI in Chromium (sqlite)", () => {
  let svc: TestService & { origin: string };
  let op: TestOidcProvider;
  let browser: TestBrowser;
  let page: Page;
  const pagesSeen: string[] = [];

  beforeAll(async () => {
    svc = await startListeningService("sqlite");
    op = await startOidcProvider({
      clients: [
        {
          client_id: "ui-client",
          client_secret: SECRET,
          redirect_uris: [`${svc.origin}/oauth/callback/acme-id`],
          grant_types: ["authorization_code", "refresh_token"],
          response_types: ["code"],
          token_endpoint_auth_method: "client_secret_basic",
          scope: "openid email profile offline_access",
        },
      ],
      accounts: { alice: { email: "alice@example.test", name: "Alice Example" } },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    page.setDefaultTimeout(10_000);
    browser.context.on("response", async (res) => {
      if (!res.url().startsWith(svc.origin)) return;
      if (!(res.headers()["content-type"] ?? "").includes("text/html")) return;
      try {
        pagesSeen.push(await res.text());
      } catch {
        // a redirect has no body
      }
    });
  });
  afterAll(async () => {
    await browser?.close();
    await op?.close();
    await svc?.close();
  });

  const field = (label: string) => page.getByLabel(label, { exact: true });
  const button = (name: string) => page.getByRole("button", { name, exact: true });

  it("creates the first administrator at /setup, then signs in", async () => {
    await page.goto(`${svc.origin}/`);
    expect(new URL(page.url()).pathname).toBe("/setup");
    await page.screenshot({ path: `${SHOTS}setup.png` });
    await field("Email").fill(ADMIN.email);
    await field("Password").fill(ADMIN.password);
    await button("Create administrator").click();
    await page.waitForURL(/\/login/);
    await field("Email").fill(ADMIN.email);
    await field("Password").fill(ADMIN.password);
    await page.screenshot({ path: `${SHOTS}login.png` });
    await button("Sign in").click();
    await page.waitForURL(`${svc.origin}/`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Connections");
  });

  it("shows a clear message for a discovery URL that cannot be reached, and saves nothing", async () => {
    await page.goto(`${svc.origin}/apps/new`);
    await field("OpenID Configuration URL").fill("http://127.0.0.1:9/.well-known/openid-configuration");
    await button("Get OpenID Configuration").click();
    const result = page.locator("#discovery-result");
    await until("the discovery error", async () => /Could not reach the provider/.test((await result.textContent()) ?? ""));
    expect(await field("Authorization URI").inputValue()).toBe("");
    await field("OpenID Configuration URL").fill("not a url");
    await button("Get OpenID Configuration").click();
    await until("the bad URL message", async () => /This URL cannot be used/.test((await result.textContent()) ?? ""));
    expect(await svc.ctx.db.selectFrom("apps").select("id").execute()).toEqual([]);
  });

  it("keeps the values and shows the error beside the field when Save is refused", async () => {
    await page.goto(`${svc.origin}/apps/new`);
    await field("Name").fill("Acme ID");
    await field("Token URI").fill("not a url");
    await button("Save").click();
    await page.waitForLoadState();
    expect(await field("Name").inputValue()).toBe("Acme ID");
    expect(await field("Token URI").inputValue()).toBe("not a url");
    expect(await page.locator("#f-tokenEndpoint-error").textContent()).toMatch(/http\(s\) URL/);
    expect(await field("Token URI").getAttribute("aria-invalid")).toBe("true");
    await page.screenshot({ path: `${SHOTS}app-form-errors.png` });
    expect(await svc.ctx.db.selectFrom("apps").select("id").execute()).toEqual([]);
  });

  it("fills the endpoints with Get OpenID Configuration, saves, and shows the Redirect URI", async () => {
    await page.goto(`${svc.origin}/apps/new`);
    await field("Name").fill("Acme ID");
    await field("OpenID Configuration URL").fill(op.endpoints.discovery);
    await button("Get OpenID Configuration").click();
    await until("the endpoints to fill", async () => (await field("Authorization URI").inputValue()) === op.endpoints.authorization);
    expect(await field("Token URI").inputValue()).toBe(op.endpoints.token);
    expect(await field("Revocation URI").inputValue()).toBe(op.endpoints.revocation);
    expect(await field("Userinfo URI").inputValue()).toBe(op.endpoints.userinfo);
    expect(await page.locator("#discovery-result").textContent()).toContain(op.issuer);
    await page.screenshot({ path: `${SHOTS}app-form-discovered.png` });
    expect(await svc.ctx.db.selectFrom("apps").select("id").execute()).toEqual([]); // not saved yet
    await button("Save").click();
    await page.waitForURL(`${svc.origin}/apps/acme-id?saved=1`);
    expect(await field("Redirect URI").inputValue()).toBe(`${svc.origin}/oauth/callback/acme-id`);
    expect(await field("Redirect URI").getAttribute("readonly")).not.toBeNull();
    await button("Copy").click();
    await until("the copy confirmation", async () => (await page.locator("#copy-status").textContent()) === "Copied.");
  });

  it("saves the client id, secret, scopes and extra parameters; the secret is only marked as set", async () => {
    await field("Client ID").fill("ui-client");
    await field("Client Secret").fill(SECRET);
    await field("Scopes").fill("openid email profile offline_access");
    await field("Extra parameters").fill("prompt=consent\nui_locales=en");
    await field("API base URL").fill(`${op.issuer}/resource`);
    await button("Save").click();
    await page.waitForURL(`${svc.origin}/apps/acme-id?saved=1`);
    expect(await field("Client ID").inputValue()).toBe("ui-client");
    expect(await field("Client Secret").inputValue()).toBe("");
    expect(await page.locator("#secret-set").textContent()).toBe("set");
    expect(await field("Extra parameters").inputValue()).toBe("prompt=consent\nui_locales=en");
    const row = await svc.ctx.db.selectFrom("apps").selectAll().where("id", "=", "acme-id").executeTakeFirstOrThrow();
    expect(row.client_secret).not.toBeNull();
    expect(row.client_secret).not.toContain(SECRET);
    expect(JSON.parse(row.scopes)).toEqual(["openid", "email", "profile", "offline_access"]);
    expect(JSON.parse(row.extra_params)).toEqual({ prompt: "consent", ui_locales: "en" });
    expect(row.authorization_endpoint).toBe(op.endpoints.authorization);
    await page.screenshot({ path: `${SHOTS}app-form.png`, fullPage: true });

    // Saving again with the secret left blank keeps it.
    await field("Scopes").fill("openid email profile offline_access");
    await button("Save").click();
    await page.waitForURL(`${svc.origin}/apps/acme-id?saved=1`);
    const again = await svc.ctx.db.selectFrom("apps").select("client_secret").where("id", "=", "acme-id").executeTakeFirstOrThrow();
    expect(again.client_secret).toBe(row.client_secret);
  });

  it("connects in a new tab through the provider's login and consent", async () => {
    const [popup] = await Promise.all([page.waitForEvent("popup"), button("Connect to Acme ID").click()]);
    popup.setDefaultTimeout(10_000);
    await popup.waitForLoadState();
    expect(popup.url().startsWith(op.issuer)).toBe(true);
    await popup.locator('input[name="login"]').fill("alice");
    await popup.locator('input[name="password"]').fill("anything");
    await popup.getByRole("button", { name: "Sign-in" }).click();
    await popup.getByRole("button", { name: "Continue" }).click();
    await popup.waitForURL(`${svc.origin}/apps/acme-id?connected=acme-id`);
    const rows = await svc.ctx.db.selectFrom("connections").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.account_email).toBe("alice@example.test");
    await popup.close();
    await page.reload();
    expect(await page.locator("#app-connections-title + table").textContent()).toContain("alice@example.test");
    expect(await page.locator("#app-events-title + table").textContent()).toContain("connection.created");
  });

  it("shows the connection on / with status, account, scopes and expiry, and disconnects it", async () => {
    await page.goto(`${svc.origin}/`);
    const item = page.locator("li", { has: page.getByRole("heading", { name: /Acme ID/ }) }).filter({ has: button("Disconnect") });
    const text = (await item.textContent()) ?? "";
    expect(text).toContain("Connected");
    expect(text).toContain("alice@example.test");
    expect(text).toContain("openid");
    expect(text).toMatch(/Expires\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(await button("Connect to Acme ID").count()).toBe(1);
    await page.screenshot({ path: `${SHOTS}home.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "dark" });
    await page.screenshot({ path: `${SHOTS}home-dark.png`, fullPage: true });
    await page.emulateMedia({ colorScheme: "light" });

    // A connection whose refresh token was refused says so and offers Reconnect.
    await svc.ctx.db.updateTable("connections").set({ status: "needs_reconnect", last_error: "invalid_grant: grant revoked" }).execute();
    await page.reload();
    const stale = (await item.textContent()) ?? "";
    expect(stale).toContain("Needs reconnecting");
    expect(stale).toContain("invalid_grant: grant revoked");
    expect(await item.getByRole("button", { name: "Reconnect", exact: true }).count()).toBe(1);
    expect(await item.locator("form[action='/connect/acme-id']").getAttribute("method")).toBe("get");
    await button("Disconnect").click();
    await page.waitForURL(`${svc.origin}/?disconnected=acme-id`);
    expect(await page.getByRole("status").first().textContent()).toContain("Disconnected from Acme ID");
    expect(await svc.ctx.db.selectFrom("connections").select("id").execute()).toEqual([]);
  });

  it("fills the form from a template, its parameter in the URLs", async () => {
    await page.goto(`${svc.origin}/apps/new`);
    await page.getByLabel("Start from a template").selectOption("microsoft");
    await until("the template to fill", async () => (await field("Name").inputValue()) === "Microsoft");
    expect(await field("Authorization URI").inputValue()).toBe("https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
    expect(await field("Scopes").inputValue()).toContain("offline_access");
    await page.getByLabel("Template parameter tenant").fill("contoso.onmicrosoft.com");
    expect(await field("Token URI").inputValue()).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    await field("Client ID").fill("ms-client");
    await button("Save").click();
    await page.waitForURL(`${svc.origin}/apps/microsoft?saved=1`);
    const row = await svc.ctx.db.selectFrom("apps").selectAll().where("id", "=", "microsoft").executeTakeFirstOrThrow();
    expect(row.template).toBe("microsoft");
    expect(row.token_endpoint).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  });

  it("refuses a form post without its CSRF token (403 page), changing nothing", async () => {
    await page.goto(`${svc.origin}/apps/acme-id`);
    await page.evaluate(() => document.querySelector<HTMLInputElement>('#app-form input[name="_csrf"]')!.remove());
    await field("Name").fill("Renamed");
    await button("Save").click();
    await page.waitForLoadState();
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Request refused");
    const row = await svc.ctx.db.selectFrom("apps").select("name").where("id", "=", "acme-id").executeTakeFirstOrThrow();
    expect(row.name).toBe("Acme ID");
  });

  it("a wrong password shows an error and stores no session; a non-admin gets 403 at /apps/new", async () => {
    await createUser(svc.ctx, { email: "member@example.test", password: ADMIN.password });
    const other = await browser.newContext();
    const p = await other.newPage();
    p.setDefaultTimeout(10_000);
    await p.goto(`${svc.origin}/login`);
    await p.getByLabel("Email", { exact: true }).fill("member@example.test");
    await p.getByLabel("Password", { exact: true }).fill("wrong password");
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    await p.waitForLoadState();
    expect(await p.getByRole("alert").textContent()).toContain("The email or password is not right.");
    const member = await svc.ctx.db.selectFrom("users").select("id").where("email", "=", "member@example.test").executeTakeFirstOrThrow();
    expect(await svc.ctx.db.selectFrom("web_sessions").select("id_hash").where("user_id", "=", member.id).execute()).toEqual([]);
    await p.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    await p.waitForURL(`${svc.origin}/`);
    expect(await p.getByRole("link", { name: "New app" }).count()).toBe(0);
    const res = await p.goto(`${svc.origin}/apps/new`);
    expect(res?.status()).toBe(403);
    expect(await p.getByRole("alert").textContent()).toContain("Only administrators");
    await other.close();
  });

  it("can be used from the keyboard: a skip link first, then the fields in order, Enter submits", async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    p.setDefaultTimeout(10_000);
    await p.goto(`${svc.origin}/login`);
    const focused = () => p.evaluate(() => document.activeElement?.textContent?.trim() || document.activeElement?.getAttribute("name") || "");
    await p.keyboard.press("Tab");
    expect(await focused()).toBe("Skip to content");
    await p.keyboard.press("Tab");
    expect(await focused()).toBe("connected-apps");
    await p.keyboard.press("Tab");
    expect(await focused()).toBe("email");
    await p.keyboard.type(ADMIN.email);
    await p.keyboard.press("Tab");
    expect(await focused()).toBe("password");
    await p.keyboard.type(ADMIN.password);
    await p.keyboard.press("Enter");
    await p.waitForURL(`${svc.origin}/`);
    await other.close();
  });

  it("never puts the client secret into a page, nor the log", () => {
    expect(pagesSeen.length).toBeGreaterThan(8);
    for (const html of pagesSeen) expect(html).not.toContain(SECRET);
    expect(svc.logs.text()).not.toContain(SECRET);
    expect(svc.logs.text()).not.toContain(ADMIN.password);
  });
});
