// The protocol layer against a real, certified OpenID Provider (oidc-provider) on 127.0.0.1:
// the code flow with PKCE and RFC 9207 iss, ID token validation (and every way a forged one is
// refused), userinfo, refresh with rotation, revocation and client credentials.
import * as jose from "jose";
import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../src/apps/app-store.ts";
import { systemClock } from "../../src/context.ts";
import { AppError } from "../../src/errors/problem.ts";
import { createOutboundFetch } from "../../src/net/outbound-fetch.ts";
import {
  assertSameIdentity,
  buildAuthorizationUrl,
  clientCredentialsGrant,
  exchangeCode,
  fetchUserinfo,
  refreshGrant,
  revokeToken,
  validateIdToken,
} from "../../src/oauth/grants.ts";
import { ProviderFailure } from "../../src/oauth/provider-failure.ts";
import type { TokenSet } from "../../src/oauth/token-set.ts";
import { oauthTestContext, testApp } from "../support/fake-provider.ts";
import { startOidcProvider, type TestOidcProvider } from "../support/oidc-provider.ts";

// oidc-provider stamps tokens with the real time, so this suite runs on the system clock; and
// through the service's own outbound fetch (SSRF guard with its loopback opt-out), as in production.
const ctx = oauthTestContext({ clock: systemClock, fetch: createOutboundFetch({ allowPrivateUrls: true }) });
let op: TestOidcProvider;
let other: TestOidcProvider;
let app: App;

beforeAll(async () => {
  op = await startOidcProvider();
  other = await startOidcProvider();
  app = appFor(op);
});

afterAll(async () => {
  await op?.close();
  await other?.close();
});

function appFor(provider: TestOidcProvider): App {
  return testApp(ctx, {
    id: `op-${new URL(provider.issuer).port}`,
    ...provider.appFields(),
    clientSecret: provider.client.clientSecret,
    tokenEndpointAuthMethod: "client_secret_basic",
    scopes: ["openid", "email", "profile", "api:read"],
    issParameterSupported: true,
    codeChallengeMethodsSupported: ["S256"],
  });
}

interface Flow {
  code: string;
  iss: string | null;
  verifier: string;
  nonce: string;
}

/** Runs the authorization request through login and consent and returns the callback's code. */
async function authorize(provider: TestOidcProvider, forApp: App): Promise<Flow> {
  const state = oauth.generateRandomState();
  const verifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const url = buildAuthorizationUrl(forApp, {
    redirectUri: provider.client.redirectUri,
    state,
    codeChallenge: await oauth.calculatePKCECodeChallenge(verifier),
    nonce,
  });
  const callback = await provider.authorize(url);
  expect(callback.searchParams.get("state")).toBe(state);
  return { code: callback.searchParams.get("code")!, iss: callback.searchParams.get("iss"), verifier, nonce };
}

const exchange = (forApp: App, flow: Flow, over: Partial<Parameters<typeof exchangeCode>[2]> = {}) =>
  exchangeCode(ctx, forApp, {
    code: flow.code,
    codeVerifier: flow.verifier,
    redirectUri: op.client.redirectUri,
    nonce: flow.nonce,
    iss: flow.iss,
    ...over,
  });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("expected a rejection"),
    (e: unknown) => e,
  );
}

async function idTokenRefusal(idToken: string, nonce: string | null = null): Promise<string> {
  const err = await rejection(validateIdToken(ctx, app, idToken, { nonce }));
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe("provider_error");
  return (err as AppError).detail;
}

/** A JWT signed with this provider's real key, with claims of the test's choosing. */
async function signedAs(provider: TestOidcProvider, claims: Record<string, unknown>): Promise<string> {
  const key = await jose.importJWK(provider.signingKey, "RS256");
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ sub: "alice", iss: provider.issuer, aud: provider.client.clientId, iat: now, exp: now + 300, ...claims })
    .setProtectedHeader({ alg: "RS256", kid: provider.signingKey.kid! })
    .sign(key);
}

describe("the authorization code flow", () => {
  let tokens: TokenSet;
  let flow: Flow;
  let claims: Record<string, unknown>;

  beforeAll(async () => {
    flow = await authorize(op, app);
    tokens = await exchange(app, flow);
    claims = await validateIdToken(ctx, app, tokens.idToken!, { nonce: flow.nonce });
  });

  it("sends iss in the authorization response (RFC 9207) and answers with tokens", () => {
    expect(flow.iss).toBe(op.issuer);
    expect(tokens).toMatchObject({ tokenType: "Bearer", expiresIn: 3600 });
    expect(tokens.accessToken).toEqual(expect.any(String));
    expect(tokens.refreshToken).toEqual(expect.any(String));
    expect(tokens.scopes).toEqual(expect.arrayContaining(["openid", "email", "profile"]));
  });

  it("gives an ID token whose signature and claims validate", () => {
    expect(claims).toMatchObject({ iss: op.issuer, sub: "alice", aud: op.client.clientId, nonce: flow.nonce });
  });

  it("gives an access token the provider's resource accepts", async () => {
    const res = await fetch(op.endpoints.resource, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: "alice" });
  });

  it("reads the account from userinfo", async () => {
    expect(await fetchUserinfo(ctx, app, tokens.accessToken)).toEqual({ sub: "alice", email: "alice@example.test", name: "Test alice" });
  });

  it("refreshes with a rotated refresh token and the same identity; the old one is then dead", async () => {
    const refreshed = await refreshGrant(ctx, app, tokens.refreshToken!);
    expect(refreshed.refreshToken).toEqual(expect.any(String));
    expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
    expect(refreshed.accessToken).not.toBe(tokens.accessToken);
    expect(() => assertSameIdentity(claims, jose.decodeJwt(refreshed.idToken!))).not.toThrow();

    const reused = await rejection(refreshGrant(ctx, app, tokens.refreshToken!));
    expect(reused).toBeInstanceOf(ProviderFailure);
    expect(reused).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_grant" });
  });

  it("a code is spent once: the second exchange is grant_invalid", async () => {
    expect(await rejection(exchange(app, flow))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_grant" });
  });
});

describe("the code exchange refuses", () => {
  it("a wrong PKCE verifier (grant_invalid)", async () => {
    const flow = await authorize(op, app);
    const err = await rejection(exchange(app, flow, { codeVerifier: oauth.generateRandomCodeVerifier() }));
    expect(err).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_grant" });
  });

  it("a callback iss from another issuer, before sending the code (RFC 9207)", async () => {
    const flow = await authorize(op, app);
    const err = await rejection(exchange(app, flow, { iss: other.issuer }));
    expect(err).toBeInstanceOf(ProviderFailure);
    expect(err).toMatchObject({ kind: "bad_answer" });
    // The code was not spent: the right iss still exchanges it.
    expect((await exchange(app, flow)).accessToken).toEqual(expect.any(String));
  });

  it("an ID token whose nonce is not the request's", async () => {
    const flow = await authorize(op, app);
    const err = await rejection(exchange(app, flow, { nonce: oauth.generateRandomNonce() }));
    expect(err).toBeInstanceOf(ProviderFailure);
    expect(err).toMatchObject({ kind: "bad_answer" });
    expect((err as ProviderFailure).message).toContain("nonce");
  });

  it("a wrong client secret (grant_invalid: invalid_client)", async () => {
    const flow = await authorize(op, app);
    const wrongSecret = testApp(ctx, { ...app, clientSecret: "not-the-secret" });
    expect(await rejection(exchange(wrongSecret, flow))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_client" });
  });
});

describe("ID token validation refuses", () => {
  it("a real ID token from a second provider (other key, other issuer)", async () => {
    const otherApp = appFor(other);
    const flow = await authorize(other, otherApp);
    const tokens = await exchangeCode(ctx, otherApp, {
      code: flow.code,
      codeVerifier: flow.verifier,
      redirectUri: other.client.redirectUri,
      nonce: flow.nonce,
      iss: flow.iss,
    });
    expect(await idTokenRefusal(tokens.idToken!, flow.nonce)).toBe("the ID token is not signed by any of the provider's keys (kid)");
  });

  it("a token signed with the provider's key but naming another issuer", async () => {
    expect(await idTokenRefusal(await signedAs(op, { iss: other.issuer }))).toBe("the ID token's issuer (iss) is not the app's issuer");
  });

  it("a hand-made JWT with alg none", async () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${part({ alg: "none" })}.${part({ iss: op.issuer, sub: "alice", aud: op.client.clientId, iat: now, exp: now + 300 })}.`;
    expect(await idTokenRefusal(unsigned)).toBe("the ID token's signature algorithm is not allowed (none and HS* are refused)");
  });

  it("a hand-made JWT with HS256 keyed with the client secret", async () => {
    const now = Math.floor(Date.now() / 1000);
    const hs = await new jose.SignJWT({ iss: op.issuer, sub: "alice", aud: op.client.clientId, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(op.client.clientSecret));
    expect(await idTokenRefusal(hs)).toBe("the ID token's signature algorithm is not allowed (none and HS* are refused)");
  });

  it("a good token checked against another nonce", async () => {
    const flow = await authorize(op, app);
    const tokens = await exchange(app, flow);
    expect(await idTokenRefusal(tokens.idToken!, "another-nonce")).toBe("the ID token's nonce does not match the request's");
  });

  it("a token without the nonce that was sent", async () => {
    expect(await idTokenRefusal(await signedAs(op, {}), "the-nonce")).toBe("the ID token has no nonce");
  });

  it("an expired token", async () => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    expect(await idTokenRefusal(await signedAs(op, { iat: past, exp: past + 600 }))).toBe("the ID token has expired (exp)");
  });

  it("a token issued in the future", async () => {
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect(await idTokenRefusal(await signedAs(op, { iat: future, exp: future + 600 }))).toBe("the ID token was issued in the future (iat)");
  });

  it("a token for another audience", async () => {
    expect(await idTokenRefusal(await signedAs(op, { aud: "someone-else" }))).toBe("the ID token's audience (aud) is not this app's client ID");
  });

  it("a token with several audiences and no azp", async () => {
    expect(await idTokenRefusal(await signedAs(op, { aud: [op.client.clientId, "someone-else"] }))).toBe(
      "the ID token has several audiences and no azp",
    );
  });

  it("a token whose azp is another client", async () => {
    expect(await idTokenRefusal(await signedAs(op, { azp: "someone-else" }))).toBe("the ID token's azp is not this app's client ID");
  });

  it("a token without iat", async () => {
    expect(await idTokenRefusal(await signedAs(op, { iat: undefined }))).toBe("the ID token has no iat claim");
  });
});

describe("an app without one fixed issuer", () => {
  it("with none (plain OAuth 2, or left open): the code flow works and the signature decides", async () => {
    const open = { ...app, issuer: null, issParameterSupported: false };
    const flow = await authorize(op, open);
    const tokens = await exchange(open, flow);
    expect(await validateIdToken(ctx, open, tokens.idToken!, { nonce: flow.nonce })).toMatchObject({ sub: "alice", iss: op.issuer });
    const err = await rejection(validateIdToken(ctx, open, await signedAs(other, {}), { nonce: null }));
    expect(err).toMatchObject({ code: "provider_error", detail: "the ID token is not signed by any of the provider's keys (kid)" });
  });

  it("with a {tenantid} placeholder: the token's tid fills it", async () => {
    const multiTenant = { ...app, issuer: `${op.issuer}/{tenantid}/v2.0` };
    const token = await signedAs(op, { iss: `${op.issuer}/t1/v2.0`, tid: "t1" });
    expect(await validateIdToken(ctx, multiTenant, token, { nonce: null })).toMatchObject({ tid: "t1" });
  });

  it("with a {tenantid} placeholder: an iss for another tenant than tid is refused", async () => {
    const multiTenant = { ...app, issuer: `${op.issuer}/{tenantid}/v2.0` };
    const token = await signedAs(op, { iss: `${op.issuer}/t1/v2.0`, tid: "t2" });
    const err = await rejection(validateIdToken(ctx, multiTenant, token, { nonce: null }));
    expect(err).toMatchObject({ code: "provider_error", detail: "the ID token's issuer (iss) is not the app's issuer" });
  });

  it("with a {tenantid} placeholder: a token without tid is refused", async () => {
    const multiTenant = { ...app, issuer: `${op.issuer}/{tenantid}/v2.0` };
    const token = await signedAs(op, { iss: `${op.issuer}/{tenantid}/v2.0` });
    const err = await rejection(validateIdToken(ctx, multiTenant, token, { nonce: null }));
    expect(err).toMatchObject({ code: "provider_error" });
  });
});

describe("a refreshed ID token for another account", () => {
  it("is refused by assertSameIdentity", () => {
    const original = { iss: op.issuer, sub: "alice", aud: op.client.clientId };
    expect(() => assertSameIdentity(original, { ...original, sub: "mallory" })).toThrow("the refreshed ID token names another account (sub)");
    expect(() => assertSameIdentity(original, { ...original, iss: other.issuer })).toThrow("another issuer (iss)");
    expect(() => assertSameIdentity(original, { ...original, aud: "x" })).toThrow("another audience (aud)");
  });
});

describe("revocation (RFC 7009)", () => {
  it("revokes a refresh token at the provider, after which it no longer refreshes", async () => {
    const tokens = await exchange(app, await authorize(op, app));
    expect(await op.provider.RefreshToken.find(tokens.refreshToken!)).toBeDefined();
    await revokeToken(ctx, app, tokens.refreshToken!, "refresh_token");
    expect(await op.provider.RefreshToken.find(tokens.refreshToken!)).toBeUndefined();
    expect(await rejection(refreshGrant(ctx, app, tokens.refreshToken!))).toMatchObject({ kind: "grant_invalid" });
  });

  it("revokes an access token, after which the resource refuses it", async () => {
    const tokens = await exchange(app, await authorize(op, app));
    await revokeToken(ctx, app, tokens.accessToken, "access_token");
    const res = await fetch(op.endpoints.resource, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(res.status).toBe(401);
  });

  it("is a no-op for an app without a revocation endpoint", async () => {
    await expect(revokeToken(ctx, { ...app, revocationEndpoint: null }, "whatever", "access_token")).resolves.toBeUndefined();
  });

  it("fails with invalid_client as grant_invalid when the secret is wrong", async () => {
    const wrongSecret = testApp(ctx, { ...app, clientSecret: "not-the-secret" });
    expect(await rejection(revokeToken(ctx, wrongSecret, "whatever", "access_token"))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_client" });
  });
});

describe("client credentials (RFC 6749 §4.4)", () => {
  it("gets the app's own token, which the provider knows", async () => {
    const tokens = await clientCredentialsGrant(ctx, { ...app, scopes: [] });
    expect(tokens).toMatchObject({ tokenType: "Bearer", refreshToken: null, idToken: null, expiresIn: 600 });
    expect(await op.provider.ClientCredentials.find(tokens.accessToken)).toMatchObject({ clientId: op.client.clientId });
  });

  it("with a wrong secret is grant_invalid", async () => {
    const wrongSecret = testApp(ctx, { ...app, clientSecret: "not-the-secret", scopes: [] });
    expect(await rejection(clientCredentialsGrant(ctx, wrongSecret))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_client" });
  });
});
