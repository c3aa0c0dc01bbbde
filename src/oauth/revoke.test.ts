// Token revocation (RFC 7009) against loopback fakes: what the endpoint sees, and each failure class.
import { afterEach, describe, expect, it } from "vitest";
import { oauthTestContext, sendJson, startFakeEndpoint, testApp, type FakeEndpoint, type FakeHandler } from "../../test/support/fake-provider.ts";
import { revokeToken } from "./grants.ts";
import { ProviderFailure } from "./provider-failure.ts";

const SECRET = "sentinel-client-secret-0002";
const ctx = oauthTestContext();
let fakes: FakeEndpoint[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function revocationAt(handler: FakeHandler, method: "client_secret_basic" | "client_secret_post" = "client_secret_basic") {
  const f = await startFakeEndpoint(handler);
  fakes.push(f);
  return { f, app: testApp(ctx, { revocationEndpoint: `${f.url}/revoke`, clientSecret: SECRET, tokenEndpointAuthMethod: method }) };
}

const failureOf = (p: Promise<unknown>) => p.then(() => expect.fail("expected a rejection"), (e: unknown) => e);

describe("revokeToken", () => {
  it("posts the token with its type hint and client authentication (RFC 7009 §2.1)", async () => {
    const { f, app } = await revocationAt((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    await revokeToken(ctx, app, "the-refresh-token", "refresh_token");
    expect(f.requests[0]!.params).toEqual({ token: "the-refresh-token", token_type_hint: "refresh_token" });
    expect(f.requests[0]!.headers.authorization).toMatch(/^Basic /);
  });

  it("sends the secret in the body with client_secret_post", async () => {
    const { f, app } = await revocationAt((_req, res) => {
      res.writeHead(200);
      res.end();
    }, "client_secret_post");
    await revokeToken(ctx, app, "at", "access_token");
    expect(f.requests[0]!.params).toEqual({ token: "at", token_type_hint: "access_token", client_id: "client-1", client_secret: SECRET });
  });

  it("a 503 with Retry-After is unavailable (RFC 7009 §2.2.1)", async () => {
    const { app } = await revocationAt((_req, res) => sendJson(res, 503, {}, { "retry-after": "12" }));
    const err = await failureOf(revokeToken(ctx, app, "at", "access_token"));
    expect(err).toBeInstanceOf(ProviderFailure);
    expect(err).toMatchObject({ kind: "unavailable", retryAfter: 12 });
  });

  it("unsupported_token_type is a bad answer", async () => {
    const { app } = await revocationAt((_req, res) => sendJson(res, 400, { error: "unsupported_token_type" }));
    expect(await failureOf(revokeToken(ctx, app, "at", "access_token"))).toMatchObject({ kind: "bad_answer", oauthError: "unsupported_token_type" });
  });

  it("invalid_client is grant_invalid", async () => {
    const { app } = await revocationAt((_req, res) => sendJson(res, 401, { error: "invalid_client" }));
    expect(await failureOf(revokeToken(ctx, app, "at", "access_token"))).toMatchObject({ kind: "grant_invalid" });
  });

  it("an error quoting the token does not carry it into the message", async () => {
    const { app } = await revocationAt((req, res) => sendJson(res, 400, { error: "invalid_request", error_description: `cannot revoke ${req.params.token}` }));
    const err = (await failureOf(revokeToken(ctx, app, "sentinel-token-to-revoke", "access_token"))) as ProviderFailure;
    expect(err.message).toBe("the provider answered invalid_request: cannot revoke [redacted]");
  });

  it("a 404 without a body is a bad answer", async () => {
    const { app } = await revocationAt((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    expect(await failureOf(revokeToken(ctx, app, "at", "access_token"))).toMatchObject({ kind: "bad_answer", status: 404 });
  });
});
