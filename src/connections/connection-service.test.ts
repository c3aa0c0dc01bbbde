// saveConnection / listConnectionsForUser / deleteConnection on both databases, with a fixed clock.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { dialects } from "../../test/support/databases.ts";
import { startTestService, type TestService } from "../../test/support/test-service.ts";
import type { TokenSet } from "../oauth/token-set.ts";

const revoked: Array<{ token: string; hint: string }> = [];
let revokeFails = false;
vi.mock("../oauth/grants.ts", async (original) => ({
  ...(await original<typeof import("../oauth/grants.ts")>()),
  revokeToken: vi.fn(async (_ctx: unknown, _app: unknown, token: string, hint: string) => {
    if (revokeFails) throw new Error("revocation endpoint answered 500");
    revoked.push({ token, hint });
  }),
  refreshGrant: vi.fn(),
}));

const { deleteConnection, listConnectionsForUser, saveConnection } = await import("./connection-service.ts");

const ACCESS = "sentinel-access-token-41f0";
const REFRESH = "sentinel-refresh-token-9b2c";
const ID_TOKEN = "sentinel.id.token-77aa";
const NOW = Date.parse("2026-01-01T00:00:00Z");

const tokens = (over: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: ACCESS,
  tokenType: "Bearer",
  refreshToken: REFRESH,
  idToken: ID_TOKEN,
  expiresIn: 3600,
  scopes: ["openid", "email"],
  ...over,
});
const account = { sub: "sub-1", email: "ada@example.test", name: "Ada" };

describe.each(dialects)("connection service on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect, { clock: { now: () => NOW } });
    for (const id of ["acme", "plain"]) {
      const res = await svc.server.inject({
        method: "POST",
        url: "/api/v1/apps",
        headers: svc.headers,
        payload: {
          id,
          name: id,
          clientId: "c",
          tokenEndpoint: "https://acme.test/token",
          authorizationEndpoint: "https://acme.test/authorize",
          ...(id === "acme" ? { revocationEndpoint: "https://acme.test/revoke" } : {}),
        },
      });
      expect(res.statusCode).toBe(201);
    }
  });
  afterAll(async () => svc?.close());

  const events = () => svc.ctx.db.selectFrom("events").select(["type", "user_id"]).orderBy("seq").execute();

  it("creates a connection with sealed tokens, expiry from expires_in, and a connection.created event", async () => {
    const { connection, created } = await saveConnection(svc.ctx, { appId: "acme", userId: "u1", tokens: tokens(), account, requestedScopes: ["openid"] });
    expect(created).toBe(true);
    expect(connection).toMatchObject({
      appId: "acme",
      userId: "u1",
      status: "active",
      scopes: ["openid", "email"],
      account,
      expiresAt: new Date(NOW + 3600_000).toISOString(),
      lastError: null,
    });
    const row = await svc.ctx.db.selectFrom("connections").selectAll().where("user_id", "=", "u1").executeTakeFirstOrThrow();
    const dump = JSON.stringify(row);
    for (const secret of [ACCESS, REFRESH, ID_TOKEN]) expect(dump).not.toContain(secret);
    expect(row.access_token).toMatch(/^v1\./);
    expect(row.next_refresh_at).toBeGreaterThan(NOW);
    expect(row.next_refresh_at).toBeLessThan(NOW + 3600_000);
    expect(await events()).toContainEqual({ type: "connection.created", user_id: "u1" });
  });

  it("uses the requested scopes when the answer states none", async () => {
    const { connection } = await saveConnection(svc.ctx, { appId: "plain", userId: "u1", tokens: tokens({ scopes: null, expiresIn: null }), account, requestedScopes: ["read"] });
    expect(connection.scopes).toEqual(["read"]);
    expect(connection.expiresAt).toBeNull();
  });

  it("replaces the tokens on reconnect, keeps the refresh token when the answer has none, and records recovered after needs_reconnect", async () => {
    await svc.ctx.db.updateTable("connections").set({ status: "needs_reconnect", last_error: "invalid_grant" }).where("app_id", "=", "acme").where("user_id", "=", "u1").execute();
    const { connection, created } = await saveConnection(svc.ctx, {
      appId: "acme",
      userId: "u1",
      tokens: tokens({ accessToken: "second-access", refreshToken: null }),
      account: { ...account, name: "Ada L." },
      requestedScopes: ["openid"],
    });
    expect(created).toBe(false);
    expect(connection).toMatchObject({ status: "active", lastError: null, account: { name: "Ada L." } });
    expect(await svc.ctx.db.selectFrom("connections").select("id").where("app_id", "=", "acme").execute()).toHaveLength(1);
    expect((await events()).filter((e) => e.type === "connection.recovered")).toHaveLength(1);
    const { openTokens, ConnectionStore } = await import("./connection-store.ts");
    const rec = await new ConnectionStore(svc.ctx.db, svc.ctx.keyring).get("acme", "u1");
    expect(openTokens(svc.ctx, rec!)).toMatchObject({ accessToken: "second-access", refreshToken: REFRESH });
  });

  it("lists a user's connections across apps, without tokens", async () => {
    const list = await listConnectionsForUser(svc.ctx, "u1");
    expect(list.map((c) => c.appId)).toEqual(["acme", "plain"]);
    expect(JSON.stringify(list)).not.toContain(ACCESS);
    expect(await listConnectionsForUser(svc.ctx, "nobody")).toEqual([]);
  });

  it("deletes: revokes the refresh token then the access token, records connection.deleted", async () => {
    revoked.length = 0;
    await deleteConnection(svc.ctx, "acme", "u1");
    expect(revoked).toEqual([
      { token: REFRESH, hint: "refresh_token" },
      { token: "second-access", hint: "access_token" },
    ]);
    expect((await listConnectionsForUser(svc.ctx, "u1")).map((c) => c.appId)).toEqual(["plain"]);
    expect(await events()).toContainEqual({ type: "connection.deleted", user_id: "u1" });
  });

  it("deletes locally even when revocation fails", async () => {
    await saveConnection(svc.ctx, { appId: "acme", userId: "u2", tokens: tokens(), account, requestedScopes: [] });
    revokeFails = true;
    try {
      await deleteConnection(svc.ctx, "acme", "u2");
    } finally {
      revokeFails = false;
    }
    expect(await listConnectionsForUser(svc.ctx, "u2")).toEqual([]);
  });

  it("answers not_connected when deleting a connection that does not exist", async () => {
    await expect(deleteConnection(svc.ctx, "acme", "ghost")).rejects.toMatchObject({ code: "not_connected" });
  });

  it("never logs a token", () => {
    for (const secret of [ACCESS, REFRESH, ID_TOKEN]) expect(svc.logs.text()).not.toContain(secret);
  });
});
