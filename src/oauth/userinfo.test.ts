// The account behind a token from a userinfo endpoint: OIDC userinfo and the plain "who am I"
// APIs several templates point at, against loopback fakes.
import { afterEach, describe, expect, it } from "vitest";
import { oauthTestContext, sendJson, startFakeEndpoint, testApp, type FakeEndpoint, type FakeHandler } from "../../test/support/fake-provider.ts";
import { fetchUserinfo } from "./grants.ts";
import { ProviderFailure } from "./provider-failure.ts";

const ctx = oauthTestContext();
let fakes: FakeEndpoint[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function userinfoFrom(handler: FakeHandler) {
  const f = await startFakeEndpoint(handler);
  fakes.push(f);
  return { f, app: testApp(ctx, { userinfoEndpoint: `${f.url}/userinfo` }) };
}

describe("fetchUserinfo", () => {
  it("is null when the app has no userinfo endpoint, without a call", async () => {
    expect(await fetchUserinfo(ctx, testApp(ctx), "at")).toBeNull();
  });

  it("reads OIDC userinfo, sending the token as Bearer", async () => {
    const { f, app } = await userinfoFrom((_req, res) => sendJson(res, 200, { sub: "u-1", email: "u1@example.test", name: "User One" }));
    expect(await fetchUserinfo(ctx, app, "the-access-token")).toEqual({ sub: "u-1", email: "u1@example.test", name: "User One" });
    expect(f.requests[0]!.headers.authorization).toBe("Bearer the-access-token");
  });

  it("reads a GitHub-like /user (numeric id, login, email null)", async () => {
    const { app } = await userinfoFrom((_req, res) => sendJson(res, 200, { id: 583231, login: "octocat", name: null, email: null }));
    expect(await fetchUserinfo(ctx, app, "at")).toEqual({ sub: "583231", email: null, name: "octocat" });
  });

  it("reads an account nested under user (Zendesk-like)", async () => {
    const { app } = await userinfoFrom((_req, res) => sendJson(res, 200, { user: { id: 35436, name: "Johnny Agent", email: "johnny@example.test" } }));
    expect(await fetchUserinfo(ctx, app, "at")).toEqual({ sub: "35436", email: "johnny@example.test", name: "Johnny Agent" });
  });

  it("a 401 is a bad answer", async () => {
    const { app } = await userinfoFrom((_req, res) => sendJson(res, 401, { error: "invalid_token" }));
    const err = await fetchUserinfo(ctx, app, "at").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderFailure);
    expect(err).toMatchObject({ kind: "bad_answer", status: 401 });
  });

  it("a 503 is unavailable with its Retry-After", async () => {
    const { app } = await userinfoFrom((_req, res) => sendJson(res, 503, {}, { "retry-after": "3" }));
    expect(await fetchUserinfo(ctx, app, "at").catch((e: unknown) => e)).toMatchObject({ kind: "unavailable", retryAfter: 3 });
  });

  it("an HTML page is a bad answer", async () => {
    const { app } = await userinfoFrom((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html></html>");
    });
    expect(await fetchUserinfo(ctx, app, "at").catch((e: unknown) => e)).toMatchObject({ kind: "bad_answer" });
  });
});
