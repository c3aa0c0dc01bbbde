// The read cache and its change feed on both databases: a cached row never outlives a change
// made here (builder or raw SQL), by another process (a CLI command) or another instance, and
// a lost PostgreSQL listener turns caching off until it is back.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getApp } from "../../src/apps/app-service.ts";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { loadConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openContext, type OpenedContext } from "../../src/runtime/open-context.ts";
import { PG_CHANNEL, type ChangeFeed, type RowChange } from "../../src/store/change-feed.ts";
import { cachedTablesWrittenBy } from "../../src/store/local-writes.ts";
import { ReadCache } from "../../src/store/read-cache.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

class ManualFeed implements ChangeFeed {
  live = true;
  private listeners: Array<(c: RowChange) => void> = [];
  subscribe(fn: (c: RowChange) => void) {
    this.listeners.push(fn);
  }
  emit(c: RowChange) {
    for (const fn of this.listeners) fn(c);
  }
  async close() {}
}

describe("ReadCache rules", () => {
  it("answers a second read from memory and drops the row when the feed names it", async () => {
    const feed = new ManualFeed();
    const cache = new ReadCache<{ v: number }>(feed, "apps");
    let loads = 0;
    const load = async () => ({ v: ++loads });
    expect(await cache.read("a", load)).toEqual({ v: 1 });
    expect(await cache.read("a", load)).toEqual({ v: 1 });
    feed.emit({ table: "apps", key: "a" });
    expect(await cache.read("a", load)).toEqual({ v: 2 });
    feed.emit({ table: "connections", key: "a" });
    expect(await cache.read("a", load)).toEqual({ v: 2 });
    feed.emit({ table: "apps" });
    expect(await cache.read("a", load)).toEqual({ v: 3 });
    feed.emit({ table: "*" });
    expect(await cache.read("a", load)).toEqual({ v: 4 });
  });

  it("does not keep a row that changed while it was being read", async () => {
    const feed = new ManualFeed();
    const cache = new ReadCache<{ v: string }>(feed, "connections");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = cache.read("k", async () => {
      await gate;
      return { v: "old" };
    });
    feed.emit({ table: "connections", key: "k" });
    release();
    expect(await first).toEqual({ v: "old" });
    expect(await cache.read("k", async () => ({ v: "new" }))).toEqual({ v: "new" });
  });

  it("reads the database every time while the feed is not live, and never caches a miss", async () => {
    const feed = new ManualFeed();
    feed.live = false;
    const cache = new ReadCache<{ v: number }>(feed, "apps");
    let loads = 0;
    await cache.read("a", async () => ({ v: ++loads }));
    await cache.read("a", async () => ({ v: ++loads }));
    expect(loads).toBe(2);
    feed.live = true;
    expect(await cache.read("b", async () => undefined)).toBeUndefined();
    expect(await cache.read("b", async () => ({ v: 9 }))).toEqual({ v: 9 });
    expect(cache.size).toBe(1);
  });

  it("hands out frozen rows, so no reader can change what the next one gets", async () => {
    const cache = new ReadCache<{ scopes: string[] }>(new ManualFeed(), "apps");
    const row = (await cache.read("a", async () => ({ scopes: ["openid"] })))!;
    expect(() => row.scopes.push("email")).toThrow(TypeError);
  });

  it("keeps at most maxRows rows", async () => {
    const cache = new ReadCache<{ i: number }>(new ManualFeed(), "apps", 3);
    for (let i = 0; i < 10; i++) await cache.read(`k${i}`, async () => ({ i }));
    expect(cache.size).toBe(3);
  });
});

describe("which statements the local-writes plugin reports", () => {
  it("names the cached tables an UPDATE or DELETE writes, and nothing for other statements", async () => {
    const svc = await startTestService("sqlite");
    try {
      const db = svc.ctx.db;
      expect(cachedTablesWrittenBy(db.updateTable("apps").set({ name: "x" }).where("id", "=", "a").toOperationNode())).toEqual(["apps"]);
      expect(cachedTablesWrittenBy(db.deleteFrom("connections").where("id", "=", "c").toOperationNode())).toEqual(["connections"]);
      expect(cachedTablesWrittenBy(db.updateTable("users").set({ email: "e" }).toOperationNode())).toEqual([]);
      expect(cachedTablesWrittenBy(db.selectFrom("apps").selectAll().toOperationNode())).toEqual([]);
      expect(cachedTablesWrittenBy({ kind: "RawNode", sqlFragments: ["  UPDATE apps set name = ", ""], parameters: [] } as never)).toEqual(["*"]);
      expect(cachedTablesWrittenBy({ kind: "RawNode", sqlFragments: ["select 1"], parameters: [] } as never)).toEqual([]);
    } finally {
      await svc.close();
    }
  });
});

describe.each(dialects)("read cache on %s", (dialect) => {
  let svc: TestService;
  let other: OpenedContext;
  beforeAll(async () => {
    svc = await startTestService(dialect);
    // A second process's view of the same database, as a CLI command has it (no cache).
    other = await openContext(loadConfig({ DATABASE_URL: svc.database.url, CONNECTED_APPS_DATA_DIR: svc.database.dir, CONNECTED_APPS_KEYS: svc.config.keysFromEnv! }), {
      log: createLogger("silent"),
      metricsDefaults: false,
      readCache: false,
    });
    const res = await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: { name: "Cached", clientId: "c", authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" } });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => {
    await other?.close();
    await svc?.close();
  });

  const nameSeen = async () => (await svc.server.inject({ url: "/api/v1/apps/cached", headers: svc.headers })).json().name as string;

  it("serves a repeated read from memory", async () => {
    await eventually(async () => {
      await getApp(svc.ctx, "cached");
      return (svc.ctx.caches!.apps.size ?? 0) === 1;
    });
    expect(await getApp(svc.ctx, "cached")).toBe(await getApp(svc.ctx, "cached"));
    const metrics = await (await svc.server.inject({ url: "/metrics" })).body;
    const hits = /connected_apps_read_cache_total\{table="apps",result="hit"\} (\d+)/.exec(metrics);
    expect(Number(hits?.[1])).toBeGreaterThanOrEqual(2);
  });

  it("sees a PATCH at once", async () => {
    await nameSeen();
    const res = await svc.server.inject({ method: "PATCH", url: "/api/v1/apps/cached", headers: svc.headers, payload: { name: "Patched" } });
    expect(res.statusCode).toBe(200);
    expect(await nameSeen()).toBe("Patched");
  });

  it("sees a raw SQL write through its own connection at once", async () => {
    await nameSeen();
    await svc.ctx.db.updateTable("apps").set({ name: "Raw write" }).where("id", "=", "cached").execute();
    expect(await nameSeen()).toBe("Raw write");
  });

  it("sees another process's write within moments", async () => {
    await nameSeen();
    await other.db.updateTable("apps").set({ name: "From the CLI" }).where("id", "=", "cached").execute();
    await eventually(async () => (await nameSeen()) === "From the CLI", 3000);
  });

  it("stops serving a connection's token once another process deleted it", async () => {
    await saveConnection(svc.ctx, {
      appId: "cached",
      userId: "u1",
      tokens: { accessToken: "tok-cached", tokenType: "Bearer", refreshToken: null, idToken: null, expiresIn: 3600, scopes: ["openid"] },
      account: { sub: "u1", email: null, name: null },
      requestedScopes: [],
    });
    const read = () => svc.server.inject({ url: "/api/v1/apps/cached/connections/u1/token", headers: svc.headers });
    expect((await read()).json().accessToken).toBe("tok-cached");
    expect((await read()).statusCode).toBe(200);
    await other.db.deleteFrom("connections").where("app_id", "=", "cached").where("user_id", "=", "u1").execute();
    await eventually(async () => (await read()).statusCode === 404, 3000);
    expect((await read()).json().code).toBe("not_connected");
  });
});

describe("PostgreSQL listener", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService("postgres");
    await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: { name: "Listened", clientId: "c", authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" } });
  });
  afterAll(async () => svc?.close());

  it("when its connection dies, caching stops (no stale answers) and resumes once it is back", async () => {
    const admin = new pg.Client({ connectionString: svc.database.url });
    await admin.connect();
    try {
      const listener = async () =>
        (await admin.query<{ pid: number }>(`select pid from pg_stat_activity where datname = current_database() and query ilike 'listen ${PG_CHANNEL}%'`)).rows[0]?.pid;
      await eventually(async () => (await listener()) !== undefined);
      await getApp(svc.ctx, "listened");
      expect(svc.ctx.caches!.apps.size).toBe(1);

      const pid = (await listener())!;
      await admin.query("select pg_terminate_backend($1)", [pid]);
      await eventually(async () => svc.ctx.caches!.apps.size === 0);
      // While nobody listens, a write from outside (no NOTIFY is heard) is still seen.
      await admin.query("update apps set name = 'Changed while deaf' where id = 'listened'");
      expect((await getApp(svc.ctx, "listened")).name).toBe("Changed while deaf");

      // Back: a new listener, and notifications invalidate again.
      await eventually(async () => {
        const p = await listener();
        return p !== undefined && p !== pid;
      }, 15_000);
      await eventually(async () => {
        await getApp(svc.ctx, "listened");
        return svc.ctx.caches!.apps.size === 1;
      });
      await admin.query("update apps set name = 'Heard again' where id = 'listened'");
      await eventually(async () => (await getApp(svc.ctx, "listened")).name === "Heard again", 3000);
    } finally {
      await admin.end();
    }
  });
});
