// The CLI as a user runs it (SPEC §3): `node bin/connected-apps.mjs ...` in a child process.
// Exit codes 0 success, 1 failure with one line on stderr and no stack, 2 bad usage with the usage.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildKeyring, formatKeyring, generateKey } from "../../src/crypto/keyring.ts";
import { createTestDatabase, dialects, type TestDatabase } from "../support/databases.ts";
import { startTestService } from "../support/test-service.ts";
import { freePort, lines, runCli, type CliResult } from "./cli-process.ts";

const STACK_LINE = /^\s+at .+/m;
const COMMANDS = [["serve"], ["migrate"], ["users", "create"], ["api-keys", "create"]];

function newKeys(): string {
  return formatKeyring(buildKeyring([generateKey()]));
}

function expectOneLineFailure(res: CliResult, mentions: string) {
  expect(res.code).toBe(1);
  expect(res.stdout).toBe("");
  expect(lines(res.stderr)).toHaveLength(1);
  expect(res.stderr).toContain(mentions);
  expect(res.stderr).not.toMatch(STACK_LINE);
}

function expectUsageError(res: CliResult, mentions: string) {
  expect(res.code).toBe(2);
  expect(res.stdout).toBe("");
  expect(res.stderr).toContain("Usage:");
  expect(res.stderr).toContain(mentions);
  expect(res.stderr).not.toMatch(STACK_LINE);
}

describe("connected-apps usage", () => {
  it("prints the overview for --help and exits 0", async () => {
    const res = await runCli(["--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Usage: connected-apps <command>");
    for (const c of COMMANDS) expect(res.stdout).toContain(`connected-apps ${c.join(" ")}`);
  });

  it.each(COMMANDS.map((c) => [c.join(" ")]))("prints the usage of `%s` for --help and exits 0", async (words) => {
    const command = words.split(" ");
    const res = await runCli([...command, "--help"]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Usage: connected-apps ${command.join(" ")}`);
    expect(res.stderr).toBe("");
  });

  it("exits 2 with the usage on stderr when given no arguments", async () => {
    expectUsageError(await runCli([]), "Commands:");
  });

  it("exits 2 with the usage on stderr for an unknown command", async () => {
    expectUsageError(await runCli(["frobnicate"]), '"frobnicate"');
  });

  it("exits 2 with the usage on stderr for an unknown flag", async () => {
    expectUsageError(await runCli(["api-keys", "create", "--name", "x", "--colour", "blue"]), "--colour");
  });

  it("exits 2 with the usage on stderr when --name is missing", async () => {
    expectUsageError(await runCli(["api-keys", "create"]), "--name is required");
  });

  it("exits 2 with the usage on stderr when --password is missing", async () => {
    expectUsageError(await runCli(["users", "create", "--email", "a@example.test"]), "--password is required");
  });

  it("exits 2 for an unexpected argument to migrate", async () => {
    expectUsageError(await runCli(["migrate", "extra"]), "Usage: connected-apps migrate");
  });
});

describe.each(dialects)("connected-apps commands on %s", (dialect) => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase(dialect);
    env = { DATABASE_URL: db.url, CONNECTED_APPS_DATA_DIR: db.dir, CONNECTED_APPS_KEYS: newKeys() };
  });
  afterAll(async () => db?.drop());

  it("migrate applies the migrations and exits 0", async () => {
    const res = await runCli(["migrate"], env);
    expect(res.code).toBe(0);
    expect(res.stderr).not.toMatch(STACK_LINE);
    const again = await runCli(["migrate"], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("up to date");
  });

  it("api-keys create prints exactly one line, the key, and the key works against the server", async () => {
    const res = await runCli(["api-keys", "create", "--name", "ci"], env);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toHaveLength(1);
    const key = res.stdout.trim();
    expect(res.stdout).toBe(`${key}\n`);
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(key).not.toMatch(/\s/);

    const svc = await startTestService(dialect, { database: db, env: { CONNECTED_APPS_KEYS: env.CONNECTED_APPS_KEYS! } });
    try {
      const ok = await svc.server.inject({ method: "GET", url: "/api/v1/apps", headers: { authorization: `Bearer ${key}` } });
      expect(ok.statusCode).toBe(200);
      const wrong = await svc.server.inject({ method: "GET", url: "/api/v1/apps", headers: { authorization: `Bearer ${key.slice(0, -2)}xx` } });
      expect(wrong.statusCode).toBe(401);
      const row = await svc.ctx.db.selectFrom("api_keys").selectAll().where("name", "=", "ci").executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(key);
      expect(JSON.stringify(row)).not.toContain(key.slice(-20));
    } finally {
      await svc.close();
    }
  });

  it("users create prints the new account's id, one line", async () => {
    const res = await runCli(["users", "create", "--email", "ada@example.test", "--password", "correct horse battery", "--admin"], env);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toHaveLength(1);
    expect(res.stdout.trim()).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("users create exits 1 with one line and no stack for an email that exists", async () => {
    const res = await runCli(["users", "create", "--email", "ADA@example.test", "--password", "another password"], env);
    expectOneLineFailure(res, "ada@example.test");
  });

  it("users create exits 1 with one line for a password that is too short, storing nothing", async () => {
    const res = await runCli(["users", "create", "--email", "bob@example.test", "--password", "short"], env);
    expectOneLineFailure(res, "password");
    const again = await runCli(["users", "create", "--email", "bob@example.test", "--password", "long enough now"], env);
    expect(again.code).toBe(0);
  });
});

describe("connected-apps configuration errors", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ca-cli-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const sqlite = (name: string) => ({ DATABASE_URL: `sqlite:${join(dir, `${name}.db`)}`, CONNECTED_APPS_DATA_DIR: join(dir, name) });

  it.each([
    ["a scheme that is neither sqlite nor postgres", "mysql://root@127.0.0.1/db"],
    ["a postgres URL with a space in it", "postgres://user@local host/db"],
    ["a bare path", "./data/connected-apps.db"],
  ])("exits 1 naming DATABASE_URL for %s", async (_label, url) => {
    const res = await runCli(["migrate"], { DATABASE_URL: url, CONNECTED_APPS_DATA_DIR: join(dir, "never") });
    expectOneLineFailure(res, "DATABASE_URL");
    expect(existsSync(join(dir, "never"))).toBe(false);
  });

  it.each([
    ["a key of 16 bytes", `k1:${randomBytes(16).toString("base64")}`],
    ["a key of 33 bytes", `k1:${randomBytes(33).toString("base64")}`],
    ["a key without a kid", randomBytes(32).toString("base64")],
    ["a key that is not base64", "k1:not*base64*at*all"],
  ])("exits 1 naming CONNECTED_APPS_KEYS for %s, on every command", async (_label, keys) => {
    for (const args of [["migrate"], ["api-keys", "create", "--name", "x"], ["serve"]]) {
      const res = await runCli(args, { ...sqlite("badkey"), CONNECTED_APPS_KEYS: keys, PORT: "0" });
      expectOneLineFailure(res, "CONNECTED_APPS_KEYS");
    }
  });

  it("exits 1 naming PORT for a port that is not a number", async () => {
    expectOneLineFailure(await runCli(["migrate"], { ...sqlite("port"), PORT: "eighty" }), "PORT");
  });

  it("generates keys.json with mode 0600 and warns on first start without CONNECTED_APPS_KEYS", async () => {
    const env = sqlite("fresh");
    const res = await runCli(["api-keys", "create", "--name", "first"], env);
    expect(res.code).toBe(0);
    expect(lines(res.stdout)).toHaveLength(1);
    const file = join(env.CONNECTED_APPS_DATA_DIR, "keys.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const warning = lines(res.stderr).map((l) => JSON.parse(l) as { level: number; msg: string; file?: string }).find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/generated a new encryption keyring/);
    expect(warning?.file).toBe(file);
    // The second start reuses the file, quietly.
    const second = await runCli(["api-keys", "create", "--name", "second"], env);
    expect(second.code).toBe(0);
    expect(second.stderr).toBe("");
  });

  it("refuses to serve existing data with a different CONNECTED_APPS_KEYS (exit 1, clear message)", async () => {
    const env = sqlite("rekeyed");
    expect((await runCli(["migrate"], { ...env, CONNECTED_APPS_KEYS: newKeys() })).code).toBe(0);
    expect((await runCli(["api-keys", "create", "--name", "a"], { ...env, CONNECTED_APPS_KEYS: newKeys() })).code).toBe(0);
    const port = await freePort();
    const res = await runCli(["serve"], { ...env, CONNECTED_APPS_KEYS: newKeys(), PORT: String(port) });
    expectOneLineFailure(res, "CONNECTED_APPS_KEYS");
    expect(res.stderr).toMatch(/does not hold/);
  });

  it("refuses to start when keys.json was lost for existing data, instead of generating a new ring", async () => {
    const env = sqlite("lostkeys");
    expect((await runCli(["api-keys", "create", "--name", "a"], env)).code).toBe(0);
    rmSync(join(env.CONNECTED_APPS_DATA_DIR, "keys.json"));
    const res = await runCli(["api-keys", "create", "--name", "b"], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe("");
    expect(res.stderr).toContain("CONNECTED_APPS_KEYS");
    expect(res.stderr).toContain("missing");
    expect(res.stderr).not.toMatch(STACK_LINE);
    // No useless new keyring is left behind for data it could never open.
    expect(existsSync(join(env.CONNECTED_APPS_DATA_DIR, "keys.json"))).toBe(false);
  });
});
