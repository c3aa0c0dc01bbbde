// The token engine's rules with an injected clock and a scripted provider (refreshGrant mocked),
// on both databases. The real-provider races are in test/connections/.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { dialects } from "../../test/support/databases.ts";
import { startTestService, type TestService } from "../../test/support/test-service.ts";
import { ProviderFailure } from "../oauth/provider-failure.ts";
import type { TokenSet } from "../oauth/token-set.ts";

const grants = vi.hoisted(() => ({ refreshGrant: vi.fn(), revokeToken: vi.fn(), clientCredentialsGrant: vi.fn() }));
vi.mock("../oauth/grants.ts", async (original) => ({ ...(await original<typeof import("../oauth/grants.ts")>()), ...grants }));

const { saveConnection, deleteConnection } = await import("./connection-service.ts");
const { getToken } = await import("./token.ts");
const { setRefreshSettings } = await import("./refresh-policy.ts");
const { ConnectionStore, openTokens } = await import("./connection-store.ts");

const T0 = Date.parse("2026-03-01T12:00:00Z");
let now = T0;
const clock = { now: () => now };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const answer = (over: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: "at-new",
  tokenType: "Bearer",
  refreshToken: "rt-new",
  idToken: null,
  expiresIn: 3600,
  scopes: null,
  ...over,
});

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;

describe.each(dialects)("getToken on %s", (dialect) => {
  let svc: TestService;
  let user = 0;
  beforeAll(async () => {
    svc = await startTestService(dialect, { clock });
    setRefreshSettings(svc.ctx, { backoffBaseMs: 5, retryBudgetMs: 300, cooldownMs: 5_000, leaseMs: 30_000, leasePollMs: 5 });
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { id: "acme", name: "Acme", clientId: "c", tokenEndpoint: "https://acme.test/token", revocationEndpoint: "https://acme.test/revoke" },
    });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => svc?.close());
  beforeEach(() => {
    now = T0;
    grants.refreshGrant.mockReset();
    grants.revokeToken.mockReset().mockResolvedValue(undefined);
  });

  /** A connection for a new user whose token expires `expiresIn` seconds from now. */
  async function connect(expiresIn: number | null, over: Partial<TokenSet> = {}) {
    const userId = `user-${++user}`;
    await saveConnection(svc.ctx, {
      appId: "acme",
      userId,
      tokens: { accessToken: "at-old", tokenType: "Bearer", refreshToken: "rt-old", idToken: null, expiresIn, scopes: ["read"], ...over },
      account: { sub: "s", email: null, name: null },
      requestedScopes: ["read"],
    });
    return userId;
  }
  const row = (userId: string) => new ConnectionStore(svc.ctx.db, svc.ctx.keyring).get("acme", userId);
  const eventTypes = async (userId: string) =>
    (await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", userId).orderBy("seq").execute()).map((e) => e.type);

  it("answers a token that is valid long enough without asking the provider", async () => {
    const u = await connect(3600);
    const t = await getToken(svc.ctx, "acme", u, 60);
    expect(t).toEqual({ accessToken: "at-old", tokenType: "Bearer", expiresAt: new Date(T0 + 3600_000).toISOString(), scopes: ["read"] });
    expect(grants.refreshGrant).not.toHaveBeenCalled();
  });

  it("refreshes when the token expires within minValidity, storing the rotated refresh token before answering", async () => {
    const u = await connect(30);
    grants.refreshGrant.mockImplementation(async (_c, _a, rt: string) => {
      expect(rt).toBe("rt-old");
      return answer();
    });
    const t = await getToken(svc.ctx, "acme", u, 60);
    expect(t.accessToken).toBe("at-new");
    const rec = (await row(u))!;
    expect(openTokens(svc.ctx, rec)).toMatchObject({ accessToken: "at-new", refreshToken: "rt-new" });
    expect(rec.version).toBe(2);
    expect(rec.leaseOwner).toBeNull();
    expect(rec.lastRefreshedAt).toBe(T0);
    expect(rec.nextRefreshAt).toBeGreaterThan(T0);
  });

  it("refreshes exactly once for 100 concurrent reads, and all get the new token", async () => {
    const u = await connect(-10);
    grants.refreshGrant.mockImplementation(async () => {
      await sleep(30);
      return answer();
    });
    const tokens = await Promise.all(Array.from({ length: 100 }, () => getToken(svc.ctx, "acme", u, 60)));
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
    expect(new Set(tokens.map((t) => t.accessToken))).toEqual(new Set(["at-new"]));
  });

  it("keeps the old refresh token when the answer has none", async () => {
    const u = await connect(0);
    grants.refreshGrant.mockResolvedValue(answer({ refreshToken: null }));
    await getToken(svc.ctx, "acme", u, 60);
    expect(openTokens(svc.ctx, (await row(u))!)).toMatchObject({ accessToken: "at-new", refreshToken: "rt-old" });
  });

  it("returns the fresh token when even it lives shorter than minValidity", async () => {
    const u = await connect(0);
    grants.refreshGrant.mockResolvedValue(answer({ expiresIn: 120 }));
    const t = await getToken(svc.ctx, "acme", u, 3600);
    expect(t.accessToken).toBe("at-new");
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
  });

  it("marks needs_reconnect at once on invalid_grant, with the provider's message and an event; reads then answer 409 without the provider", async () => {
    const u = await connect(0);
    grants.refreshGrant.mockRejectedValue(new ProviderFailure("grant_invalid", "invalid_grant: grant request is invalid", { oauthError: "invalid_grant", status: 400 }));
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "needs_reconnect", status: 409 });
    const rec = (await row(u))!;
    expect(rec.status).toBe("needs_reconnect");
    expect(rec.lastError).toBe("invalid_grant: grant request is invalid");
    expect(rec.nextRefreshAt).toBeNull();
    expect(await eventTypes(u)).toEqual(["connection.created", "connection.needs_reconnect"]);
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "needs_reconnect" });
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
  });

  it("records connection.recovered when a forced refresh of a needs_reconnect connection succeeds", async () => {
    const u = await connect(0);
    grants.refreshGrant.mockRejectedValueOnce(new ProviderFailure("grant_invalid", "invalid_client")).mockResolvedValueOnce(answer());
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "needs_reconnect" });
    const version = (await row(u))!.version;
    await getToken(svc.ctx, "acme", u, 60, { forceUnlessVersionAfter: version });
    expect((await row(u))!.status).toBe("active");
    expect(await eventTypes(u)).toEqual(["connection.created", "connection.needs_reconnect", "connection.recovered"]);
  });

  it("retries an unavailable provider with backoff and succeeds without marking anything", async () => {
    const u = await connect(0);
    grants.refreshGrant
      .mockRejectedValueOnce(new ProviderFailure("unavailable", "503 from the token endpoint", { status: 503 }))
      .mockRejectedValueOnce(new ProviderFailure("unavailable", "connection reset"))
      .mockResolvedValueOnce(answer());
    expect((await getToken(svc.ctx, "acme", u, 60)).accessToken).toBe("at-new");
    expect(grants.refreshGrant).toHaveBeenCalledTimes(3);
    expect((await row(u))!.status).toBe("active");
  });

  it("answers 503 provider_unavailable with Retry-After once the retry budget is spent, keeps the connection active, cools down, then recovers", async () => {
    const u = await connect(0);
    grants.refreshGrant.mockRejectedValue(new ProviderFailure("unavailable", "503 from the token endpoint", { status: 503, retryAfter: 7 }));
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "provider_unavailable", status: 503, retryAfter: 7 });
    const calls = grants.refreshGrant.mock.calls.length;
    expect(calls).toBe(1); // Retry-After 7 s is beyond the 300 ms budget: no pointless retry
    const rec = (await row(u))!;
    expect(rec.status).toBe("active");
    expect(rec.lastError).toContain("503");
    expect(rec.refreshFailures).toBe(1);
    expect(rec.leaseOwner).toBeNull();
    // Cooling down: reads answer 503 at once, the provider is left alone.
    now += 3_000;
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "provider_unavailable", retryAfter: 4 });
    expect(grants.refreshGrant).toHaveBeenCalledTimes(calls);
    // Back after the cooldown.
    now += 5_000;
    grants.refreshGrant.mockReset().mockResolvedValue(answer());
    expect((await getToken(svc.ctx, "acme", u, 60)).accessToken).toBe("at-new");
    expect((await row(u))!).toMatchObject({ status: "active", lastError: null, refreshFailures: 0 });
  });

  it("another instance sees the failure on the row and cools down too, without calling the provider", async () => {
    const other = await startTestService(dialect, { clock, database: svc.database, env: { CONNECTED_APPS_KEYS: svc.config.keysFromEnv! } });
    try {
      const u = await connect(0);
      grants.refreshGrant.mockRejectedValue(new ProviderFailure("unavailable", "connect ETIMEDOUT"));
      await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "provider_unavailable" });
      const calls = grants.refreshGrant.mock.calls.length;
      await expect(getToken(other.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "provider_unavailable", detail: expect.stringContaining("ETIMEDOUT") });
      expect(grants.refreshGrant).toHaveBeenCalledTimes(calls);
    } finally {
      await other.close();
    }
  });

  it("answers 502 provider_error for an unusable answer and keeps the connection active", async () => {
    const u = await connect(0);
    grants.refreshGrant.mockRejectedValue(new ProviderFailure("bad_answer", "the answer had no access_token"));
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "provider_error", status: 502 });
    expect((await row(u))!.status).toBe("active");
  });

  it("waits for a live holder's lease and uses the tokens it wrote, without calling the provider", async () => {
    const u = await connect(0);
    const store = new ConnectionStore(svc.ctx.db, svc.ctx.keyring);
    const rec = (await row(u))!;
    expect(await store.takeLease(rec.id, "other-instance:1", now, 30_000)).toBe(true);
    const read = getToken(svc.ctx, "acme", u, 60);
    await sleep(40);
    // The other instance finishes its refresh.
    const written = await store.writeRefreshed(rec.id, { version: rec.version, leaseOwner: "other-instance:1" }, {
      tokens: { accessToken: "at-theirs", refreshToken: "rt-theirs", idToken: null, tokenType: "Bearer", scopes: ["read"], expiresAt: now + 3600_000, nextRefreshAt: null },
      now,
    });
    expect(written).toBe(true);
    expect((await read).accessToken).toBe("at-theirs");
    expect(grants.refreshGrant).not.toHaveBeenCalled();
  });

  it("takes over a lease whose holder died, once its lease time has passed", async () => {
    const u = await connect(0);
    const rec = (await row(u))!;
    await new ConnectionStore(svc.ctx.db, svc.ctx.keyring).takeLease(rec.id, "dead-instance:1", now, 30_000);
    grants.refreshGrant.mockResolvedValue(answer());
    const read = getToken(svc.ctx, "acme", u, 60);
    await sleep(40);
    expect(grants.refreshGrant).not.toHaveBeenCalled();
    now += 30_001;
    expect((await read).accessToken).toBe("at-new");
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
  });

  it("does not resurrect a connection deleted during its refresh, and revokes the tokens it was just given", async () => {
    const u = await connect(0);
    let release!: () => void;
    grants.refreshGrant.mockImplementation(() => new Promise((resolve) => (release = () => resolve(answer()))));
    const read = getToken(svc.ctx, "acme", u, 60);
    await sleep(30);
    await deleteConnection(svc.ctx, "acme", u);
    grants.revokeToken.mockClear();
    release();
    await expect(read).rejects.toMatchObject({ code: "not_connected" });
    expect(await row(u)).toBeUndefined();
    expect(grants.revokeToken.mock.calls.map((c) => [c[2], c[3]])).toEqual([
      ["rt-new", "refresh_token"],
      ["at-new", "access_token"],
    ]);
  });

  it("a refresh-race loser that gets invalid_grant uses the winner's tokens", async () => {
    const u = await connect(0);
    const store = new ConnectionStore(svc.ctx.db, svc.ctx.keyring);
    grants.refreshGrant.mockImplementation(async () => {
      // While our call was out, our lease was taken over and the winner rotated the token.
      const rec = (await row(u))!;
      await svc.ctx.db.updateTable("connections").set({ lease_owner: "winner" }).where("id", "=", rec.id).execute();
      await store.writeRefreshed(rec.id, { version: rec.version, leaseOwner: "winner" }, {
        tokens: { accessToken: "at-winner", refreshToken: "rt-winner", idToken: null, tokenType: "Bearer", scopes: ["read"], expiresAt: now + 3600_000, nextRefreshAt: null },
        now,
      });
      throw new ProviderFailure("grant_invalid", "invalid_grant: refresh token already used");
    });
    expect((await getToken(svc.ctx, "acme", u, 60)).accessToken).toBe("at-winner");
    expect((await row(u))!.status).toBe("active");
  });

  it("rejects a refreshed ID token that names another account (OIDC Core §12.2)", async () => {
    const u = await connect(0, { idToken: jwt({ iss: "https://acme.test", sub: "alice", aud: "c" }) });
    grants.refreshGrant.mockResolvedValue(answer({ idToken: jwt({ iss: "https://acme.test", sub: "mallory", aud: "c" }) }));
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "needs_reconnect" });
    const rec = (await row(u))!;
    expect(rec.status).toBe("needs_reconnect");
    expect(rec.lastError).toContain("another account");
    expect(openTokens(svc.ctx, rec).accessToken).toBe("at-old");
  });

  it("marks needs_reconnect when the token expired and there is no refresh token", async () => {
    const u = await connect(-1, { refreshToken: null });
    await expect(getToken(svc.ctx, "acme", u, 60)).rejects.toMatchObject({ code: "needs_reconnect" });
    expect(grants.refreshGrant).not.toHaveBeenCalled();
  });

  it("answers not_connected for an unknown user", async () => {
    await expect(getToken(svc.ctx, "acme", "nobody", 60)).rejects.toMatchObject({ code: "not_connected", status: 404 });
  });

  it("never logs a token", () => {
    for (const s of ["at-old", "rt-old", "at-new", "rt-new"]) expect(svc.logs.text()).not.toContain(s);
  });
});
