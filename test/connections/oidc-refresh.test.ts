// The token engine against a real, certified OpenID Provider (oidc-provider) with refresh-token
// rotation and a 6-second access-token lifetime. With rotation on, oidc-provider treats a
// rotated-away refresh token presented again as theft and revokes the whole grant, so a double
// refresh anywhere shows as a dead grant. Refreshes are counted at the provider (its
// grant.success events). Real clock; SQLite and PostgreSQL; one and three service instances.
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/apps/app-store.ts";
import { getApp } from "../../src/apps/app-service.ts";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { ConnectionStore, openTokens } from "../../src/connections/connection-store.ts";
import { setRefreshSettings } from "../../src/connections/refresh-policy.ts";
import { startRefresher } from "../../src/connections/refresher.ts";
import { getToken } from "../../src/connections/token.ts";
import { buildAuthorizationUrl, exchangeCode, validateIdToken } from "../../src/oauth/grants.ts";
import { dialects } from "../support/databases.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const ACCESS_TOKEN_TTL = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(dialects)("token refresh against oidc-provider on %s", (dialect) => {
  let op: TestOidcProvider;
  let svc: TestService;
  let app: App;
  const grants = { refresh_token: 0, client_credentials: 0 };
  let refreshErrors = 0;

  beforeAll(async () => {
    op = await startOidcProvider({ ttl: { AccessToken: ACCESS_TOKEN_TTL }, rotateRefreshToken: true });
    const grantType = (ctx: unknown) => String((ctx as { oidc?: { params?: { grant_type?: unknown } } }).oidc?.params?.grant_type ?? "");
    op.provider.on("grant.success", (ctx) => {
      const type = grantType(ctx);
      if (type in grants) grants[type as keyof typeof grants]++;
    });
    op.provider.on("grant.error", (ctx) => {
      if (grantType(ctx) === "refresh_token") refreshErrors++;
    });
    svc = await startTestService(dialect);
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: {
        id: "op",
        name: "Test OP",
        discoveryUrl: op.endpoints.discovery,
        clientId: op.client.clientId,
        clientSecret: op.client.clientSecret,
        tokenEndpointAuthMethod: "client_secret_basic",
        scopes: ["openid", "email", "profile", "api:read"],
      },
    });
    expect(res.statusCode).toBe(201);
    app = await getApp(svc.ctx, "op");
  });
  afterAll(async () => {
    await svc?.close();
    await op?.close();
  });

  /** A real grant for `userId` (login and consent at oidc-provider), stored as a connection. */
  async function connect(userId: string) {
    const state = oauth.generateRandomState();
    const verifier = oauth.generateRandomCodeVerifier();
    const nonce = oauth.generateRandomNonce();
    const url = buildAuthorizationUrl(app, { redirectUri: op.client.redirectUri, state, codeChallenge: await oauth.calculatePKCECodeChallenge(verifier), nonce });
    const callback = await op.authorize(url, { accountId: userId });
    const tokens = await exchangeCode(svc.ctx, app, {
      code: callback.searchParams.get("code")!,
      codeVerifier: verifier,
      redirectUri: op.client.redirectUri,
      nonce,
      iss: callback.searchParams.get("iss"),
    });
    const claims = await validateIdToken(svc.ctx, app, tokens.idToken!, { nonce });
    await saveConnection(svc.ctx, {
      appId: "op",
      userId,
      tokens,
      account: { sub: String(claims.sub), email: (claims.email as string) ?? null, name: (claims.name as string) ?? null },
      requestedScopes: app.scopes,
    });
    return userId;
  }
  const record = async (userId: string) => (await new ConnectionStore(svc.ctx.db, svc.ctx.keyring).get("op", userId))!;
  const tokensOf = async (userId: string) => openTokens(svc.ctx, await record(userId));
  /** Our copy says the access token has expired (the provider's copy may still be valid). */
  const expire = (userId: string) => svc.ctx.db.updateTable("connections").set({ expires_at: Date.now() - 1_000 }).where("user_id", "=", userId).execute();
  const acceptedByResource = async (accessToken: string) => (await fetch(op.endpoints.resource, { headers: { authorization: `Bearer ${accessToken}` } })).status === 200;
  const read = (s: TestService, userId: string, query = "") =>
    s.server.inject({ method: "GET", url: `/api/v1/apps/op/connections/${userId}/token${query}`, headers: s.headers });

  it("100 concurrent reads of an expired connection: one refresh at the provider, 100 tokens its resource accepts, the grant still alive", async () => {
    const u = await connect("alice");
    const before = await tokensOf(u);
    await expire(u);
    const refreshes = grants.refresh_token;
    const answers = await Promise.all(Array.from({ length: 100 }, () => read(svc, u)));
    expect(grants.refresh_token - refreshes).toBe(1);
    expect(answers.map((a) => a.statusCode)).toEqual(Array(100).fill(200));
    const issued = new Set(answers.map((a) => a.json().accessToken as string));
    expect(issued.size).toBe(1);
    const [accessToken] = [...issued];
    expect(accessToken).not.toBe(before.accessToken);
    expect(await acceptedByResource(accessToken!)).toBe(true);
    // The rotated refresh token was stored; the provider still honours it (a double refresh
    // would have revoked the grant), and the old one is spent.
    const after = await tokensOf(u);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(await op.provider.RefreshToken.find(after.refreshToken!)).toBeDefined();
    const forced = await getToken(svc.ctx, "op", u, 0, { forceUnlessVersionAfter: (await record(u)).version });
    expect(await acceptedByResource(forced.accessToken)).toBe(true);
    expect(refreshErrors).toBe(0);
  });

  it("three instances on one database: one refresh at the provider for all their concurrent reads", async () => {
    const env = { CONNECTED_APPS_KEYS: svc.config.keysFromEnv! };
    const others = [await startTestService(dialect, { database: svc.database, env }), await startTestService(dialect, { database: svc.database, env })];
    try {
      const u = await connect("bob");
      await expire(u);
      const refreshes = grants.refresh_token;
      const all = [svc, ...others];
      const answers = await Promise.all(Array.from({ length: 99 }, (_, i) => read(all[i % 3]!, u)));
      expect(grants.refresh_token - refreshes).toBe(1);
      expect(answers.every((a) => a.statusCode === 200)).toBe(true);
      const issued = new Set(answers.map((a) => a.json().accessToken as string));
      expect(issued.size).toBe(1);
      expect(await acceptedByResource([...issued][0]!)).toBe(true);
      expect(refreshErrors).toBe(0);
    } finally {
      for (const s of others) await s.close();
    }
  });

  it("refreshes in the background ahead of the 6-second expiry, with no read", async () => {
    setRefreshSettings(svc.ctx, { refresherIntervalMs: 100 });
    const u = await connect("carol");
    const first = await record(u);
    // Half the lifetime ahead for a token this short-lived (refresh-policy.ts).
    expect(first.nextRefreshAt).toBeLessThanOrEqual(first.expiresAt! - (ACCESS_TOKEN_TTL * 1000) / 2);
    const readsBefore = (await svc.ctx.metrics.tokenReadsWaited.get()).values.reduce((n, v) => n + v.value, 0);
    const refresher = startRefresher(svc.ctx);
    try {
      for (let i = 0; i < 200 && (await record(u)).lastRefreshedAt === null; i++) await sleep(50);
    } finally {
      await refresher.stop();
    }
    const refreshed = await record(u);
    expect(refreshed.lastRefreshedAt).not.toBeNull();
    // Taken when it was scheduled, not earlier (whether it beat the expiry depends on the
    // machine's load; the schedule itself is ahead of expiry, asserted above).
    expect(refreshed.lastRefreshedAt!).toBeGreaterThanOrEqual(first.nextRefreshAt!);
    expect(refreshed.expiresAt!).toBeGreaterThan(first.expiresAt!);
    expect(await acceptedByResource((await tokensOf(u)).accessToken)).toBe(true);
    expect((await svc.ctx.metrics.tokenReadsWaited.get()).values.reduce((n, v) => n + v.value, 0)).toBe(readsBefore);
    expect(refreshErrors).toBe(0);
  });

  it("a provider that lost the grant (an in-memory provider restarted): needs_reconnect with its message, 409, an event", async () => {
    const u = await connect("dave");
    const { refreshToken } = await tokensOf(u);
    // What a restart of a provider with in-memory storage loses: the grant and its tokens.
    type Destroyable = { grantId?: string; destroy(): Promise<void> };
    const models = op.provider as unknown as { RefreshToken: { find(t: string): Promise<Destroyable | undefined> }; Grant: { find(id: string): Promise<Destroyable | undefined> } };
    const stored = (await models.RefreshToken.find(refreshToken!))!;
    await (await models.Grant.find(stored.grantId!))?.destroy();
    await stored.destroy();
    await expire(u);
    const res = await read(svc, u);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("needs_reconnect");
    const c = (await svc.server.inject({ method: "GET", url: `/api/v1/apps/op/connections/${u}`, headers: svc.headers })).json();
    expect(c.status).toBe("needs_reconnect");
    // The provider's own message (its error_description for invalid_grant).
    expect(c.lastError).toBe("grant request is invalid");
    const events = await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", u).execute();
    expect(events.map((e) => e.type)).toContain("connection.needs_reconnect");
    // Reconnecting makes it active again, with connection.recovered.
    await connect(u);
    expect((await record(u)).status).toBe("active");
    const after = await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", u).execute();
    expect(after.map((e) => e.type)).toContain("connection.recovered");
  });

  it("deleting a connection revokes its tokens at the provider (RFC 7009)", async () => {
    const u = await connect("erin");
    const { accessToken, refreshToken } = await tokensOf(u);
    expect(await acceptedByResource(accessToken)).toBe(true);
    const res = await svc.server.inject({ method: "DELETE", url: `/api/v1/apps/op/connections/${u}`, headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(204);
    expect(await op.provider.RefreshToken.find(refreshToken!)).toBeUndefined();
    expect(await acceptedByResource(accessToken)).toBe(false);
  });

  it("answers the app's own client-credentials token, fetched once and cached", async () => {
    const before = grants.client_credentials;
    const first = await svc.server.inject({ method: "GET", url: "/api/v1/apps/op/token", headers: svc.headers });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ accessToken: expect.any(String), tokenType: expect.stringMatching(/bearer/i) });
    const second = await svc.server.inject({ method: "GET", url: "/api/v1/apps/op/token", headers: svc.headers });
    expect(second.json().accessToken).toBe(first.json().accessToken);
    expect(grants.client_credentials - before).toBe(1);
  });

  it("never logs a token", async () => {
    const logs = svc.logs.text();
    for (const u of ["alice", "bob", "carol"]) {
      const t = await tokensOf(u);
      expect(logs).not.toContain(t.accessToken);
      expect(logs).not.toContain(t.refreshToken!);
    }
  });
});
