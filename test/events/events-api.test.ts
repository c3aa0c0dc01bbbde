// GET /api/v1/events (SPEC §4, §7): filters, paging by `after`, bad parameters, on both databases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordEvent } from "../../src/events/record-event.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

describe.each(dialects)("events API on %s", (dialect) => {
  let svc: TestService;
  const ids: string[] = [];
  beforeAll(async () => {
    svc = await startTestService(dialect);
    const seed = [
      { type: "connection.created", appId: "acme", userId: "u1" },
      { type: "connection.created", appId: "acme", userId: "u2" },
      { type: "connection.needs_reconnect", appId: "acme", userId: "u1", data: { error: "invalid_grant" } },
      { type: "connection.created", appId: "globex", userId: "u1" },
      { type: "connection.recovered", appId: "acme", userId: "u1", data: { by: "refresh" } },
      { type: "connection.deleted", appId: "acme", userId: "u2" },
    ] as const;
    for (const e of seed) ids.push(await recordEvent(svc.ctx.db, svc.ctx, e));
  });
  afterAll(async () => svc?.close());

  const get = (query: string) => svc.server.inject({ method: "GET", url: `/api/v1/events${query}`, headers: svc.headers });
  const count = async () => Number((await svc.ctx.db.selectFrom("events").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);

  it("lists every event oldest first, with data and an empty delivery log (no WEBHOOK_URL)", async () => {
    const res = await get("");
    expect(res.statusCode).toBe(200);
    const items = res.json().items;
    expect(items.map((e: { id: string }) => e.id)).toEqual(ids);
    expect(items[2]).toMatchObject({
      type: "connection.needs_reconnect",
      data: { appId: "acme", userId: "u1", error: "invalid_grant" },
      delivery: { attempts: 0, lastStatus: null, deliveredAt: null, nextAttemptAt: null },
    });
    expect(new Date(items[0].createdAt).toISOString()).toBe(items[0].createdAt);
  });

  it("filters by appId, userId and type together", async () => {
    const res = await get("?appId=acme&userId=u1&type=connection.created");
    expect(res.json().items.map((e: { id: string }) => e.id)).toEqual([ids[0]]);
    const byUser = await get("?userId=u1");
    expect(byUser.json().items.map((e: { id: string }) => e.id)).toEqual([ids[0], ids[2], ids[3], ids[4]]);
  });

  it("pages with after and limit", async () => {
    const first = (await get("?limit=2")).json().items.map((e: { id: string }) => e.id);
    expect(first).toEqual(ids.slice(0, 2));
    const second = (await get(`?limit=2&after=${first[1]}`)).json().items.map((e: { id: string }) => e.id);
    expect(second).toEqual(ids.slice(2, 4));
    const last = (await get(`?after=${ids[5]}`)).json().items;
    expect(last).toEqual([]);
  });

  it("pages a filtered list with after", async () => {
    const res = await get(`?appId=acme&after=${ids[1]}`);
    expect(res.json().items.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[4], ids[5]]);
  });

  const bad: Array<[string, string]> = [
    ["an unknown type", "?type=connection.exploded"],
    ["an after that is not an event id", "?after=42"],
    ["an after naming no event", `?after=evt_${"0".repeat(32)}`],
    ["a limit of zero", "?limit=0"],
    ["a limit that is not a number", "?limit=ten"],
    ["a limit above 500", "?limit=501"],
    ["an unknown parameter", "?status=active"],
    ["an empty appId", "?appId="],
  ];
  for (const [name, query] of bad) {
    it(`answers 400 invalid_request for ${name}, and stores nothing`, async () => {
      const before = await count();
      const res = await get(query);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe("invalid_request");
      expect(await count()).toBe(before);
    });
  }

  it("needs an API key", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/events" });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("unauthorized");
  });
});
