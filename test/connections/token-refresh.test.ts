// The token engine for real: the real grant code over HTTP to a loopback token endpoint that
// rotates refresh tokens and revokes the grant on reuse (so a double refresh fails loudly), with
// the real clock, one or three service instances, on SQLite and PostgreSQL.
import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { setRefreshSettings } from "../../src/connections/refresh-policy.ts";
import { startRefresher } from "../../src/connections/refresher.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { FakeTokenEndpoint } from "./fake-token-endpoint.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean> | boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await sleep(25);
  }
}

describe.each(dialects)("token refresh against a rotating token endpoint on %s", (dialect) => {
  let fake: FakeTokenEndpoint;
  let svc: TestService;
  let n = 0;
  const fast = { cooldownMs: 300, backoffBaseMs: 20, retryBudgetMs: 200, leasePollMs: 10 };

  beforeAll(async () => {
    fake = await FakeTokenEndpoint.start();
    svc = await startTestService(dialect);
    setRefreshSettings(svc.ctx, fast);
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { ...fake.appBody("fake"), scopes: ["read"] },
    });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });
  afterEach(() => {
    fake.mode = { kind: "up" };
    fake.accessTokenTtl = 3600;
  });

  /** A connection whose access token has already expired (or expires in `expiresIn` s). */
  async function connect(expiresIn = -5) {
    const userId = `user-${++n}`;
    const grant = fake.issue();
    await saveConnection(svc.ctx, {
      appId: "fake",
      userId,
      tokens: { accessToken: grant.accessToken, refreshToken: grant.refreshToken, tokenType: "Bearer", idToken: null, expiresIn, scopes: ["read"] },
      account: { sub: userId, email: null, name: null },
      requestedScopes: ["read"],
    });
    return userId;
  }
  const tokenUrl = (userId: string) => `/api/v1/apps/fake/connections/${userId}/token`;
  const read = (s: TestService, userId: string) => s.server.inject({ method: "GET", url: tokenUrl(userId), headers: s.headers });
  const connection = async (userId: string) => (await svc.server.inject({ method: "GET", url: `/api/v1/apps/fake/connections/${userId}`, headers: svc.headers })).json();

  it("100 concurrent reads of an expired connection: exactly one refresh at the provider, 100 valid tokens", async () => {
    const u = await connect();
    const before = fake.refreshCalls;
    const answers = await Promise.all(Array.from({ length: 100 }, () => read(svc, u)));
    expect(fake.refreshCalls - before).toBe(1);
    expect(answers.map((a) => a.statusCode)).toEqual(Array(100).fill(200));
    const tokens = new Set(answers.map((a) => a.json().accessToken as string));
    expect(tokens.size).toBe(1);
    expect(fake.accepts([...tokens][0]!)).toBe(true);
    expect(await connection(u)).toMatchObject({ status: "active", lastError: null });
  });

  it("three instances on one database: one refresh for all their concurrent reads", async () => {
    const env = { CONNECTED_APPS_KEYS: svc.config.keysFromEnv! };
    const others = [await startTestService(dialect, { database: svc.database, env }), await startTestService(dialect, { database: svc.database, env })];
    try {
      const all = [svc, ...others];
      for (const s of others) setRefreshSettings(s.ctx, fast);
      const u = await connect();
      const before = fake.refreshCalls;
      const answers = await Promise.all(Array.from({ length: 90 }, (_, i) => read(all[i % 3]!, u)));
      expect(fake.refreshCalls - before).toBe(1);
      expect(answers.every((a) => a.statusCode === 200)).toBe(true);
      const tokens = new Set(answers.map((a) => a.json().accessToken as string));
      expect(tokens.size).toBe(1);
      expect(fake.accepts([...tokens][0]!)).toBe(true);
    } finally {
      for (const s of others) await s.close();
    }
  });

  it("refreshes in the background before expiry, with no read", async () => {
    fake.accessTokenTtl = 2;
    setRefreshSettings(svc.ctx, { marginMs: 1_000, jitterMs: 100, refresherIntervalMs: 100 });
    const u = await connect(2);
    const before = fake.refreshCalls;
    const refresher = startRefresher(svc.ctx);
    try {
      await until(() => fake.refreshCalls > before, 5_000);
      await until(async () => (await connection(u)).lastRefreshedAt !== null);
    } finally {
      await refresher.stop();
      setRefreshSettings(svc.ctx, { marginMs: 5 * 60_000, jitterMs: 60_000, refresherIntervalMs: 5_000 });
    }
    const c = await connection(u);
    expect(c.status).toBe("active");
    // Reading now needs no refresh: the background one already happened.
    const calls = fake.refreshCalls;
    const res = await svc.server.inject({ method: "GET", url: `${tokenUrl(u)}?minValidity=0`, headers: svc.headers });
    expect(res.statusCode).toBe(200);
    expect(fake.accepts(res.json().accessToken)).toBe(true);
    expect(fake.refreshCalls).toBe(calls);
  });

  it("a provider restart that lost every grant: needs_reconnect with the provider's message, 409 on reads", async () => {
    const u = await connect();
    fake.forgetAllGrants();
    const res = await read(svc, u);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("needs_reconnect");
    const c = await connection(u);
    expect(c.status).toBe("needs_reconnect");
    expect(c.lastError).toMatch(/invalid_grant|grant request is invalid/);
    const events = await svc.ctx.db.selectFrom("events").select("type").where("user_id", "=", u).execute();
    expect(events.map((e) => e.type)).toContain("connection.needs_reconnect");
    const calls = fake.refreshCalls;
    expect((await read(svc, u)).statusCode).toBe(409);
    expect(fake.refreshCalls).toBe(calls);
  });

  it.each([
    ["down (connection dropped)", { kind: "down" } as const],
    ["answering 503 with Retry-After", { kind: "unavailable", retryAfter: 1 } as const],
  ])("a provider that is %s: 503 provider_unavailable with Retry-After, the connection stays active, then recovers", async (_label, mode) => {
    const u = await connect();
    fake.mode = mode;
    const res = await read(svc, u);
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe("provider_unavailable");
    expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect((await connection(u)).status).toBe("active");
    fake.mode = { kind: "up" };
    await sleep(1_100);
    const ok = await read(svc, u);
    expect(ok.statusCode).toBe(200);
    expect(fake.accepts(ok.json().accessToken)).toBe(true);
    expect(await connection(u)).toMatchObject({ status: "active", lastError: null });
  });

  it("a slow provider: the read answers 503 in bounded time, the refresh completes and the next read uses it", async () => {
    setRefreshSettings(svc.ctx, { readWaitMs: 300 });
    try {
      const u = await connect();
      fake.mode = { kind: "slow", ms: 800 };
      const before = fake.refreshCalls;
      const started = Date.now();
      const res = await read(svc, u);
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe("provider_unavailable");
      expect(Date.now() - started).toBeLessThan(700);
      await until(async () => (await connection(u)).lastRefreshedAt !== null);
      const ok = await read(svc, u);
      expect(ok.statusCode).toBe(200);
      expect(fake.accepts(ok.json().accessToken)).toBe(true);
      expect(fake.refreshCalls - before).toBe(1);
    } finally {
      setRefreshSettings(svc.ctx, { readWaitMs: 10_000 });
    }
  });

  it("a connection deleted during its refresh is not resurrected", async () => {
    const u = await connect();
    fake.mode = { kind: "slow", ms: 500 };
    const pending = read(svc, u);
    await sleep(150);
    const del = await svc.server.inject({ method: "DELETE", url: `/api/v1/apps/fake/connections/${u}`, headers: { authorization: svc.headers.authorization! } });
    expect(del.statusCode).toBe(204);
    const res = await pending;
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("not_connected");
    await sleep(100);
    expect(await svc.ctx.db.selectFrom("connections").select("id").where("user_id", "=", u).execute()).toEqual([]);
  });

  it("an instance SIGKILLed while holding the lease blocks the connection only until its lease runs out", async () => {
    const u = await connect();
    fake.mode = { kind: "slow", ms: 60_000 };
    const leaseMs = 2_000;
    const child = spawn(process.execPath, ["--import", "tsx", "test/connections/lease-holder.child.ts", "fake", u, String(leaseMs)], {
      env: {
        ...process.env,
        DATABASE_URL: svc.database.url,
        CONNECTED_APPS_KEYS: svc.config.keysFromEnv!,
        CONNECTED_APPS_DATA_DIR: svc.database.dir,
        CONNECTED_APPS_ALLOW_PRIVATE_URLS: "true",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const holder = () => svc.ctx.db.selectFrom("connections").select(["lease_owner", "lease_until"]).where("user_id", "=", u).executeTakeFirstOrThrow();
      await until(async () => (await holder()).lease_owner !== null, 20_000);
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      fake.mode = { kind: "up" };
      const started = Date.now();
      const res = await read(svc, u);
      expect(res.statusCode).toBe(200);
      expect(fake.accepts(res.json().accessToken)).toBe(true);
      expect(Date.now() - started).toBeLessThan(leaseMs + 1_500);
      expect((await holder()).lease_owner).toBeNull();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 40_000);

  it("never logs a token or the client secret", () => {
    const logs = svc.logs.text();
    expect(logs).not.toMatch(/fake-(at|rt)-[0-9a-f]{24}/);
    expect(logs).not.toContain(fake.clientSecret);
  });
});
