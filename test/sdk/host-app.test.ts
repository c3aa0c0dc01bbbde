// The example host app (examples/host-app) against a real service on both databases, over HTTP:
// its sign-in, its Connect buttons, its webhook receiver, its connections list and a proxied
// call that returns the user's data from a provider API. The browser run with a real connect
// flow is host-app.browser.test.ts.
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHostApp } from "../../examples/host-app/host-app.ts";
import { Accounts, parseUsers } from "../../examples/host-app/users.ts";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { ConnectedApps } from "../../src/sdk/index.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const WEBHOOK_SECRET = "sentinel-webhook-secret-2f81";
const ALICE_TOKEN = "sentinel-alice-access-token-77aa";

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const close = (server: Server | undefined) => new Promise<void>((r) => (server ? server.close(() => r()) : r()));

/** A provider API that answers /me with the data of whoever's token it gets. */
function providerApi(): Server {
  return createServer((req, res) => {
    if (req.url === "/me" && req.headers.authorization === `Bearer ${ALICE_TOKEN}`) {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sub: "alice-sub", email: "alice@acme.test", mailbox: "Alice's inbox" }));
      return;
    }
    res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_token" }));
  });
}

const sign = (body: string, t = Math.floor(Date.now() / 1000), secret = WEBHOOK_SECRET) =>
  `t=${t},v1=${createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")}`;

describe.each(dialects)("example host app on %s", (dialect) => {
  let svc: TestService;
  let api: Server;
  let host: ReturnType<typeof createHostApp>;
  let hostUrl: string;
  let cookie = "";

  const hostFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${hostUrl}${path}`, { redirect: "manual", ...init, headers: { cookie, ...(init.headers as Record<string, string>) } });
  const csrf = async () => /name="csrf" value="([^"]+)"/.exec(await (await hostFetch("/")).text())![1]!;
  const postForm = (path: string, fields: Record<string, string>) =>
    hostFetch(path, { method: "POST", body: new URLSearchParams(fields), headers: { "content-type": "application/x-www-form-urlencoded" } });

  beforeAll(async () => {
    svc = await startTestService(dialect);
    const baseUrl = await svc.server.listen({ port: 0, host: "127.0.0.1" });
    api = providerApi();
    const apiUrl = await listen(api);
    const ca = new ConnectedApps({ baseUrl, apiKey: svc.apiKey });
    await ca.apps.create({ id: "acme", name: "Acme", clientId: "acme-client", authorizationEndpoint: "https://login.acme.test/authorize", tokenEndpoint: "https://login.acme.test/token", apiBaseUrl: apiUrl });
    host = createHostApp({ ca, accounts: new Accounts(parseUsers("alice@example.com:alice-pw,bob@example.com:bob-pw")), publicUrl: "http://localhost:0", webhookSecret: WEBHOOK_SECRET });
    hostUrl = await listen(host.server);
  });
  afterAll(async () => {
    await close(host?.server);
    await close(api);
    await svc?.close();
  });

  it("sends a visitor who is not signed in to the login page", async () => {
    const res = await hostFetch("/");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/login");
  });

  it("refuses a wrong password", async () => {
    const res = await postForm("/login", { email: "alice@example.com", password: "nope" });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
  });

  it("signs alice in and shows a Connect button for each app", async () => {
    const res = await postForm("/login", { email: "alice@example.com", password: "alice-pw" });
    expect(res.status).toBe(303);
    cookie = res.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await hostFetch("/")).text();
    expect(page).toContain("Signed in as alice@example.com");
    expect(page).toContain("Connect to Acme");
  });

  it("refuses a Connect post without the form token", async () => {
    const res = await postForm("/connect/acme", {});
    expect(res.status).toBe(403);
  });

  it("accepts a signed webhook once and shows it to the user it is about", async () => {
    const body = JSON.stringify({ id: "evt_host_1", type: "connection.created", createdAt: new Date().toISOString(), data: { appId: "acme", userId: "alice" } });
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${hostUrl}/webhooks`, { method: "POST", body, headers: { "content-type": "application/json", "connected-apps-signature": sign(body) } });
      expect(res.status).toBe(204);
    }
    expect(host.received.filter((e) => e.id === "evt_host_1")).toHaveLength(1);
    expect(await (await hostFetch("/")).text()).toMatch(/<code>connection\.created<\/code> acme/);
  });

  it("refuses a forged webhook and keeps nothing of it", async () => {
    const body = JSON.stringify({ id: "evt_forged", type: "connection.deleted", createdAt: new Date().toISOString(), data: { appId: "acme", userId: "alice" } });
    const res = await fetch(`${hostUrl}/webhooks`, { method: "POST", body, headers: { "connected-apps-signature": sign(body, undefined, "wrong-secret") } });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("refused: signature_mismatch");
    expect(host.received.map((e) => e.id)).not.toContain("evt_forged");
  });

  it("refuses a replayed (stale) webhook", async () => {
    const body = JSON.stringify({ id: "evt_old", type: "connection.deleted", createdAt: new Date().toISOString(), data: { appId: "acme", userId: "alice" } });
    const res = await fetch(`${hostUrl}/webhooks`, { method: "POST", body, headers: { "connected-apps-signature": sign(body, Math.floor(Date.now() / 1000) - 600) } });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe("refused: stale");
  });

  it("lists alice's connection and calls the provider's API as her through the proxy", async () => {
    await saveConnection(svc.ctx, {
      appId: "acme",
      userId: "alice",
      tokens: { accessToken: ALICE_TOKEN, tokenType: "Bearer", refreshToken: null, idToken: null, expiresIn: 3600, scopes: ["profile"] },
      account: { sub: "alice-sub", email: "alice@acme.test", name: "Alice" },
      requestedScopes: ["profile"],
    });
    const page = await (await hostFetch("/")).text();
    expect(page).toMatch(/Acme: <strong>active<\/strong> as alice@acme\.test/);
    const res = await postForm("/call/acme", { csrf: await csrf(), path: "/me" });
    expect(res.status).toBe(200);
    const result = await res.text();
    expect(result).toContain("Acme answered 200");
    expect(result).toContain("Alice&#39;s inbox");
    expect(result).not.toContain(ALICE_TOKEN);
  });

  it("does not show alice's connection or webhooks to bob", async () => {
    const res = await postForm("/login", { email: "bob@example.com", password: "bob-pw" });
    const bob = res.headers.get("set-cookie")!.split(";")[0]!;
    const page = await (await fetch(`${hostUrl}/`, { headers: { cookie: bob } })).text();
    expect(page).toContain("Signed in as bob@example.com");
    expect(page).toContain("Connect to Acme");
    expect(page).not.toContain("alice@acme.test");
    expect(page).not.toContain("connection.created");
  });

  it("disconnects alice", async () => {
    const res = await postForm("/disconnect/acme", { csrf: await csrf() });
    expect(res.status).toBe(303);
    expect(await (await hostFetch("/")).text()).toContain("Connect to Acme");
    expect(await svc.ctx.db.selectFrom("connections").select("id").where("user_id", "=", "alice").execute()).toEqual([]);
  });

  it("leaves no token or secret in the service's logs", () => {
    for (const s of [ALICE_TOKEN, WEBHOOK_SECRET, svc.apiKey]) expect(svc.logs.text()).not.toContain(s);
  });
});
