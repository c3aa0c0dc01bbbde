// Key rotation (SPEC §3 `keys rotate`, `keys retire`) on both databases: run by the real CLI in
// another process while token reads go on (none fails), then every value opens with the new key
// alone; a rotation stopped after one batch resumes; concurrent writes survive; retire refuses
// while a key is in use; keys from CONNECTED_APPS_KEYS print the new value first.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { buildKeyring, formatKeyring, generateKey, parseKeyring, type Keyring } from "../../src/crypto/keyring.ts";
import { openWithReload, startKeyringWatcher } from "../../src/crypto/keyring-reload.ts";
import { keysFilePath, readKeysFile } from "../../src/crypto/keyring-source.ts";
import { countSealedWith, retireKey, rotateKeys, sealedColumns } from "../../src/crypto/rotation.ts";
import { open, seal, sealedKid, SealError } from "../../src/crypto/seal.ts";
import { createLogger } from "../../src/log/logger.ts";
import { openContext, type OpenedContext } from "../../src/runtime/open-context.ts";
import type { Dialect } from "../../src/store/dialect.ts";
import { runCli } from "../cli/cli-process.ts";
import { createTestDatabase, dialects, type TestDatabase } from "../support/databases.ts";
import { LogCapture, startTestService, type TestService } from "../support/test-service.ts";

const CLIENT_SECRET = "cs-sentinel-rot-71c2";
const APP_TOKEN = "apptok-sentinel-rot-0e4d";
const VERIFIER = "verifier-sentinel-rot-93ab";
const access = (u: string) => `at-sentinel-rot-${u}`;
const refresh = (u: string) => `rt-sentinel-rot-${u}`;
const USERS = Array.from({ length: 40 }, (_, i) => `user-${String(i).padStart(2, "0")}`);

async function seed(svc: TestService): Promise<void> {
  const app = await svc.server.inject({
    method: "POST",
    url: "/api/v1/apps",
    headers: svc.headers,
    payload: { name: "Acme", clientId: "c", clientSecret: CLIENT_SECRET, authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" },
  });
  expect(app.statusCode).toBe(201);
  for (const u of USERS) {
    await saveConnection(svc.ctx, {
      appId: "acme",
      userId: u,
      tokens: { accessToken: access(u), refreshToken: refresh(u), idToken: `idt-${u}`, tokenType: "Bearer", expiresIn: 86400, scopes: ["read"] },
      account: { sub: u, email: null, name: null },
      requestedScopes: ["read"],
    });
  }
  const now = Date.now();
  await svc.ctx.db
    .insertInto("app_tokens")
    .values({ app_id: "acme", access_token: seal(svc.ctx.keyring, APP_TOKEN, { table: "app_tokens", id: "acme", field: "access_token" }), token_type: "Bearer", scopes: "[]", expires_at: now + 86400_000, created_at: now })
    .execute();
  await svc.ctx.db
    .insertInto("connect_transactions")
    .values({
      state_hash: "state-hash-1",
      app_id: "acme",
      user_id: "user-00",
      browser_hash: "b",
      code_verifier: seal(svc.ctx.keyring, VERIFIER, { table: "connect_transactions", id: "state-hash-1", field: "code_verifier" }),
      nonce: null,
      return_to: null,
      scopes: "[]",
      created_at: now,
      expires_at: now + 600_000,
      consumed_at: null,
    })
    .execute();
}

/** Every sealed value in the database, with its binding. */
async function sealedValues(svc: TestService): Promise<Array<{ table: string; id: string; field: string; value: string }>> {
  const out: Array<{ table: string; id: string; field: string; value: string }> = [];
  for (const t of sealedColumns) {
    const rows = (await (svc.ctx.db as any).selectFrom(t.table).selectAll().execute()) as Array<Record<string, string | null>>;
    for (const r of rows) for (const c of t.columns) if (r[c] != null) out.push({ table: t.table, id: r[t.key]!, field: c, value: r[c]! });
  }
  return out;
}

function expectAllOpenWithOnly(values: Awaited<ReturnType<typeof sealedValues>>, key: Keyring["primary"]) {
  const only = buildKeyring([key]);
  expect(values.length).toBe(USERS.length * 3 + 3);
  for (const v of values) {
    expect(sealedKid(v.value)).toBe(key.kid);
    expect(() => open(only, v.value, v)).not.toThrow();
  }
}

async function readAllTokens(svc: TestService): Promise<number> {
  let failures = 0;
  await Promise.all(
    USERS.slice(0, 8).map(async (u) => {
      const res = await svc.server.inject({ method: "GET", url: `/api/v1/apps/acme/connections/${u}/token?minValidity=0`, headers: svc.headers });
      if (res.statusCode !== 200 || res.json().accessToken !== access(u)) failures++;
    }),
  );
  return failures;
}

async function openSeparateContext(svc: TestService, env: Record<string, string> = {}): Promise<OpenedContext> {
  const { loadConfig } = await import("../../src/config/config.ts");
  const config = loadConfig({ DATABASE_URL: svc.database.url, CONNECTED_APPS_DATA_DIR: svc.database.dir, ...env });
  return openContext(config, { log: createLogger("silent", new LogCapture()), metricsDefaults: false });
}

describe.each(dialects)("key rotation on %s", (dialect: Dialect) => {
  let svc: TestService;
  let database: TestDatabase;
  const fileEnv = () => ({ DATABASE_URL: database.url, CONNECTED_APPS_DATA_DIR: database.dir });

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    // No CONNECTED_APPS_KEYS: the keyring lives in the keys file, as `keys rotate` writes it.
    svc = await startTestService(dialect, { database, env: { CONNECTED_APPS_KEYS: "" } });
    await seed(svc);
  });
  afterAll(async () => {
    await svc?.close();
    await database?.drop();
  });

  it("refuses to retire a key that still seals values, and the primary key", async () => {
    const old = svc.ctx.keyring.primary.kid;
    const res = await runCli(["keys", "retire", old], fileEnv());
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("primary");
    await expect(retireKey(svc.ctx, "no-such-kid")).rejects.toThrow(/not in the keyring/);
    expect(readKeysFile(keysFilePath(database.dir)).keys).toHaveLength(1);
  });

  it("rotates from another process while token reads go on: none fails, then every value opens with the new key alone", async () => {
    const oldKid = svc.ctx.keyring.primary.kid;
    const watcher = startKeyringWatcher(svc.ctx, { intervalMs: 100 });
    let failures = 0;
    let reads = 0;
    let rotating = true;
    const reader = (async () => {
      while (rotating) {
        failures += await readAllTokens(svc);
        reads += 8;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const res = await runCli(["keys", "rotate", "--batch", "7"], fileEnv(), 40_000).finally(() => (rotating = false));
    await reader;
    await watcher.stop();
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(failures).toBe(0);
    expect(reads).toBeGreaterThan(8);

    const ring = readKeysFile(keysFilePath(database.dir));
    expect(ring.keys.map((k) => k.kid)).toEqual([ring.primary.kid, oldKid]);
    expect(res.stdout).toContain(`rotated to key ${ring.primary.kid} (previous ${oldKid}): ${USERS.length * 3 + 3} values re-sealed`);
    expectAllOpenWithOnly(await sealedValues(svc), ring.primary);
    expect(await countSealedWith(svc.ctx.db, oldKid)).toBe(0);
    // The service picked up the new key and now seals with it too.
    expect(svc.ctx.keyring.primary.kid).toBe(ring.primary.kid);
    expect(await readAllTokens(svc)).toBe(0);

    const events = await svc.server.inject({ method: "GET", url: "/api/v1/events?type=key.rotated", headers: svc.headers });
    expect(events.json().items).toHaveLength(1);
    expect(events.json().items[0].data).toEqual({ appId: null, userId: null, kid: ring.primary.kid, previousKid: oldKid, resealed: USERS.length * 3 + 3 });
    for (const s of [CLIENT_SECRET, APP_TOKEN, VERIFIER, access("user-01"), refresh("user-01")]) {
      expect(res.stdout + res.stderr + events.body + svc.logs.text()).not.toContain(s);
    }
  });

  it("retires the old key once nothing uses it, and the service keeps reading", async () => {
    const ring = readKeysFile(keysFilePath(database.dir));
    const old = ring.keys[1]!.kid;
    const res = await runCli(["keys", "retire", old], fileEnv());
    expect(res.code).toBe(0);
    expect(readKeysFile(keysFilePath(database.dir)).keys.map((k) => k.kid)).toEqual([ring.primary.kid]);
    expect(await readAllTokens(svc)).toBe(0);
  });

  it("resumes a rotation stopped after one batch, without adding another key, and is idempotent", async () => {
    const before = readKeysFile(keysFilePath(database.dir));
    const cli = await openSeparateContext(svc);
    let firstBatch = 0;
    await expect(
      rotateKeys(cli, {
        batchSize: 5,
        onBatch: ({ resealed }) => {
          firstBatch = resealed;
          throw new Error("crashed after one batch");
        },
      }),
    ).rejects.toThrow("crashed");
    await cli.close();
    const mid = readKeysFile(keysFilePath(database.dir));
    expect(mid.keys).toHaveLength(2);
    const kinds = new Set((await sealedValues(svc)).map((v) => sealedKid(v.value)));
    expect(kinds).toEqual(new Set([mid.primary.kid, before.primary.kid]));
    // Reads go on against the half-rotated data (the service reloads the keys file on a new kid).
    const watcher = startKeyringWatcher(svc.ctx, { intervalMs: 50 });
    await new Promise((r) => setTimeout(r, 150));
    expect(await readAllTokens(svc)).toBe(0);
    await watcher.stop();

    const again = await openSeparateContext(svc);
    try {
      const result = await rotateKeys(again, { batchSize: 5 });
      expect(result).toMatchObject({ resumed: true, kid: mid.primary.kid, previousKid: before.primary.kid });
      expect(firstBatch).toBeGreaterThan(0);
      expect(result.total).toBe(USERS.length * 3 + 3 - firstBatch);
      expect(readKeysFile(keysFilePath(database.dir)).keys).toHaveLength(2);
      expectAllOpenWithOnly(await sealedValues(svc), mid.primary);
      const none = await rotateKeys(again, { addKey: false });
      expect(none.total).toBe(0);
    } finally {
      await again.close();
    }
  });

  it("keeps a token written during the rotation (compare-and-swap) and re-seals it in a later pass", async () => {
    const cli = await openSeparateContext(svc);
    const oldRing = cli.keyring;
    const binding = { table: "connections", id: "", field: "access_token" };
    let written = false;
    try {
      await rotateKeys(cli, {
        batchSize: 5,
        onBatch: async ({ table }) => {
          if (written || table !== "connections") return;
          written = true;
          // An instance still on the old key rewrites the last user's token mid-rotation.
          const row = await svc.ctx.db.selectFrom("connections").select("id").where("user_id", "=", USERS.at(-1)!).executeTakeFirstOrThrow();
          binding.id = row.id;
          await svc.ctx.db.updateTable("connections").set({ access_token: seal(oldRing, "at-written-mid-rotation", binding) }).where("id", "=", row.id).execute();
        },
      });
      const row = await svc.ctx.db.selectFrom("connections").select("access_token").where("id", "=", binding.id).executeTakeFirstOrThrow();
      expect(sealedKid(row.access_token)).toBe(cli.keyring.primary.kid);
      expect(open(cli.keyring, row.access_token, binding)).toBe("at-written-mid-rotation");
    } finally {
      await cli.close();
    }
  });

  it("serves token reads of values another process just re-sealed with a key this instance has not loaded yet", async () => {
    // No keys-file watcher runs here: only the reload on an unknown key id can save these reads.
    const cli = await openSeparateContext(svc);
    try {
      await rotateKeys(cli, { batchSize: 50 });
      expect(svc.ctx.keyring.byKid.has(cli.keyring.primary.kid)).toBe(false);
      // Let the read cache hear of the re-sealed rows (NOTIFY, or SQLite's data_version poll).
      await new Promise((r) => setTimeout(r, 500));
      expect(await readAllTokens(svc)).toBe(0);
      expect(svc.ctx.keyring.primary.kid).toBe(cli.keyring.primary.kid);
    } finally {
      await cli.close();
    }
  });

  it("opens a value sealed with a key added by another process, after reloading the keys file once", async () => {
    const cli = await openSeparateContext(svc);
    try {
      const stale = { config: svc.ctx.config, log: svc.ctx.log, keyring: buildKeyring(svc.ctx.keyring.keys.slice(1).length ? svc.ctx.keyring.keys.slice(1) : [generateKey()]) };
      const binding = { table: "connections", id: "x", field: "access_token" };
      const sealed = seal(cli.keyring, "fresh", binding);
      expect(() => open(stale.keyring, sealed, binding)).toThrow(SealError);
      expect(openWithReload(stale, sealed, binding)).toBe("fresh");
      expect(stale.keyring.primary.kid).toBe(cli.keyring.primary.kid);
    } finally {
      await cli.close();
    }
  });
});

describe("keys commands usage", () => {
  it("exits 2 with the usage for a bad --batch", async () => {
    const res = await runCli(["keys", "rotate", "--batch", "0"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Usage: connected-apps keys rotate");
  });
  it("exits 2 with the usage when retire has no key id", async () => {
    const res = await runCli(["keys", "retire"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("Usage: connected-apps keys retire KID");
  });
});

describe.each(dialects)("key rotation with CONNECTED_APPS_KEYS on %s", (dialect: Dialect) => {
  let svc: TestService;
  const keys = formatKeyring(buildKeyring([generateKey()]));
  beforeAll(async () => {
    svc = await startTestService(dialect, { env: { CONNECTED_APPS_KEYS: keys } });
    await seed(svc);
  });
  afterAll(async () => svc?.close());

  it("prints the new value first, re-seals, and the printed value opens everything", async () => {
    const env = { DATABASE_URL: svc.database.url, CONNECTED_APPS_DATA_DIR: svc.database.dir, CONNECTED_APPS_KEYS: keys };
    const res = await runCli(["keys", "rotate"], env, 60_000);
    expect(res.code).toBe(0);
    const lines = res.stdout.trim().split("\n");
    expect(lines[1]).toMatch(/^CONNECTED_APPS_KEYS=/);
    const printed = lines[1]!.slice("CONNECTED_APPS_KEYS=".length);
    const ring = parseKeyring(printed);
    expect(ring.keys).toHaveLength(2);
    expect(formatKeyring(buildKeyring(ring.keys.slice(1)))).toBe(keys);
    expect(lines[2]).toContain(`${USERS.length * 3 + 3} values re-sealed`);
    expectAllOpenWithOnly(await sealedValues(svc), ring.primary);
    // An instance restarted with the printed value serves; one with the old value refuses to start.
    const next = await openSeparateContext(svc, { CONNECTED_APPS_KEYS: printed });
    await next.close();
    await expect(openSeparateContext(svc, { CONNECTED_APPS_KEYS: keys })).rejects.toThrow(/CONNECTED_APPS_KEYS/);
    const retire = await runCli(["keys", "retire", ring.keys[1]!.kid], { ...env, CONNECTED_APPS_KEYS: printed });
    expect(retire.code).toBe(0);
    expect(retire.stdout).toContain(`CONNECTED_APPS_KEYS=${formatKeyring(buildKeyring([ring.primary]))}`);
  });
});
