// Signed webhooks from the outbox (SPEC §7) against a loopback receiver, on both databases:
// valid signatures, forged and stale ones refused, delivery across a receiver outage and a
// service restart with the original ids, and two instances never sending one event at once.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { buildKeyring, formatKeyring, generateKey } from "../../src/crypto/keyring.ts";
import { recordEvent } from "../../src/events/record-event.ts";
import { startOutboxWorker, retryDelayMs, type OutboxWorker } from "../../src/events/outbox-worker.ts";
import { checkWebhookSignature, signWebhook } from "../../src/events/webhook-signature.ts";
import { verifyWebhook, WebhookVerificationError } from "../../src/sdk/index.ts";
import { createTestDatabase, dialects, type TestDatabase } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";
import { waitFor, WebhookReceiver } from "./webhook-receiver.ts";

const WEBHOOK_SECRET = "whsec-sentinel-9c2e11";
const ACCESS = "at-sentinel-5d7e02";
const REFRESH = "rt-sentinel-61aa3f";
const CLIENT_SECRET = "cs-sentinel-0b9d44";
const fast = { pollMs: 30, baseDelayMs: 40, maxDelayMs: 200, attemptTimeoutMs: 2000 };

describe("webhook signature", () => {
  const body = JSON.stringify({ id: "evt_1", type: "connection.created", createdAt: "2026-12-04T12:00:00.000Z", data: { appId: "a", userId: "u" } });
  const t = 1_796_385_600;

  it("is accepted by the service's checker and by the SDK verifier", () => {
    const header = signWebhook(WEBHOOK_SECRET, body, t);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(checkWebhookSignature(WEBHOOK_SECRET, body, header, t + 10)).toBe("valid");
    expect(verifyWebhook(body, header, WEBHOOK_SECRET, { now: new Date((t + 10) * 1000) }).id).toBe("evt_1");
  });

  it("refuses a signature forged with another secret", () => {
    const header = signWebhook("not-the-secret", body, t);
    expect(checkWebhookSignature(WEBHOOK_SECRET, body, header, t)).toBe("mismatch");
    expect(() => verifyWebhook(body, header, WEBHOOK_SECRET, { now: new Date(t * 1000) })).toThrow(WebhookVerificationError);
  });

  it("refuses a body changed after signing", () => {
    const header = signWebhook(WEBHOOK_SECRET, body, t);
    expect(checkWebhookSignature(WEBHOOK_SECRET, body.replace('"u"', '"v"'), header, t)).toBe("mismatch");
  });

  it("refuses a signature older than five minutes", () => {
    const header = signWebhook(WEBHOOK_SECRET, body, t);
    expect(checkWebhookSignature(WEBHOOK_SECRET, body, header, t + 301)).toBe("stale");
    expect(() => verifyWebhook(body, header, WEBHOOK_SECRET, { now: new Date((t + 301) * 1000) })).toThrow(/more than 300 s/);
  });

  it("refuses a missing or malformed header", () => {
    expect(checkWebhookSignature(WEBHOOK_SECRET, body, undefined, t)).toBe("malformed");
    expect(checkWebhookSignature(WEBHOOK_SECRET, body, "t=abc,v1=zz", t)).toBe("malformed");
  });

  it("backs off exponentially with jitter, capped", () => {
    const s = { baseDelayMs: 1000, maxDelayMs: 3600_000 };
    expect(retryDelayMs(1, s, () => 0)).toBe(500);
    expect(retryDelayMs(1, s, () => 1)).toBe(1000);
    expect(retryDelayMs(5, s, () => 1)).toBe(16_000);
    expect(retryDelayMs(30, s, () => 1)).toBe(3600_000);
  });
});

describe.each(dialects)("webhooks on %s", (dialect) => {
  const receiver = new WebhookReceiver();
  const keys = formatKeyring(buildKeyring([generateKey()]));
  let database: TestDatabase;
  let svc: TestService;
  const started: OutboxWorker[] = [];
  const env = () => ({ WEBHOOK_URL: receiver.url, WEBHOOK_SECRET, CONNECTED_APPS_KEYS: keys });
  const worker = (s: TestService, o = {}) => {
    const w = startOutboxWorker(s.ctx, { ...fast, ...o });
    started.push(w);
    return w;
  };
  const record = (s: TestService, userId: string) => recordEvent(s.ctx.db, s.ctx, { type: "connection.created", appId: "acme", userId });

  beforeAll(async () => {
    await receiver.start();
    database = await createTestDatabase(dialect);
    svc = await startTestService(dialect, { database, env: env() });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((w) => w.stop()));
    receiver.deliveries.length = 0;
    receiver.delayMs = 0;
    receiver.answer = 200;
  });
  afterAll(async () => {
    await svc?.close();
    await receiver.stop();
    await database?.drop();
  });

  it("delivers a connection event with a valid signature, no token in it, and logs the delivery", async () => {
    const app = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { name: "Acme", clientId: "c", clientSecret: CLIENT_SECRET, authorizationEndpoint: "https://a.test/auth", tokenEndpoint: "https://a.test/token" },
    });
    expect(app.statusCode).toBe(201);
    await saveConnection(svc.ctx, {
      appId: "acme",
      userId: "u-signed",
      tokens: { accessToken: ACCESS, refreshToken: REFRESH, idToken: null, tokenType: "Bearer", expiresIn: 3600, scopes: ["read"] },
      account: { sub: "s1", email: null, name: null },
      requestedScopes: ["read"],
    });
    worker(svc);
    await waitFor(() => receiver.deliveries.length === 1);
    const d = receiver.deliveries[0]!;
    const event = verifyWebhook(d.body, d.signature, WEBHOOK_SECRET);
    expect(event).toMatchObject({ type: "connection.created", data: { appId: "acme", userId: "u-signed" } });
    expect(Object.keys(JSON.parse(d.body)).sort()).toEqual(["createdAt", "data", "id", "type"]);

    await waitFor(async () => {
      const res = await svc.server.inject({ method: "GET", url: "/api/v1/events?userId=u-signed", headers: svc.headers });
      return res.json().items[0]?.delivery.deliveredAt !== null;
    });
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/events?userId=u-signed", headers: svc.headers });
    expect(res.json().items[0]).toMatchObject({ id: event.id, delivery: { attempts: 1, lastStatus: "200", nextAttemptAt: null } });

    const rows = JSON.stringify(await svc.ctx.db.selectFrom("events").selectAll().execute());
    for (const secret of [ACCESS, REFRESH, CLIENT_SECRET, WEBHOOK_SECRET]) {
      expect(d.body).not.toContain(secret);
      expect(d.signature).not.toContain(secret);
      expect(res.body).not.toContain(secret);
      expect(rows).not.toContain(secret);
      expect(svc.logs.text()).not.toContain(secret);
    }
  });

  it("retries while the receiver is down, across a restart, and delivers every event with its original id", async () => {
    const port = receiver.port;
    await receiver.stop();
    const ids = [await record(svc, "u-down-1"), await record(svc, "u-down-2"), await record(svc, "u-down-3")];
    const w = worker(svc);
    await waitFor(async () => {
      const rows = await svc.ctx.db.selectFrom("events").select("attempts").where("id", "in", ids).execute();
      return rows.every((r) => Number(r.attempts) >= 2);
    });
    const failed = await svc.server.inject({ method: "GET", url: "/api/v1/events?userId=u-down-1", headers: svc.headers });
    expect(failed.json().items[0].delivery).toMatchObject({ lastStatus: "network_error", deliveredAt: null });
    expect(failed.json().items[0].delivery.nextAttemptAt).not.toBeNull();

    // The service restarts (a new context on the same database) while the receiver is still down.
    await w.stop();
    started.splice(started.indexOf(w), 1);
    await svc.close();
    svc = await startTestService(dialect, { database, env: env() });
    await receiver.start(port);
    worker(svc);
    await waitFor(() => ids.every((id) => receiver.ids().includes(id)));
    for (const d of receiver.deliveries) expect(verifyWebhook(d.body, d.signature, WEBHOOK_SECRET).id).toBeTypeOf("string");
    // The receiver has it; the attempt is recorded just after its answer.
    await waitFor(async () => {
      const after = await svc.server.inject({ method: "GET", url: "/api/v1/events?userId=u-down-2", headers: svc.headers });
      return after.json().items[0].delivery.lastStatus === "200";
    });
  });

  it("retries after a 503 answer and records the status", async () => {
    receiver.answer = 503;
    const id = await record(svc, "u-503");
    worker(svc);
    await waitFor(async () => {
      const row = await svc.ctx.db.selectFrom("events").select(["attempts", "last_status"]).where("id", "=", id).executeTakeFirstOrThrow();
      return Number(row.attempts) >= 1 && row.last_status === "503";
    });
    receiver.answer = 200;
    await waitFor(() => receiver.ids().includes(id));
  });

  it("gives up after an attempt times out, then tries again later", async () => {
    receiver.delayMs = 400;
    const id = await record(svc, "u-slow");
    worker(svc, { attemptTimeoutMs: 100 });
    await waitFor(async () => {
      const row = await svc.ctx.db.selectFrom("events").select("last_status").where("id", "=", id).executeTakeFirstOrThrow();
      return row.last_status === "timeout";
    });
  });

  it("two instances never send one event at the same moment", async () => {
    const other = await startTestService(dialect, { database, env: env() });
    try {
      receiver.delayMs = 150;
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push(await record(svc, `u-pair-${i}`));
      worker(svc, { concurrency: 4, batch: 4 });
      worker(other, { concurrency: 4, batch: 4 });
      await waitFor(() => ids.every((id) => receiver.ids().includes(id)), 20_000);
      expect(Math.max(...ids.map((id) => receiver.peakConcurrent.get(id) ?? 0))).toBe(1);
      const got = receiver.ids().filter((id) => ids.includes(id));
      expect(new Set(got).size).toBe(ids.length);
      expect(got.length).toBe(ids.length);
    } finally {
      await Promise.all(started.splice(0).map((w) => w.stop()));
      await other.close();
    }
  });

  it("delivers to a loopback WEBHOOK_URL with the SSRF guard on (the operator's own URL)", async () => {
    const guarded = await startTestService(dialect, { database, env: { ...env(), CONNECTED_APPS_ALLOW_PRIVATE_URLS: "false" } });
    try {
      const id = await record(guarded, "u-guarded");
      worker(guarded);
      await waitFor(() => receiver.ids().includes(id));
    } finally {
      await Promise.all(started.splice(0).map((w) => w.stop()));
      await guarded.close();
    }
  });

  it("stops cleanly and gives back its leases", async () => {
    receiver.delayMs = 5000;
    const id = await record(svc, "u-stop");
    const w = worker(svc, { stopGraceMs: 100 });
    await waitFor(async () => (await svc.ctx.db.selectFrom("events").select("lease_owner").where("id", "=", id).executeTakeFirstOrThrow()).lease_owner !== null);
    await w.stop();
    const row = await svc.ctx.db.selectFrom("events").select(["lease_owner", "attempts", "delivered_at"]).where("id", "=", id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ lease_owner: null, delivered_at: null });
    expect(Number(row.attempts)).toBe(0);
  });
});
