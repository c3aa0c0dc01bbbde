// The one token-answer reader, driven through the grants against loopback fakes of providers
// that bend RFC 6749 §5.1/§5.2. Each fake is a few lines; its comment says what it imitates.
import { afterEach, describe, expect, it } from "vitest";
import type { ServerResponse } from "node:http";
import {
  fixedClock,
  oauthTestContext,
  sendForm,
  sendJson,
  startFakeEndpoint,
  testApp,
  type FakeEndpoint,
  type FakeHandler,
} from "../../test/support/fake-provider.ts";
import type { App } from "../apps/app-store.ts";
import { clientCredentialsGrant, exchangeCode, refreshGrant } from "./grants.ts";
import { ProviderFailure } from "./provider-failure.ts";

const ACCESS = "sentinel-access-token-0001";
const REFRESH = "sentinel-refresh-token-0001";
const SECRET = "sentinel-client-secret-0001";

let fakes: FakeEndpoint[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function fake(handler: FakeHandler): Promise<FakeEndpoint> {
  const f = await startFakeEndpoint(handler);
  fakes.push(f);
  return f;
}

const ctx = oauthTestContext({ clock: fixedClock() });
const appAt = (endpoint: FakeEndpoint, fields: Partial<App> & { clientSecret?: string } = {}) =>
  testApp(ctx, { tokenEndpoint: `${endpoint.url}/token`, ...fields });

async function failureOf(p: Promise<unknown>): Promise<ProviderFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderFailure);
  return err as ProviderFailure;
}

const standard: FakeHandler = (_req, res) =>
  sendJson(res, 200, { access_token: ACCESS, token_type: "Bearer", expires_in: 3600, refresh_token: REFRESH, scope: "a b" });

describe("a standard answer", () => {
  it("becomes a TokenSet with its lifetime, refresh token and scopes", async () => {
    const f = await fake(standard);
    const tokens = await refreshGrant(ctx, appAt(f), "old-refresh");
    expect(tokens).toEqual({ accessToken: ACCESS, tokenType: "Bearer", refreshToken: REFRESH, idToken: null, expiresIn: 3600, scopes: ["a", "b"] });
    expect(f.requests[0]!.params).toMatchObject({ grant_type: "refresh_token", refresh_token: "old-refresh", client_id: "client-1" });
    expect(f.requests[0]!.headers.accept).toBe("application/json");
  });

  it("without a refresh_token gives refreshToken null (the caller keeps the old one)", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { access_token: ACCESS, token_type: "bearer", expires_in: 60 }));
    const tokens = await refreshGrant(ctx, appAt(f), "old-refresh");
    expect(tokens.refreshToken).toBeNull();
    expect(tokens.scopes).toBeNull();
  });

  it("normalises token_type to Bearer whatever its case", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { access_token: ACCESS, token_type: "BEARER" }));
    expect((await refreshGrant(ctx, appAt(f), "r")).tokenType).toBe("Bearer");
  });

  it("refuses a DPoP-bound token as a bad answer", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { access_token: ACCESS, token_type: "DPoP" }));
    expect((await failureOf(refreshGrant(ctx, appAt(f), "r"))).kind).toBe("bad_answer");
  });
});

describe("GitHub-like: form-encoded unless Accept is JSON, errors with status 200", () => {
  /** Answers form-encoded unless the request accepts JSON; a bad code is an `error` with 200. */
  const github: FakeHandler = (req, res) => {
    if (req.params.code === "bad") {
      return sendJson(res, 200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired." });
    }
    const answer = { access_token: ACCESS, token_type: "bearer", scope: "read:user,user:email" };
    if (req.headers.accept?.includes("application/json")) return sendJson(res, 200, answer);
    return sendForm(res, 200, answer);
  };
  const githubApp = (f: FakeEndpoint) => appAt(f, { clientSecret: SECRET, tokenEndpointAuthMethod: "client_secret_post", scopeSeparator: "," });

  it("exchanges a code, asking for JSON, with the secret in the body (client_secret_post)", async () => {
    const f = await fake(github);
    const tokens = await exchangeCode(ctx, githubApp(f), { code: "good", codeVerifier: null, redirectUri: "http://localhost/cb", nonce: null, iss: null });
    expect(tokens).toMatchObject({ accessToken: ACCESS, tokenType: "Bearer", expiresIn: null, scopes: ["read:user", "user:email"] });
    const seen = f.requests[0]!;
    expect(seen.headers.accept).toBe("application/json");
    expect(seen.params).toMatchObject({ grant_type: "authorization_code", code: "good", client_id: "client-1", client_secret: SECRET });
    expect(seen.headers.authorization).toBeUndefined();
  });

  it("reads a form-encoded answer by its content type", async () => {
    const f = await fake((_req, res) => sendForm(res, 200, { access_token: ACCESS, token_type: "bearer", expires_in: "28800" }));
    const tokens = await refreshGrant(ctx, githubApp(f), "r");
    expect(tokens).toMatchObject({ accessToken: ACCESS, expiresIn: 28800 });
  });

  it("treats an error with status 200 as a dead grant, with the provider's message", async () => {
    const f = await fake(github);
    const failure = await failureOf(exchangeCode(ctx, githubApp(f), { code: "bad", codeVerifier: null, redirectUri: "http://localhost/cb", nonce: null, iss: null }));
    expect(failure).toMatchObject({ kind: "grant_invalid", oauthError: "bad_verification_code", message: "The code passed is incorrect or expired." });
  });
});

describe("Slack-like: tokens under authed_user, ok:false errors", () => {
  /** A code answer nesting the user token under authed_user; refresh answers are flat; errors are ok:false with 200. */
  const slack: FakeHandler = (req, res) => {
    if (req.params.code === "expired") return sendJson(res, 200, { ok: false, error: "invalid_code" });
    if (req.params.code === "weird") return sendJson(res, 200, { ok: false, error: "team_access_not_granted" });
    if (req.params.grant_type === "refresh_token") {
      return sendJson(res, 200, { ok: true, access_token: `${ACCESS}-2`, token_type: "user", expires_in: 43200, refresh_token: `${REFRESH}-2` });
    }
    return sendJson(res, 200, {
      ok: true,
      access_token: "xoxb-bot-token",
      token_type: "bot",
      scope: "commands",
      authed_user: { id: "U1", scope: "users:read,users:read.email", access_token: ACCESS, token_type: "user", expires_in: 43200, refresh_token: REFRESH },
    });
  };
  const slackApp = (f: FakeEndpoint) =>
    appAt(f, { clientSecret: SECRET, tokenEndpointAuthMethod: "client_secret_post", scopeSeparator: ",", tokenResponsePath: "authed_user" });
  const code = (c: string) => ({ code: c, codeVerifier: null, redirectUri: "http://localhost/cb", nonce: null, iss: null });

  it("takes the tokens from tokenResponsePath, not the top level", async () => {
    const f = await fake(slack);
    const tokens = await exchangeCode(ctx, slackApp(f), code("good"));
    expect(tokens).toEqual({
      accessToken: ACCESS,
      tokenType: "Bearer",
      refreshToken: REFRESH,
      idToken: null,
      expiresIn: 43200,
      scopes: ["users:read", "users:read.email"],
    });
  });

  it("reads a flat refresh answer at the top level", async () => {
    const f = await fake(slack);
    const tokens = await refreshGrant(ctx, slackApp(f), REFRESH);
    expect(tokens).toMatchObject({ accessToken: `${ACCESS}-2`, refreshToken: `${REFRESH}-2`, expiresIn: 43200 });
  });

  it("treats ok:false with a dead-code error as grant_invalid", async () => {
    const f = await fake(slack);
    expect(await failureOf(exchangeCode(ctx, slackApp(f), code("expired")))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_code" });
  });

  it("treats ok:false with any other error as a bad answer naming it", async () => {
    const f = await fake(slack);
    const failure = await failureOf(exchangeCode(ctx, slackApp(f), code("weird")));
    expect(failure).toMatchObject({ kind: "bad_answer", oauthError: "team_access_not_granted" });
    expect(failure.message).toContain("team_access_not_granted");
  });
});

describe("expires_in", () => {
  const answering = (expires_in: unknown) => (_req: unknown, res: ServerResponse) =>
    sendJson(res, 200, { access_token: ACCESS, token_type: "Bearer", ...(expires_in === undefined ? {} : { expires_in }) });

  it("absent: the app's defaultExpiresIn (Salesforce-like)", async () => {
    const f = await fake(answering(undefined));
    expect((await refreshGrant(ctx, appAt(f, { defaultExpiresIn: 7200 }), "r")).expiresIn).toBe(7200);
  });

  it("absent with no defaultExpiresIn: unknown (null)", async () => {
    const f = await fake(answering(undefined));
    expect((await refreshGrant(ctx, appAt(f), "r")).expiresIn).toBeNull();
  });

  it("a string of digits is read as a number", async () => {
    const f = await fake(answering("3600"));
    expect((await refreshGrant(ctx, appAt(f), "r")).expiresIn).toBe(3600);
  });

  it("negative is a bad answer", async () => {
    const f = await fake(answering(-5));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "bad_answer", message: "expires_in is not a non-negative number of seconds" });
  });

  it("a negative string is a bad answer", async () => {
    const f = await fake(answering("-5"));
    expect((await failureOf(refreshGrant(ctx, appAt(f), "r"))).kind).toBe("bad_answer");
  });

  it("non-numeric is a bad answer", async () => {
    const f = await fake(answering("soon"));
    expect((await failureOf(refreshGrant(ctx, appAt(f), "r"))).kind).toBe("bad_answer");
  });
});

describe("answers that are not tokens", () => {
  it("a missing access_token is a clear bad answer", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { token_type: "Bearer", expires_in: 3600 }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "bad_answer", message: "the token answer has no access_token" });
  });

  it("an HTML page with status 200 is a clear bad answer", async () => {
    /** A login or maintenance page served where the token endpoint should be. */
    const f = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end("<!doctype html><html><body>Sign in</body></html>");
    });
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({
      kind: "bad_answer",
      message: "the token endpoint answered an HTML page (HTTP 200), not a token answer",
    });
  });

  it("JSON that does not parse is a bad answer", async () => {
    const f = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"access_token":');
    });
    expect((await failureOf(refreshGrant(ctx, appAt(f), "r"))).kind).toBe("bad_answer");
  });

  it("a 400 without an OAuth error is a bad answer", async () => {
    const f = await fake((_req, res) => sendJson(res, 400, { message: "nope" }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "bad_answer", status: 400 });
  });

  it("invalid_grant is grant_invalid with the provider's description", async () => {
    const f = await fake((_req, res) => sendJson(res, 400, { error: "invalid_grant", error_description: "Token has been expired or revoked." }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({
      kind: "grant_invalid",
      oauthError: "invalid_grant",
      message: "Token has been expired or revoked.",
      status: 400,
    });
  });

  it("invalid_client is grant_invalid with the error code when there is no description", async () => {
    const f = await fake((_req, res) => sendJson(res, 401, { error: "invalid_client" }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_client", message: "invalid_client" });
  });

  it("an error member wins over an access_token in the same answer", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { access_token: ACCESS, token_type: "Bearer", error: "invalid_grant" }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "grant_invalid", oauthError: "invalid_grant" });
  });

  it("an error given as an object is read by its code and message", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { error: { code: "invalid_grant", message: "refresh token expired" } }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "grant_invalid", message: "refresh token expired" });
  });

  it("another OAuth error is a bad answer", async () => {
    const f = await fake((_req, res) => sendJson(res, 400, { error: "invalid_scope", error_description: "no such scope" }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "bad_answer", oauthError: "invalid_scope" });
  });
});

describe("an unavailable provider", () => {
  it("503 with Retry-After in seconds is unavailable with retryAfter", async () => {
    /** A flaky token endpoint that sheds load. */
    const f = await fake((_req, res) => sendJson(res, 503, { error: "temporarily_unavailable" }, { "retry-after": "7" }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "unavailable", retryAfter: 7, status: 503 });
  });

  it("429 with Retry-After as an HTTP date counts from ctx.clock", async () => {
    const at = new Date(ctx.clock.now() + 90_000).toUTCString();
    const f = await fake((_req, res) => sendJson(res, 429, {}, { "retry-after": at }));
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "unavailable", retryAfter: 90, status: 429 });
  });

  it("500 with an HTML body is unavailable", async () => {
    const f = await fake((_req, res) => {
      res.writeHead(500, { "content-type": "text/html" });
      res.end("<h1>oops</h1>");
    });
    expect((await failureOf(refreshGrant(ctx, appAt(f), "r"))).kind).toBe("unavailable");
  });

  it("a slow endpoint is cut off at the provider timeout", async () => {
    /** Never answers in time: holds the request for 5 s. */
    const f = await fake(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 5000));
      if (!res.destroyed) sendJson(res, 200, {});
    });
    const impatient = { ...ctx, providerTimeoutMs: 500 };
    const started = performance.now();
    const failure = await failureOf(refreshGrant(impatient, appAt(f), "r"));
    expect(failure.kind).toBe("unavailable");
    expect(failure.message).toContain("did not answer within 0.5 s");
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("a closed port is unavailable", async () => {
    const f = await fake(standard);
    await f.close();
    expect((await failureOf(refreshGrant(ctx, appAt(f), "r"))).kind).toBe("unavailable");
  });

  it("the SSRF guard's refusal is refused, without calling the provider", async () => {
    const refusing = oauthTestContext({
      fetch: async () => {
        const err = new Error("refused");
        err.name = "BlockedDestinationError";
        throw err;
      },
    });
    const app = testApp(refusing, { tokenEndpoint: "http://10.0.0.1/token" });
    expect((await failureOf(refreshGrant(refusing, app, "r"))).kind).toBe("refused");
  });
});

describe("the token request", () => {
  it("client_secret_basic sends the secret in the Authorization header only", async () => {
    const f = await fake(standard);
    await clientCredentialsGrant(ctx, appAt(f, { clientSecret: SECRET, tokenEndpointAuthMethod: "client_secret_basic", scopes: ["x", "y"] }));
    const seen = f.requests[0]!;
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
    const [scheme, credentials] = (seen.headers.authorization ?? "").split(" ");
    expect(scheme).toBe("Basic");
    expect(Buffer.from(credentials!, "base64").toString().split(":").map(decodeURIComponent)).toEqual(["client-1", SECRET]);
    expect(seen.params).toEqual({ grant_type: "client_credentials", scope: "x y" });
  });

  it("client_secret_post sends client_id and client_secret in the body", async () => {
    const f = await fake(standard);
    await clientCredentialsGrant(ctx, appAt(f, { clientSecret: SECRET, tokenEndpointAuthMethod: "client_secret_post" }));
    const seen = f.requests[0]!;
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.params).toEqual({ grant_type: "client_credentials", client_id: "client-1", client_secret: SECRET });
  });

  it("none sends only the client_id", async () => {
    const f = await fake(standard);
    await refreshGrant(ctx, appAt(f), "r");
    expect(f.requests[0]!.headers.authorization).toBeUndefined();
    expect(f.requests[0]!.params).toEqual({ grant_type: "refresh_token", refresh_token: "r", client_id: "client-1" });
  });

  it("tokenRequestFormat json sends the body as JSON (Notion-like)", async () => {
    /** Accepts only a JSON body, as Notion's token endpoint does. */
    const f = await fake((req, res) => {
      if (!req.headers["content-type"]?.startsWith("application/json")) return sendJson(res, 400, { error: "invalid_request" });
      sendJson(res, 200, { access_token: ACCESS, token_type: "bearer", workspace_id: "w1" });
    });
    const app = appAt(f, { clientSecret: SECRET, tokenRequestFormat: "json" });
    const tokens = await exchangeCode(ctx, app, { code: "c1", codeVerifier: "v".repeat(43), redirectUri: "http://localhost/cb", nonce: null, iss: null });
    expect(tokens.accessToken).toBe(ACCESS);
    const seen = f.requests[0]!;
    expect(JSON.parse(seen.body)).toEqual({ grant_type: "authorization_code", code: "c1", redirect_uri: "http://localhost/cb", code_verifier: "v".repeat(43) });
    expect(seen.headers.authorization).toMatch(/^Basic /);
  });

  it("a provider echoing the refresh token or the secret in its error does not put them in the message", async () => {
    /** Quotes the request back in error_description, as some endpoints do. */
    const f = await fake((req, res) =>
      sendJson(res, 400, { error: "invalid_grant", error_description: `bad token ${req.params.refresh_token} for secret ${req.params.client_secret}` }),
    );
    const failure = await failureOf(refreshGrant(ctx, appAt(f, { clientSecret: SECRET, tokenEndpointAuthMethod: "client_secret_post" }), REFRESH));
    expect(failure.message).toBe("bad token [redacted] for secret [redacted]");
  });

  it("a provider echoing the Basic-authenticated secret does not put it in the message", async () => {
    /** Quotes the decoded Authorization header back. */
    const f = await fake((req, res) => {
      const decoded = Buffer.from(req.headers.authorization!.slice(6), "base64").toString().split(":").map(decodeURIComponent);
      sendJson(res, 401, { error: "invalid_client", error_description: `unknown client ${decoded[0]} / ${decoded[1]}` });
    });
    const failure = await failureOf(refreshGrant(ctx, appAt(f, { clientSecret: SECRET }), REFRESH));
    expect(failure.message).toBe("unknown client client-1 / [redacted]");
  });

  it("no failure message carries a token or the secret", async () => {
    const f = await fake((_req, res) => sendJson(res, 200, { token_type: "Bearer", refresh_token: REFRESH }));
    const failure = await failureOf(refreshGrant(ctx, appAt(f, { clientSecret: SECRET }), REFRESH));
    expect(JSON.stringify({ m: failure.message, s: failure.stack })).not.toMatch(/sentinel/);
  });
});

describe("an oversized answer", () => {
  it("is a bad answer, read no further than the bound", async () => {
    /** Streams a megabyte of JSON-looking padding. */
    const f = await fake((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ access_token: ACCESS, token_type: "Bearer", padding: "x".repeat(1024 * 1024) }));
    });
    expect(await failureOf(refreshGrant(ctx, appAt(f), "r"))).toMatchObject({ kind: "bad_answer", message: "the token endpoint answered more than 262144 bytes" });
  });
});

describe("a redirecting token endpoint", () => {
  it("is a bad answer, and the redirect is not followed with the credentials", async () => {
    /** Sends every request elsewhere, as a moved or misconfigured endpoint does. */
    const f = await fake((req, res) => {
      if (req.path === "/moved") return sendJson(res, 200, { access_token: ACCESS, token_type: "Bearer" });
      res.writeHead(302, { location: "/moved" });
      res.end();
    });
    const failure = await failureOf(refreshGrant(ctx, appAt(f, { clientSecret: SECRET }), "r"));
    expect(failure).toMatchObject({ kind: "bad_answer", status: 302 });
    expect(f.requests.map((r) => r.path)).toEqual(["/token"]);
  });
});
