import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, dialects, type TestDatabase } from "../../test/support/databases.ts";
import { openDatabase, type Store } from "../store/database.ts";
import { migrateToLatest } from "../store/migrator.ts";
import { LoginRateLimit } from "./login-rate-limit.ts";

describe.each(dialects)("LoginRateLimit on %s", (dialect) => {
  let database: TestDatabase;
  let store: Store;
  const clock = { t: 0, now: () => clock.t };
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    store = openDatabase(database.url);
    await migrateToLatest(store.db as never);
  });
  afterAll(async () => {
    await store?.close();
    await database?.drop();
  });
  const limit = () => new LoginRateLimit({ db: store.db, clock });
  const rows = async () => (await store.db.selectFrom("login_failures").selectAll().execute()).length;

  it("blocks a pair after five failures until the first of them is fifteen minutes old", async () => {
    clock.t = 1_000_000;
    for (let i = 0; i < 5; i++) {
      expect(await limit().blockedFor("a@example.test", "10.0.0.1")).toBe(0);
      await limit().recordFailure("a@example.test", "10.0.0.1");
      clock.t += 1000;
    }
    expect(await limit().blockedFor("A@Example.test ", "10.0.0.1")).toBe(15 * 60 * 1000 - 5000);
    clock.t += 15 * 60 * 1000;
    expect(await limit().blockedFor("a@example.test", "10.0.0.1")).toBe(0);
  });

  it("counts each (email, address) pair apart", async () => {
    clock.t = 10_000_000;
    for (let i = 0; i < 5; i++) await limit().recordFailure("b@example.test", "10.0.0.1");
    expect(await limit().blockedFor("b@example.test", "10.0.0.1")).toBeGreaterThan(0);
    expect(await limit().blockedFor("b@example.test", "10.0.0.2")).toBe(0);
    expect(await limit().blockedFor("c@example.test", "10.0.0.1")).toBe(0);
  });

  it("forgets a pair's failures when it signs in", async () => {
    clock.t = 20_000_000;
    for (let i = 0; i < 4; i++) await limit().recordFailure("d@example.test", "10.0.0.1");
    await limit().recordSuccess("d@example.test", "10.0.0.1");
    await limit().recordFailure("d@example.test", "10.0.0.1");
    expect(await limit().blockedFor("d@example.test", "10.0.0.1")).toBe(0);
  });

  it("is shared: failures recorded by one instance block the pair at another", async () => {
    clock.t = 30_000_000;
    const other = openDatabase(database.url);
    try {
      for (let i = 0; i < 5; i++) await new LoginRateLimit({ db: other.db, clock }).recordFailure("e@example.test", "10.0.0.9");
      expect(await limit().blockedFor("e@example.test", "10.0.0.9")).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it("stores no email or address, and drops failures once they are out of the window", async () => {
    clock.t = 40_000_000;
    await limit().recordFailure("secret-person@example.test", "192.0.2.77");
    const stored = JSON.stringify(await store.db.selectFrom("login_failures").selectAll().execute());
    expect(stored).not.toContain("secret-person");
    expect(stored).not.toContain("192.0.2.77");
    clock.t += 16 * 60 * 1000;
    await limit().recordFailure("f@example.test", "10.0.0.1");
    expect(await rows()).toBe(1);
  });
});
