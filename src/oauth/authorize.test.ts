// The authorization request URL (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1).
import { describe, expect, it } from "vitest";
import { oauthTestContext, testApp } from "../../test/support/fake-provider.ts";
import type { App } from "../apps/app-store.ts";
import { AppError } from "../errors/problem.ts";
import { buildAuthorizationUrl, usesPkce, type AuthorizationRequest } from "./grants.ts";

const ctx = oauthTestContext();
const request: AuthorizationRequest = { redirectUri: "http://localhost:8000/oauth/callback/test-app", state: "st-1", codeChallenge: "ch-1", nonce: "n-1" };
const paramsOf = (app: App, req = request) => Object.fromEntries(buildAuthorizationUrl(app, req).searchParams);

describe("buildAuthorizationUrl", () => {
  it("sends the protocol parameters, PKCE S256 and the nonce", () => {
    const url = buildAuthorizationUrl(testApp(ctx, { scopes: ["openid", "email"] }), request);
    expect(url.origin + url.pathname).toBe("https://provider.example/authorize");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: "code",
      client_id: "client-1",
      redirect_uri: request.redirectUri,
      scope: "openid email",
      state: "st-1",
      code_challenge: "ch-1",
      code_challenge_method: "S256",
      nonce: "n-1",
    });
  });

  it("joins scopes with the app's scopeSeparator (Slack-like ',')", () => {
    expect(paramsOf(testApp(ctx, { scopes: ["chat:write", "users:read"], scopeSeparator: "," })).scope).toBe("chat:write,users:read");
  });

  it("omits scope when the app has none, and PKCE and nonce when they are off", () => {
    const params = paramsOf(testApp(ctx), { ...request, codeChallenge: null, nonce: null });
    expect(params).toEqual({ response_type: "code", client_id: "client-1", redirect_uri: request.redirectUri, state: "st-1" });
  });

  it("adds the app's extra parameters", () => {
    const params = paramsOf(testApp(ctx, { extraParams: { access_type: "offline", prompt: "consent", user_scope: "users:read" } }));
    expect(params).toMatchObject({ access_type: "offline", prompt: "consent", user_scope: "users:read" });
  });

  it("never lets extra parameters override a protocol parameter", () => {
    const extraParams = {
      client_id: "evil",
      redirect_uri: "https://evil.example/cb",
      state: "evil",
      code_challenge: "evil",
      code_challenge_method: "plain",
      response_type: "token",
      scope: "admin",
      nonce: "evil",
    };
    const url = buildAuthorizationUrl(testApp(ctx, { scopes: ["openid"], extraParams }), request);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: "client-1",
      redirect_uri: request.redirectUri,
      state: "st-1",
      code_challenge: "ch-1",
      code_challenge_method: "S256",
      response_type: "code",
      scope: "openid",
      nonce: "n-1",
    });
    for (const name of Object.keys(extraParams)) expect(url.searchParams.getAll(name)).toHaveLength(1);
  });

  it("does not send a nonce or challenge from extra parameters when the flow has none", () => {
    const params = paramsOf(testApp(ctx, { extraParams: { nonce: "evil", code_challenge: "evil" } }), { ...request, codeChallenge: null, nonce: null });
    expect(params.nonce).toBeUndefined();
    expect(params.code_challenge).toBeUndefined();
  });

  it("keeps the endpoint's own query but drops protocol parameters from it", () => {
    const app = testApp(ctx, { authorizationEndpoint: "https://provider.example/authorize?tenant=t1&client_id=evil" });
    const url = buildAuthorizationUrl(app, request);
    expect(url.searchParams.get("tenant")).toBe("t1");
    expect(url.searchParams.getAll("client_id")).toEqual(["client-1"]);
  });

  it("refuses an app without an authorization endpoint (invalid_request)", () => {
    expect(appErrorOf(() => buildAuthorizationUrl(testApp(ctx, { authorizationEndpoint: null }), request))).toMatchObject({
      code: "invalid_request",
      detail: 'the app "test-app" has no authorization endpoint',
    });
  });

  it("refuses an app without a client ID (invalid_request)", () => {
    expect(appErrorOf(() => buildAuthorizationUrl(testApp(ctx, { clientId: null }), request))).toMatchObject({
      code: "invalid_request",
      detail: 'the app "test-app" has no client ID',
    });
  });
});

function appErrorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  return expect.fail("expected an AppError");
}

describe("usesPkce", () => {
  it("is on for S256, off for off", () => {
    expect(usesPkce(testApp(ctx, { pkce: "S256", codeChallengeMethodsSupported: [] }))).toBe(true);
    expect(usesPkce(testApp(ctx, { pkce: "off", codeChallengeMethodsSupported: ["S256"] }))).toBe(false);
  });

  it("auto: on when S256 or nothing is advertised, off when only plain is", () => {
    expect(usesPkce(testApp(ctx, { pkce: "auto", codeChallengeMethodsSupported: null }))).toBe(true);
    expect(usesPkce(testApp(ctx, { pkce: "auto", codeChallengeMethodsSupported: ["plain", "S256"] }))).toBe(true);
    expect(usesPkce(testApp(ctx, { pkce: "auto", codeChallengeMethodsSupported: ["plain"] }))).toBe(false);
  });
});
