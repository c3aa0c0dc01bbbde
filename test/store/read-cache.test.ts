// The read cache and its change feed on both databases: a cached row never outlives a change
// made here (builder or raw SQL), by another process (a CLI command) or another instance, and
// a lost PostgreSQL listener turns caching off until it is back.
import net from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getApp } from "../../src/apps/app-service.ts";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { loadConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openContext, type OpenedContext } from "../../src/runtime/open-context.ts";
import { connectionStore } from "../../src/connections/connection-service.ts";
import { connectionKey, PG_CHANNEL, postgresChangeFeed, type ChangeFeed, type RowChange } from "../../src/store/change-feed.ts";
import { cachedTablesWrittenBy, LocalWrites } from "../../src/store/local-writes.ts";
import { ReadCache } from "../../src/store/read-cache.ts";
import { createTestDatabase, dialects } from "../support/databases.ts";
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
  writingTables = new Set<string>();
  writing(table: "apps" | "connections") {
    return this.writingTables.has(table);
  }
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

  it("caches nothing of a table this process is changing in an open transaction", async () => {
    const feed = new ManualFeed();
    const cache = new ReadCache<{ v: number }>(feed, "connections");
    let loads = 0;
    feed.writingTables.add("connections");
    await cache.read("k", async () => ({ v: ++loads }));
    await cache.read("k", async () => ({ v: ++loads }));
    expect(loads).toBe(2);
    feed.writingTables.clear();
    await cache.read("k", async () => ({ v: ++loads }));
    await cache.read("k", async () => ({ v: ++loads }));
    expect(loads).toBe(3);
  });

  it("serves a row from memory for at most its maximum age, whatever the feed says", async () => {
    const cache = new ReadCache<{ v: number }>(new ManualFeed(), "apps", 100, () => {}, 50);
    let loads = 0;
    await cache.read("a", async () => ({ v: ++loads }));
    await cache.read("a", async () => ({ v: ++loads }));
    expect(loads).toBe(1);
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.read("a", async () => ({ v: ++loads }))).toEqual({ v: 2 });
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
      // ON DELETE CASCADE: an app's connections go with it.
      expect(cachedTablesWrittenBy(db.deleteFrom("apps").where("id", "=", "a").toOperationNode())).toEqual(["apps", "connections"]);
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

// A TCP relay in front of PostgreSQL that can go silent on the LISTEN connection, as a NAT or
// a failover that sends no reset does: the client hears nothing, not even an error.
async function silenceableRelay(target: URL) {
  const pairs: Array<{ client: net.Socket; server: net.Socket; listen: boolean; silent: boolean }> = [];
  const relay = net.createServer((client) => {
    const server = net.connect(Number(target.port || 5432), target.hostname);
    const pair = { client, server, listen: false, silent: false };
    pairs.push(pair);
    client.on("data", (d: Buffer) => {
      if (d.toString("latin1").toLowerCase().includes(`listen ${PG_CHANNEL}`)) pair.listen = true;
      if (!pair.silent) server.write(d);
    });
    server.on("data", (d: Buffer) => {
      if (!pair.silent) client.write(d);
    });
    for (const s of [client, server]) s.on("error", () => {});
    client.on("close", () => server.destroy());
    server.on("close", () => pair.silent || client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
  const url = new URL(target);
  url.hostname = "127.0.0.1";
  url.port = String((relay.address() as net.AddressInfo).port);
  return {
    url: url.toString(),
    silenceListener: () => {
      for (const p of pairs.filter((p) => p.listen)) {
        p.silent = true;
        p.server.destroy();
      }
    },
    close: () => {
      for (const p of pairs) (p.client.destroy(), p.server.destroy());
      relay.close();
    },
  };
}

describe("PostgreSQL listener that dies without a word", () => {
  it("is found by the heartbeat: the feed stops being live and comes back on a new connection", async () => {
    const db = await createTestDatabase("postgres");
    const relay = await silenceableRelay(new URL(db.url));
    const svc = await startTestService("postgres", { database: db });
    const feed = postgresChangeFeed(relay.url, createLogger("silent"), new LocalWrites(), { heartbeatMs: 100, heartbeatTimeoutMs: 300 });
    const changes: RowChange[] = [];
    feed.subscribe((c) => changes.push(c));
    try {
      await eventually(async () => feed.live);
      relay.silenceListener();
      await eventually(async () => !feed.live, 3000);
      expect(changes.some((c) => c.table === "*")).toBe(true);
      // Back on a fresh connection through the relay, and hearing changes again.
      await eventually(async () => feed.live, 10_000);
      changes.length = 0;
      await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: { name: "Heard", clientId: "c", authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" } });
      await svc.ctx.db.updateTable("apps").set({ name: "Heard 2" }).where("id", "=", "heard").execute();
      await eventually(async () => changes.some((c) => c.table === "apps" && "key" in c && c.key === "heard"), 3000);
    } finally {
      await feed.close();
      relay.close();
      await svc.close();
      await db.drop();
    }
  }, 30_000);
});

describe("this process's own writes on PostgreSQL, with every notification cut off", () => {
  // With the LISTEN connection silenced, nothing but local-writes.ts can drop a row until the
  // heartbeat notices (seconds): each check below runs well inside that window.
  let svc: TestService;
  let relay: Awaited<ReturnType<typeof silenceableRelay>>;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase("postgres");
    relay = await silenceableRelay(new URL(db.url));
    svc = await startTestService("postgres", { database: { ...db, url: relay.url } });
    for (const name of ["Own", "Cascade"]) {
      const res = await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: { name, clientId: "c", authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" } });
      expect(res.statusCode).toBe(201);
    }
    await eventually(async () => {
      await getApp(svc.ctx, "own");
      return svc.ctx.caches!.apps.size > 0;
    });
  });
  afterAll(async () => {
    await svc?.close();
    relay?.close();
    await db?.drop();
  });

  const connect = (appId: string, userId: string) =>
    saveConnection(svc.ctx, {
      appId,
      userId,
      tokens: { accessToken: `tok-${appId}-${userId}`, tokenType: "Bearer", refreshToken: null, idToken: null, expiresIn: 3600, scopes: ["openid"] },
      account: { sub: userId, email: null, name: null },
      requestedScopes: [],
    });
  const tokenStatus = async (appId: string, userId: string) => (await svc.server.inject({ url: `/api/v1/apps/${appId}/connections/${userId}/token`, headers: svc.headers })).statusCode;

  it("a read racing this process's open transaction does not keep the old row after the commit", async () => {
    await connect("own", "u1");
    expect(await tokenStatus("own", "u1")).toBe(200);
    relay.silenceListener();
    await svc.ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom("connections").where("app_id", "=", "own").where("user_id", "=", "u1").execute();
      // Another request reads meanwhile, on another pool connection: the old, committed row.
      const seen = await svc.ctx.caches!.connections.read(connectionKey("own", "u1"), () => connectionStore(svc.ctx).get("own", "u1"));
      expect(seen?.userId).toBe("u1");
    });
    expect(await tokenStatus("own", "u1")).toBe(404);
  });

  it("deleting an app drops its cached connections at once (ON DELETE CASCADE)", async () => {
    await connect("cascade", "u1");
    expect(await tokenStatus("cascade", "u1")).toBe(200);
    expect(await tokenStatus("cascade", "u1")).toBe(200);
    await svc.ctx.db.deleteFrom("apps").where("id", "=", "cascade").execute();
    expect(await tokenStatus("cascade", "u1")).toBe(404);
  });

  it("a PATCH is seen at once", async () => {
    const res = await svc.server.inject({ method: "PATCH", url: "/api/v1/apps/own", headers: svc.headers, payload: { name: "Own, renamed" } });
    expect(res.statusCode).toBe(200);
    expect((await svc.server.inject({ url: "/api/v1/apps/own", headers: svc.headers })).json().name).toBe("Own, renamed");
  });
});
