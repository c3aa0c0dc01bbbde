// The SDK against a real running service on a real port, on both databases: every method whose
// route exists, with the answers and the problems a host app sees.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { ConnectedApps, ConnectedAppsError, ConnectedAppsNetworkError, type App } from "../../src/sdk/index.ts";
import { dialects } from "../support/databases.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { freePort } from "./free-port.ts";

const CLIENT_SECRET = "sentinel-sdk-client-secret-91c2";
const ACCESS_TOKEN = "sentinel-sdk-access-token-5e7a";
const REFRESH_TOKEN = "sentinel-sdk-refresh-token-0d44";
// A host app's user id with every character that must be encoded in a path segment.
const ODD_USER = "tenant/7 user?x=1#frag%2F@example.com";

async function rejection(p: Promise<unknown>): Promise<ConnectedAppsError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectedAppsError);
    return e as ConnectedAppsError;
  }
  throw new Error("expected a ConnectedAppsError");
}

describe.each(dialects)("SDK against a running service on %s", (dialect) => {
  let svc: TestService;
  let ca: ConnectedApps;
  let baseUrl: string;
  // A provider API that echoes what the proxy sent it.
  let api: Server;
  let apiUrl: string;

  const appCount = async () => (await svc.ctx.db.selectFrom("apps").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n;

  beforeAll(async () => {
    svc = await startTestService(dialect);
    await svc.server.listen({ port: 0, host: "127.0.0.1" });
    baseUrl = `http://127.0.0.1:${(svc.server.server.address() as AddressInfo).port}`;
    ca = new ConnectedApps({ baseUrl, apiKey: svc.apiKey });
    api = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        res.writeHead(req.headers.authorization === `Bearer ${ACCESS_TOKEN}` ? 200 : 401, { "content-type": "application/json", "x-provider": "yes" });
        res.end(JSON.stringify({ method: req.method, url: req.url, body, sawKey: JSON.stringify(req.headers).includes(svc.apiKey) }));
      });
    });
    await new Promise<void>((r) => api.listen(0, "127.0.0.1", r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => (api ? api.close(() => r()) : r()));
    await svc?.close();
  });

  describe("apps", () => {
    let created: App;

    it("creates an app and answers it typed, the secret write-only", async () => {
      created = await ca.apps.create({
        name: "Acme Mail",
        clientId: "acme-client",
        clientSecret: CLIENT_SECRET,
        scopes: ["openid", "email"],
        authorizationEndpoint: "https://login.acme.test/authorize",
        tokenEndpoint: "https://login.acme.test/token",
        apiBaseUrl: "https://api.acme.test/v1",
      });
      expect(created).toMatchObject({ id: "acme-mail", name: "Acme Mail", hasClientSecret: true, pkce: "auto" });
      expect(created.redirectUri).toBe(`${svc.config.publicUrl}/oauth/callback/acme-mail`);
      expect(JSON.stringify(created)).not.toContain(CLIENT_SECRET);
    });

    it("lists and gets apps", async () => {
      const { items } = await ca.apps.list();
      expect(items.map((a) => a.id)).toContain("acme-mail");
      expect(await ca.apps.get("acme-mail")).toEqual(created);
    });

    it("updates an app; id and redirectUri stay", async () => {
      const updated = await ca.apps.update("acme-mail", { name: "Acme Mail 2", scopes: ["openid"] });
      expect(updated).toMatchObject({ id: "acme-mail", name: "Acme Mail 2", scopes: ["openid"], redirectUri: created.redirectUri });
    });

    it("creates from a template", async () => {
      const app = await ca.apps.create({ template: "google", clientId: "g-client", clientSecret: CLIENT_SECRET });
      expect(app).toMatchObject({ id: "google", template: "google" });
      expect(app.authorizationEndpoint).toMatch(/^https:\/\/accounts\.google\.com\//);
    });

    it("maps 404 not_found for an unknown app", async () => {
      const err = await rejection(ca.apps.get("no-such-app"));
      expect(err).toMatchObject({ code: "not_found", status: 404 });
      expect(err.detail).toContain("no-such-app");
    });

    it("maps 409 conflict for a taken id and stores nothing", async () => {
      const before = await appCount();
      expect(await rejection(ca.apps.create({ id: "acme-mail", name: "Again" }))).toMatchObject({ code: "conflict", status: 409 });
      expect(await appCount()).toBe(before);
    });

    it("maps 400 invalid_request for an unknown field, naming it, and stores nothing", async () => {
      const before = await appCount();
      // A caller without types (or with a stale copy) can still send one.
      const err = await rejection(ca.apps.create({ name: "Bad", colour: "red" } as never));
      expect(err).toMatchObject({ code: "invalid_request", status: 400 });
      expect(err.detail).toContain("colour");
      expect(await appCount()).toBe(before);
    });

    it("maps 400 invalid_request for a bad value and stores nothing", async () => {
      const before = await appCount();
      const err = await rejection(ca.apps.create({ name: "Bad", tokenEndpoint: "ftp://x.test/token" }));
      expect(err).toMatchObject({ code: "invalid_request", status: 400 });
      expect(err.detail).toContain("tokenEndpoint");
      expect(await appCount()).toBe(before);
    });

    it("maps 401 unauthorized for a wrong API key", async () => {
      const stranger = new ConnectedApps({ baseUrl, apiKey: "ca_not-a-real-key" });
      expect(await rejection(stranger.apps.list())).toMatchObject({ code: "unauthorized", status: 401 });
    });

    it("deletes an app", async () => {
      await ca.apps.create({ name: "Short Lived" });
      await expect(ca.apps.delete("short-lived")).resolves.toBeUndefined();
      expect(await rejection(ca.apps.get("short-lived"))).toMatchObject({ code: "not_found" });
    });
  });

  describe("the app's own token (client credentials)", () => {
    let oidc: TestOidcProvider;
    beforeAll(async () => {
      oidc = await startOidcProvider();
      await ca.apps.create({ id: "backend", name: "Backend", ...oidc.appFields(), clientSecret: oidc.client.clientSecret, scopes: ["api:read"] });
    });
    afterAll(async () => oidc?.close());

    it("answers a token from the provider, the same one while it is valid", async () => {
      const first = await ca.apps.token("backend");
      expect(first.accessToken).toBeTruthy();
      expect(first.tokenType.toLowerCase()).toBe("bearer");
      expect(Date.parse(first.expiresAt!)).toBeGreaterThan(Date.now());
      expect((await ca.apps.token("backend")).accessToken).toBe(first.accessToken);
      // The provider issued it, to this client.
      const issued = await oidc.provider.ClientCredentials.find(first.accessToken);
      expect(issued?.clientId).toBe(oidc.client.clientId);
    });

    it("maps 404 not_found for an unknown app", async () => {
      expect(await rejection(ca.apps.token("no-such-app"))).toMatchObject({ code: "not_found", status: 404 });
    });
  });

  describe("discovery", () => {
    let oidc: TestOidcProvider;
    beforeAll(async () => {
      oidc = await startOidcProvider();
    });
    afterAll(async () => oidc?.close());

    it("reads a provider's metadata from its issuer", async () => {
      const meta = await ca.discovery(oidc.issuer);
      expect(meta).toMatchObject({
        issuer: oidc.issuer,
        authorizationEndpoint: oidc.endpoints.authorization,
        tokenEndpoint: oidc.endpoints.token,
        jwksUri: oidc.endpoints.jwks,
        authorizationResponseIssParameterSupported: true,
      });
      expect(meta.codeChallengeMethodsSupported).toContain("S256");
    });

    it("reads it from the .well-known URL too", async () => {
      expect((await ca.discovery(oidc.endpoints.discovery)).issuer).toBe(oidc.issuer);
    });

    it("maps a malformed URL to 400 invalid_request", async () => {
      expect(await rejection(ca.discovery("not a url"))).toMatchObject({ code: "invalid_request", status: 400 });
    });

    it("maps a document that is not metadata to 502 provider_error", async () => {
      // The echo API answers JSON, but not provider metadata.
      expect(await rejection(ca.discovery(`${apiUrl}/v1`))).toMatchObject({ code: "provider_error", status: 502 });
    });

    it("maps an unreachable provider to 503 provider_unavailable", async () => {
      expect(await rejection(ca.discovery(`http://127.0.0.1:${await freePort()}`))).toMatchObject({ code: "provider_unavailable", status: 503 });
    });
  });

  describe("templates", () => {
    it("lists the built-in templates", async () => {
      const { items } = await ca.templates.list();
      const ids = items.map((t) => t.id);
      for (const id of ["google", "microsoft", "github", "slack", "keycloak"]) expect(ids).toContain(id);
      expect(items.find((t) => t.id === "microsoft")?.params).toContain("tenant");
    });
  });

  describe("connections", () => {
    beforeAll(async () => {
      for (const userId of [ODD_USER, "u42"]) {
        await saveConnection(svc.ctx, {
          appId: "acme-mail",
          userId,
          tokens: { accessToken: ACCESS_TOKEN, tokenType: "Bearer", refreshToken: REFRESH_TOKEN, idToken: null, expiresIn: 3600, scopes: ["openid", "email"] },
          account: { sub: `sub-${userId}`, email: "someone@acme.test", name: "Someone" },
          requestedScopes: ["openid", "email"],
        });
      }
    });

    it("gets a connection by a user id that needs encoding", async () => {
      const c = await ca.connections.get("acme-mail", ODD_USER);
      expect(c).toMatchObject({ appId: "acme-mail", userId: ODD_USER, status: "active", account: { sub: `sub-${ODD_USER}` } });
      expect(JSON.stringify(c)).not.toContain(ACCESS_TOKEN);
    });

    it("lists connections, filtered by status", async () => {
      expect((await ca.connections.list("acme-mail")).items.map((c) => c.userId).sort()).toEqual([ODD_USER, "u42"].sort());
      expect((await ca.connections.list("acme-mail", { status: "active" })).items).toHaveLength(2);
      expect((await ca.connections.list("acme-mail", { status: "needs_reconnect" })).items).toEqual([]);
    });

    it("hands out a token valid for minValidity", async () => {
      const token = await ca.connections.token("acme-mail", ODD_USER, { minValidity: 300 });
      expect(token).toMatchObject({ accessToken: ACCESS_TOKEN, tokenType: "Bearer", scopes: ["openid", "email"] });
      expect(Date.parse(token.expiresAt!) - Date.now()).toBeGreaterThan(300_000);
    });

    it("maps 400 invalid_request for a bad minValidity", async () => {
      expect(await rejection(ca.connections.token("acme-mail", "u42", { minValidity: -5 }))).toMatchObject({ code: "invalid_request", status: 400 });
    });

    it("maps 404 not_connected for a user with no connection", async () => {
      expect(await rejection(ca.connections.get("acme-mail", "nobody"))).toMatchObject({ code: "not_connected", status: 404 });
      expect(await rejection(ca.connections.token("acme-mail", "nobody"))).toMatchObject({ code: "not_connected", status: 404 });
    });

    it("maps 404 not_found for connections of an unknown app", async () => {
      expect(await rejection(ca.connections.list("no-such-app"))).toMatchObject({ code: "not_found", status: 404 });
    });

    it("proxy calls the provider API as the user and answers its raw Response", async () => {
      await ca.apps.update("acme-mail", { apiBaseUrl: `${apiUrl}/v1` });
      const res = await ca.proxy("acme-mail", ODD_USER, "/messages?q=is%3Aunread");
      expect(res).toBeInstanceOf(Response);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-provider")).toBe("yes");
      // The user's token reached the provider (200); the API key did not.
      expect(await res.json()).toEqual({ method: "GET", url: "/v1/messages?q=is%3Aunread", body: "", sawKey: false });
    });

    it("proxy passes the method and body through", async () => {
      const res = await ca.proxy("acme-mail", ODD_USER, "messages", { method: "POST", body: "hello", headers: { "content-type": "text/plain" } });
      expect(await res.json()).toEqual({ method: "POST", url: "/v1/messages", body: "hello", sawKey: false });
      expect(res.status).toBe(200);
    });

    it("proxy answers the service's own problem as a Response too (not connected)", async () => {
      const res = await ca.proxy("acme-mail", "nobody", "/messages");
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: "not_connected" });
    });

    it("deletes a connection; it is then not connected", async () => {
      await expect(ca.connections.delete("acme-mail", ODD_USER)).resolves.toBeUndefined();
      expect(await rejection(ca.connections.get("acme-mail", ODD_USER))).toMatchObject({ code: "not_connected" });
      expect((await ca.connections.list("acme-mail")).items.map((c) => c.userId)).toEqual(["u42"]);
    });
  });

  describe("provider failures on a token read", () => {
    let tokenEndpoint: Server;
    beforeAll(async () => {
      // /unavailable: a provider having a bad minute; /dead: a grant the user revoked.
      tokenEndpoint = createServer((req, res) => {
        req.resume();
        if (req.url === "/unavailable") res.writeHead(503, { "retry-after": "120" }).end();
        else res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_grant", error_description: "the user revoked access" }));
      });
      await new Promise<void>((r) => tokenEndpoint.listen(0, "127.0.0.1", r));
      const url = `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}`;
      for (const id of ["unavailable", "dead"]) {
        await ca.apps.create({ id, name: id, clientId: "c", clientSecret: CLIENT_SECRET, authorizationEndpoint: `${url}/authorize`, tokenEndpoint: `${url}/${id}` });
        // Expiring in a second: any read asking for 60 s of validity must refresh first.
        await saveConnection(svc.ctx, {
          appId: id,
          userId: "u1",
          tokens: { accessToken: ACCESS_TOKEN, tokenType: "Bearer", refreshToken: REFRESH_TOKEN, idToken: null, expiresIn: 1, scopes: [] },
          account: { sub: "s", email: null, name: null },
          requestedScopes: [],
        });
      }
    });
    afterAll(() => new Promise<void>((r) => (tokenEndpoint ? tokenEndpoint.close(() => r()) : r())));

    it("maps 503 provider_unavailable with the Retry-After delay", async () => {
      const err = await rejection(ca.connections.token("unavailable", "u1"));
      expect(err).toMatchObject({ code: "provider_unavailable", status: 503 });
      expect(err.retryAfter).toBeGreaterThanOrEqual(1);
      expect((await ca.connections.get("unavailable", "u1")).status).toBe("active");
    });

    it("maps 409 needs_reconnect when the provider refuses the grant, and the connection says so", async () => {
      const err = await rejection(ca.connections.token("dead", "u1"));
      expect(err).toMatchObject({ code: "needs_reconnect", status: 409 });
      const c = await ca.connections.get("dead", "u1");
      expect(c.status).toBe("needs_reconnect");
      expect(c.lastError).toContain("revoked");
      expect((await ca.connections.list("dead", { status: "needs_reconnect" })).items.map((x) => x.userId)).toEqual(["u1"]);
    });
  });

  describe("events", () => {
    it("lists the events of the connections above, oldest first, filtered by app, user and type", async () => {
      const { items } = await ca.events.list({ appId: "acme-mail" });
      expect(items.map((e) => [e.type, e.data.userId])).toEqual([
        ["connection.created", ODD_USER],
        ["connection.created", "u42"],
        ["connection.deleted", ODD_USER],
      ]);
      expect(items[0]).toMatchObject({ data: { appId: "acme-mail" }, delivery: { attempts: 0, deliveredAt: null } });
      expect((await ca.events.list({ userId: ODD_USER })).items.map((e) => e.type)).toEqual(["connection.created", "connection.deleted"]);
      expect((await ca.events.list({ appId: "acme-mail", type: "connection.deleted" })).items.map((e) => e.data.userId)).toEqual([ODD_USER]);
    });

    it("pages with after and limit", async () => {
      const first = await ca.events.list({ appId: "acme-mail", limit: 2 });
      expect(first.items).toHaveLength(2);
      const next = await ca.events.list({ appId: "acme-mail", after: first.items[1]!.id });
      expect(next.items.map((e) => e.type)).toEqual(["connection.deleted"]);
    });

    it("maps a malformed after to 400 invalid_request", async () => {
      expect(await rejection(ca.events.list({ after: "not-an-id" }))).toMatchObject({ code: "invalid_request", status: 400 });
    });
  });

  describe("connect sessions", () => {
    const sessionCount = async () => (await svc.ctx.db.selectFrom("connect_sessions").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n;

    it("mints a single-use link on this service for a host app's user", async () => {
      const before = Date.now();
      const session = await ca.connectSessions.create({ appId: "acme-mail", userId: ODD_USER, returnTo: "https://host.example/settings" });
      const url = new URL(session.url);
      expect(`${url.origin}${url.pathname}`).toBe(`${svc.config.publicUrl}/connect/acme-mail`);
      expect(url.searchParams.get("session")).toBeTruthy();
      // SPEC §4: 30 minutes.
      expect(Date.parse(session.expiresAt) - before).toBeGreaterThan(29 * 60_000);
      expect(Date.parse(session.expiresAt) - before).toBeLessThanOrEqual(30 * 60_000 + 5_000);
    });

    it("maps an unknown app to 404 not_found and stores nothing", async () => {
      const before = await sessionCount();
      const err = await rejection(ca.connectSessions.create({ appId: "no-such-app", userId: "u1" }));
      expect(err).toMatchObject({ code: "not_found", status: 404 });
      expect(await sessionCount()).toBe(before);
    });

    it("maps a returnTo that is not http(s) to 400 invalid_request and stores nothing", async () => {
      const before = await sessionCount();
      const err = await rejection(ca.connectSessions.create({ appId: "acme-mail", userId: "u1", returnTo: "javascript:alert(1)" }));
      expect(err).toMatchObject({ code: "invalid_request", status: 400 });
      expect(err.detail).toContain("returnTo");
      expect(await sessionCount()).toBe(before);
    });

    it("maps a userId over 200 characters to 400 invalid_request and stores nothing", async () => {
      const before = await sessionCount();
      expect(await rejection(ca.connectSessions.create({ appId: "acme-mail", userId: "u".repeat(201) }))).toMatchObject({ code: "invalid_request", status: 400 });
      expect(await sessionCount()).toBe(before);
    });
  });

  describe("the service unreachable", () => {
    it("throws ConnectedAppsNetworkError, not a ConnectedAppsError", async () => {
      const down = new ConnectedApps({ baseUrl: `http://127.0.0.1:${await freePort()}`, apiKey: svc.apiKey });
      await expect(down.apps.list()).rejects.toBeInstanceOf(ConnectedAppsNetworkError);
    });
  });

  it("leaves no secret or token in the service's logs", () => {
    const logs = svc.logs.text();
    for (const s of [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, svc.apiKey]) expect(logs).not.toContain(s);
  });
});
