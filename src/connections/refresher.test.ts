// The background refresher's rules with an injected clock and scripted grants, on both
// databases, including two instances sharing one database.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { dialects } from "../../test/support/databases.ts";
import { startTestService, type TestService } from "../../test/support/test-service.ts";
import { ProviderFailure } from "../oauth/provider-failure.ts";
import type { TokenSet } from "../oauth/token-set.ts";

const grants = vi.hoisted(() => ({ refreshGrant: vi.fn(), revokeToken: vi.fn(), clientCredentialsGrant: vi.fn() }));
vi.mock("../oauth/grants.ts", async (original) => ({ ...(await original<typeof import("../oauth/grants.ts")>()), ...grants }));

const { saveConnection } = await import("./connection-service.ts");
const { setRefreshSettings } = await import("./refresh-policy.ts");
const { startRefresher } = await import("./refresher.ts");
const { ConnectionStore } = await import("./connection-store.ts");

const T0 = Date.parse("2026-05-01T08:00:00Z");
let now = T0;
const clock = { now: () => now };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tokenSet = (over: Partial<TokenSet> = {}): TokenSet => ({
  accessToken: "at",
  tokenType: "Bearer",
  refreshToken: "rt-0",
  idToken: null,
  expiresIn: 3600,
  scopes: null,
  ...over,
});

describe.each(dialects)("background refresher on %s", (dialect) => {
  let a: TestService;
  let b: TestService;
  let n = 0;
  beforeAll(async () => {
    a = await startTestService(dialect, { clock });
    // A second instance on the same database, sharing the keyring as SPEC §2 requires.
    b = await startTestService(dialect, { clock, database: a.database, env: { CONNECTED_APPS_KEYS: a.config.keysFromEnv! } });
    for (const svc of [a, b]) setRefreshSettings(svc.ctx, { perAppConcurrency: 3, refresherBatch: 100, stopGraceMs: 2_000, backoffBaseMs: 5, retryBudgetMs: 20 });
    const res = await a.server.inject({ method: "POST", url: "/api/v1/apps", headers: a.headers, payload: { id: "acme", name: "Acme", clientId: "c", tokenEndpoint: "https://acme.test/token" } });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });
  beforeEach(async () => {
    now = T0;
    grants.refreshGrant.mockReset();
    await a.ctx.db.deleteFrom("connections").execute();
  });

  async function connect(over: Partial<TokenSet> = {}) {
    const userId = `u${++n}`;
    await saveConnection(a.ctx, { appId: "acme", userId, tokens: tokenSet({ refreshToken: `rt-${userId}`, ...over }), account: { sub: null, email: null, name: null }, requestedScopes: [] });
    return userId;
  }
  const store = () => new ConnectionStore(a.ctx.db, a.ctx.keyring);

  it("schedules a refresh ahead of expiry, within the margin plus jitter", async () => {
    const u = await connect({ expiresIn: 3600 });
    const rec = (await store().get("acme", u))!;
    // Default margin 5 min + up to 1 min of jitter before the expiry at T0 + 1 h.
    expect(rec.nextRefreshAt).toBeGreaterThanOrEqual(T0 + 3600_000 - 6 * 60_000);
    expect(rec.nextRefreshAt).toBeLessThanOrEqual(T0 + 3600_000 - 5 * 60_000);
  });

  it("refreshes a due connection in the background, with no read", async () => {
    const u = await connect({ expiresIn: 3600 });
    grants.refreshGrant.mockResolvedValue(tokenSet({ accessToken: "at-bg", refreshToken: "rt-bg" }));
    const refresher = startRefresher(a.ctx, { autoStart: false });
    expect(await refresher.tick()).toBe(0);
    now = T0 + 3600_000 - 4 * 60_000;
    expect(await refresher.tick()).toBe(1);
    await refresher.stop();
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
    const rec = (await store().get("acme", u))!;
    expect(rec.lastRefreshedAt).toBe(now);
    expect(rec.expiresAt).toBe(now + 3600_000);
    expect(rec.nextRefreshAt).toBeGreaterThan(now);
  });

  it("keeps alive a connection with a refresh token and no known expiry (daily by default)", async () => {
    const u = await connect({ expiresIn: null });
    const rec = (await store().get("acme", u))!;
    expect(rec.nextRefreshAt).toBeGreaterThan(T0 + 23 * 3600_000);
    expect(rec.nextRefreshAt).toBeLessThanOrEqual(T0 + 24 * 3600_000);
    grants.refreshGrant.mockResolvedValue(tokenSet({ expiresIn: null }));
    now = T0 + 24 * 3600_000;
    const refresher = startRefresher(a.ctx, { autoStart: false });
    expect(await refresher.tick()).toBe(1);
    await refresher.stop();
    expect(grants.refreshGrant).toHaveBeenCalledTimes(1);
  });

  it("never schedules a connection without a refresh token, nor one that needs reconnecting", async () => {
    await connect({ refreshToken: null });
    const broken = await connect({ expiresIn: 10 });
    await a.ctx.db.updateTable("connections").set({ status: "needs_reconnect" }).where("user_id", "=", broken).execute();
    now = T0 + 7 * 24 * 3600_000;
    const refresher = startRefresher(a.ctx, { autoStart: false });
    expect(await refresher.tick()).toBe(0);
    await refresher.stop();
    expect(grants.refreshGrant).not.toHaveBeenCalled();
  });

  it("two instances split the due connections and refresh each exactly once", async () => {
    for (let i = 0; i < 40; i++) await connect({ expiresIn: 600 });
    const calls = new Map<string, number>();
    grants.refreshGrant.mockImplementation(async (_c, _app, rt: string) => {
      calls.set(rt, (calls.get(rt) ?? 0) + 1);
      await sleep(5);
      return tokenSet({ refreshToken: `${rt}-next` });
    });
    now = T0 + 600_000;
    const ra = startRefresher(a.ctx, { autoStart: false });
    const rb = startRefresher(b.ctx, { autoStart: false });
    const [ca, cb] = await Promise.all([ra.tick(), rb.tick()]);
    await Promise.all([ra.stop(), rb.stop()]);
    expect(ca + cb).toBe(40);
    expect(calls.size).toBe(40);
    expect([...calls.values()].every((c) => c === 1)).toBe(true);
  });

  it("bounds concurrent refreshes towards one provider", async () => {
    for (let i = 0; i < 10; i++) await connect({ expiresIn: 600 });
    let active = 0;
    let peak = 0;
    grants.refreshGrant.mockImplementation(async () => {
      peak = Math.max(peak, ++active);
      await sleep(20);
      active--;
      return tokenSet();
    });
    now = T0 + 600_000;
    const r = startRefresher(a.ctx, { autoStart: false });
    await r.tick();
    await r.stop();
    expect(grants.refreshGrant).toHaveBeenCalledTimes(10);
    expect(peak).toBe(3);
  });

  it("backs off after a transient failure and leaves the connection active", async () => {
    const u = await connect({ expiresIn: 600 });
    grants.refreshGrant.mockRejectedValue(new ProviderFailure("unavailable", "503 Service Unavailable", { status: 503, retryAfter: 120 }));
    now = T0 + 600_000;
    const r = startRefresher(a.ctx, { autoStart: false });
    await r.tick();
    await r.stop();
    const rec = (await store().get("acme", u))!;
    expect(rec.status).toBe("active");
    expect(rec.refreshFailures).toBe(1);
    expect(rec.nextRefreshAt).toBeGreaterThanOrEqual(now + 120_000);
  });

  it("stop waits for refreshes in flight", async () => {
    const u = await connect({ expiresIn: 600 });
    grants.refreshGrant.mockImplementation(async () => {
      await sleep(150);
      return tokenSet({ accessToken: "late" });
    });
    now = T0 + 600_000;
    const r = startRefresher(a.ctx, { autoStart: false });
    await r.tick();
    await r.stop();
    expect((await store().get("acme", u))!.lastRefreshedAt).toBe(now);
  });
});
