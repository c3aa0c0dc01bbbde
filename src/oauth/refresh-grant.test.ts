// A refresh answer that carries an ID token (OIDC Core §12.2): verified against the app's JWKS
// before the refresh counts, against a loopback fake serving both the token endpoint and keys.
import * as jose from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock, oauthTestContext, sendJson, startFakeEndpoint, testApp, type FakeEndpoint } from "../../test/support/fake-provider.ts";
import type { App } from "../apps/app-store.ts";
import { refreshGrant } from "./grants.ts";
import { ProviderFailure } from "./provider-failure.ts";

const clock = fixedClock();
const ctx = oauthTestContext({ clock });
let provider: FakeEndpoint;
let app: App;
let providerKey: CryptoKey;
let strangerKey: CryptoKey;
/** The ID token the next refresh answer carries. */
let nextIdToken = "";
/** How the JWKS endpoint answers: the keys, a 503, or an HTML page. */
let jwksMode: "up" | "down" | "html" = "up";

beforeAll(async () => {
  const pair = await jose.generateKeyPair("ES256", { extractable: true });
  providerKey = pair.privateKey;
  strangerKey = (await jose.generateKeyPair("ES256")).privateKey;
  const publicJwk = { ...(await jose.exportJWK(pair.publicKey)), kid: "p1", alg: "ES256", use: "sig" };
  /** /token answers a rotated refresh with `nextIdToken`; /jwks publishes the provider's key (or fails). */
  provider = await startFakeEndpoint((req, res) => {
    if (req.path === "/jwks") {
      if (jwksMode === "down") return sendJson(res, 503, {});
      if (jwksMode === "html") {
        res.writeHead(200, { "content-type": "text/html" });
        return void res.end("<html></html>");
      }
      return sendJson(res, 200, { keys: [publicJwk] });
    }
    sendJson(res, 200, { access_token: "at-2", token_type: "Bearer", expires_in: 600, refresh_token: "rt-2", id_token: nextIdToken });
  });
  app = testApp(ctx, { id: "refresh-oidc", issuer: provider.url, tokenEndpoint: `${provider.url}/token`, jwksUri: `${provider.url}/jwks` });
});
afterAll(() => provider.close());

async function idToken(key: CryptoKey, kid: string, claims: Record<string, unknown> = {}) {
  const now = Math.floor(clock.now() / 1000);
  return new jose.SignJWT({ iss: provider.url, sub: "u1", aud: "client-1", iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: "ES256", kid })
    .sign(key);
}

const failureOf = (p: Promise<unknown>) => p.then(() => expect.fail("expected a rejection"), (e: unknown) => e as ProviderFailure);

describe("refreshGrant with an ID token in the answer", () => {
  it("accepts one signed by the provider's key", async () => {
    nextIdToken = await idToken(providerKey, "p1");
    expect(await refreshGrant(ctx, app, "rt-1")).toMatchObject({ accessToken: "at-2", refreshToken: "rt-2", idToken: nextIdToken });
  });

  it("refuses one signed by another key as a bad answer", async () => {
    nextIdToken = await idToken(strangerKey, "p1");
    const failure = await failureOf(refreshGrant(ctx, app, "rt-1"));
    expect(failure).toBeInstanceOf(ProviderFailure);
    expect(failure).toMatchObject({ kind: "bad_answer", message: "the refreshed ID token was refused: the ID token's signature does not verify" });
  });

  it("refuses one for another audience (oauth4webapi's claim check)", async () => {
    nextIdToken = await idToken(providerKey, "p1", { aud: "another-client" });
    expect(await failureOf(refreshGrant(ctx, app, "rt-1"))).toMatchObject({ kind: "bad_answer" });
  });

  it("is unavailable when the provider's keys cannot be fetched", async () => {
    nextIdToken = await idToken(providerKey, "p-rotated");
    jwksMode = "down";
    try {
      expect(await failureOf(refreshGrant(ctx, app, "rt-1"))).toMatchObject({ kind: "unavailable" });
    } finally {
      jwksMode = "up";
    }
  });

  it("is a bad answer when the JWKS endpoint answers something that is not a key set", async () => {
    nextIdToken = await idToken(providerKey, "p-rotated-again");
    jwksMode = "html";
    try {
      expect(await failureOf(refreshGrant(ctx, app, "rt-1"))).toMatchObject({
        kind: "bad_answer",
        message: "the refreshed ID token was refused: the provider's JWKS is not usable",
      });
    } finally {
      jwksMode = "up";
    }
  });

  it("relies on TLS to the token endpoint when the app has no JWKS URI (OIDC Core §3.1.3.7 step 6)", async () => {
    nextIdToken = await idToken(strangerKey, "x");
    expect((await refreshGrant(ctx, { ...app, jwksUri: null }, "rt-1")).idToken).toBe(nextIdToken);
  });
});
