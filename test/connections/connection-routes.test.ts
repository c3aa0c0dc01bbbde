// The connection routes through inject() on both databases (SPEC §4), with the provider's
// grants scripted (the real-provider suites are beside this file).
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ProviderFailure } from "../../src/oauth/provider-failure.ts";
import type { TokenSet } from "../../src/oauth/token-set.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const grants = vi.hoisted(() => ({ refreshGrant: vi.fn(), revokeToken: vi.fn(), clientCredentialsGrant: vi.fn() }));
vi.mock("../../src/oauth/grants.ts", async (original) => ({ ...(await original<typeof import("../../src/oauth/grants.ts")>()), ...grants }));

const { saveConnection } = await import("../../src/connections/connection-service.ts");
const { setRefreshSettings } = await import("../../src/connections/refresh-policy.ts");

const ACCESS = "sentinel-route-access-5d1e";
const REFRESH = "sentinel-route-refresh-0c3b";
const LONG_USER = "u".repeat(200);
const ODD_USER = "tenant/42 ü?#&%";

const tokens = (over: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: ACCESS,
  tokenType: "Bearer",
  refreshToken: REFRESH,
  idToken: null,
  expiresIn: 3600,
  scopes: ["read"],
  ...over,
});

describe.each(dialects)("connection routes on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
    setRefreshSettings(svc.ctx, { backoffBaseMs: 5, retryBudgetMs: 50, cooldownMs: 2_000 });
    for (const id of ["acme", "other"]) {
      const res = await svc.server.inject({
        method: "POST",
        url: "/api/v1/apps",
        headers: svc.headers,
        payload: { id, name: id, clientId: "c", clientSecret: "s3cret-client", tokenEndpoint: "https://acme.test/token", revocationEndpoint: "https://acme.test/revoke", scopes: ["read"] },
      });
      expect(res.statusCode).toBe(201);
    }
    const account = { sub: "s-1", email: "a@example.test", name: "A" };
    for (const userId of ["alice", "bob", LONG_USER, ODD_USER]) {
      await saveConnection(svc.ctx, { appId: "acme", userId, tokens: tokens(), account, requestedScopes: ["read"] });
    }
    await saveConnection(svc.ctx, { appId: "acme", userId: "expired", tokens: tokens({ expiresIn: 10 }), account, requestedScopes: ["read"] });
    await svc.ctx.db.updateTable("connections").set({ status: "needs_reconnect", last_error: "invalid_grant: revoked" }).where("user_id", "=", "bob").execute();
  });
  afterAll(async () => svc?.close());
  beforeEach(() => {
    grants.refreshGrant.mockReset();
    grants.revokeToken.mockReset().mockResolvedValue(undefined);
    grants.clientCredentialsGrant.mockReset();
  });

  const get = (url: string) => svc.server.inject({ method: "GET", url, headers: svc.headers });
  const path = (userId: string) => `/api/v1/apps/acme/connections/${encodeURIComponent(userId)}`;
  const connectionCount = async () => Number((await svc.ctx.db.selectFrom("connections").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);

  it("lists an app's connections without tokens, filtered by status", async () => {
    const all = await get("/api/v1/apps/acme/connections");
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((c: { userId: string }) => c.userId).sort()).toEqual(["alice", "bob", "expired", ODD_USER, LONG_USER].sort());
    expect(all.body).not.toContain(ACCESS);
    expect(all.body).not.toContain(REFRESH);
    const broken = await get("/api/v1/apps/acme/connections?status=needs_reconnect");
    expect(broken.json().items).toEqual([expect.objectContaining({ userId: "bob", status: "needs_reconnect", lastError: "invalid_grant: revoked" })]);
    expect((await get("/api/v1/apps/other/connections")).json()).toEqual({ items: [] });
  });

  it("rejects an unknown status with invalid_request", async () => {
    const res = await get("/api/v1/apps/acme/connections?status=broken");
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_request");
  });

  it("answers 404 not_found for the connections of an unknown app", async () => {
    const res = await get("/api/v1/apps/nope/connections");
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("not_found");
  });

  it("gets one connection, by a URL-encoded userId of any characters", async () => {
    const res = await get(path(ODD_USER));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ appId: "acme", userId: ODD_USER, status: "active", scopes: ["read"], account: { sub: "s-1" } });
    expect(res.json()).not.toHaveProperty("accessToken");
    expect((await get(path(LONG_USER))).json().userId).toBe(LONG_USER);
  });

  it("answers 404 not_connected for a user without a connection", async () => {
    for (const url of [path("carol"), `${path("carol")}/token`]) {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      expect(res.json().code).toBe("not_connected");
    }
  });

  it("rejects a userId over 200 characters with invalid_request", async () => {
    const res = await get(path("u".repeat(201)));
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_request");
  });

  it("answers a valid token without calling the provider, not cacheable", async () => {
    const res = await get(`${path("alice")}/token`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accessToken: ACCESS, tokenType: "Bearer", expiresAt: expect.any(String), scopes: ["read"] });
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(grants.refreshGrant).not.toHaveBeenCalled();
  });

  it("refreshes first when the token is shorter-lived than minValidity (default 60 s)", async () => {
    grants.refreshGrant.mockResolvedValue(tokens({ accessToken: "fresh-access", refreshToken: "fresh-refresh" }));
    const res = await get(`${path("expired")}/token`);
    expect(res.statusCode).toBe(200);
    expect(res.json().accessToken).toBe("fresh-access");
    // Now valid for an hour: minValidity=600 needs no refresh, minValidity=7200 does.
    expect((await get(`${path("expired")}/token?minValidity=600`)).json().accessToken).toBe("fresh-access");
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
    grants.refreshGrant.mockResolvedValue(tokens({ accessToken: "fresher-access" }));
    expect((await get(`${path("expired")}/token?minValidity=7200`)).json().accessToken).toBe("fresher-access");
  });

  it.each([
    ["a negative minValidity", "-1"],
    ["a fractional minValidity", "1.5"],
    ["a minValidity that is not a number", "soon"],
  ])("rejects %s with invalid_request and changes nothing", async (_label, value) => {
    const before = await svc.ctx.db.selectFrom("connections").select(["version", "updated_at"]).where("user_id", "=", "alice").executeTakeFirstOrThrow();
    const res = await get(`${path("alice")}/token?minValidity=${value}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_request");
    expect(res.json().detail).toContain("minValidity");
    expect(await svc.ctx.db.selectFrom("connections").select(["version", "updated_at"]).where("user_id", "=", "alice").executeTakeFirstOrThrow()).toEqual(before);
  });

  it("answers 409 needs_reconnect with the provider's message for a dead grant", async () => {
    const res = await get(`${path("bob")}/token`);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("needs_reconnect");
    expect(res.json().detail).toContain("invalid_grant: revoked");
  });

  it("answers 503 provider_unavailable with Retry-After when the provider is down, and keeps the connection active", async () => {
    await saveConnection(svc.ctx, { appId: "other", userId: "dave", tokens: tokens({ expiresIn: 0 }), account: { sub: null, email: null, name: null }, requestedScopes: [] });
    grants.refreshGrant.mockRejectedValue(new ProviderFailure("unavailable", "connect ECONNREFUSED 127.0.0.1:9"));
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/apps/other/connections/dave/token", headers: svc.headers });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe("provider_unavailable");
    expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await get("/api/v1/apps/other/connections/dave")).json()).toMatchObject({ status: "active", lastError: expect.stringContaining("ECONNREFUSED") });
  });

  it("deletes a connection: revokes the refresh token then the access token, answers 204, records the event", async () => {
    const res = await svc.server.inject({ method: "DELETE", url: path(ODD_USER), headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(204);
    expect(grants.revokeToken.mock.calls.map((c) => c[3])).toEqual(["refresh_token", "access_token"]);
    expect((await get(path(ODD_USER))).statusCode).toBe(404);
    const events = await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", ODD_USER).execute();
    expect(events.map((e) => e.type)).toContain("connection.deleted");
  });

  it("deletes locally when revocation fails", async () => {
    grants.revokeToken.mockRejectedValue(new ProviderFailure("unavailable", "revocation endpoint down"));
    const res = await svc.server.inject({ method: "DELETE", url: path(LONG_USER), headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(204);
    expect((await get(path(LONG_USER))).statusCode).toBe(404);
  });

  it("answers 404 not_connected when deleting a connection that does not exist, and deletes nothing", async () => {
    const before = await connectionCount();
    const res = await svc.server.inject({ method: "DELETE", url: path("nobody"), headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("not_connected");
    expect(await connectionCount()).toBe(before);
  });

  it("answers the app's client-credentials token, cached sealed until shortly before it expires", async () => {
    grants.clientCredentialsGrant.mockResolvedValue(tokens({ accessToken: "sentinel-app-token-91", refreshToken: null, scopes: null }));
    const first = await get("/api/v1/apps/acme/token");
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ accessToken: "sentinel-app-token-91", tokenType: "Bearer", scopes: ["read"] });
    const second = await get("/api/v1/apps/acme/token");
    expect(second.json().accessToken).toBe("sentinel-app-token-91");
    expect(grants.clientCredentialsGrant).toHaveBeenCalledTimes(1);
    const row = await svc.ctx.db.selectFrom("app_tokens").selectAll().where("app_id", "=", "acme").executeTakeFirstOrThrow();
    expect(row.access_token).toMatch(/^v1\./);
    expect(JSON.stringify(row)).not.toContain("sentinel-app-token-91");
  });

  it("answers provider_error when the provider refuses the client-credentials grant", async () => {
    grants.clientCredentialsGrant.mockRejectedValue(new ProviderFailure("bad_answer", "unauthorized_client: client credentials not allowed"));
    const res = await get("/api/v1/apps/other/token");
    expect(res.statusCode).toBe(502);
    expect(res.json().code).toBe("provider_error");
  });

  it("revokes and deletes an app's connections when the app is deleted", async () => {
    const remaining = (await get("/api/v1/apps/acme/connections")).json().items.length;
    expect(remaining).toBeGreaterThan(0);
    const res = await svc.server.inject({ method: "DELETE", url: "/api/v1/apps/acme", headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(204);
    expect(grants.revokeToken.mock.calls.filter((c) => c[3] === "refresh_token")).toHaveLength(remaining);
    expect(await svc.ctx.db.selectFrom("connections").select("id").where("app_id", "=", "acme").execute()).toEqual([]);
    const deleted = await svc.ctx.db.selectFrom("events").select("user_id").where("type", "=", "connection.deleted").where("app_id", "=", "acme").execute();
    expect(deleted.length).toBeGreaterThanOrEqual(remaining);
  });

  it("never logs a token or the client secret", () => {
    const logs = svc.logs.text();
    for (const s of [ACCESS, REFRESH, "fresh-access", "fresh-refresh", "sentinel-app-token-91", "s3cret-client"]) expect(logs).not.toContain(s);
  });
});
