// POST /api/v1/discovery and discovery during app registration, against loopback fake metadata
// servers, on both databases (SPEC §4). The fake provider answers each way a real one can go
// wrong; each gets its own test with the exact code, and nothing is stored.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OutboundFetch } from "../../src/context.ts";
import { createOutboundFetch } from "../../src/net/outbound-fetch.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

interface FakeServer {
  base: string;
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** Answers per issuer path: /<name>/.well-known/openid-configuration and /.well-known/oauth-authorization-server/<name>. */
async function startMetadataServer(): Promise<FakeServer> {
  let base = "";
  const state = { connections: 0 };
  const oidcDocument = (issuer: string) => ({
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/jwks`,
    revocation_endpoint: `${issuer}/revoke`,
    scopes_supported: ["openid", "email", "profile"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["client_secret_post"],
    authorization_response_iss_parameter_supported: true,
  });
  const server = http.createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const oidc = /^\/([a-z0-9-]+)\/\.well-known\/openid-configuration$/.exec(req.url ?? "")?.[1];
    const rfc8414 = /^\/\.well-known\/oauth-authorization-server\/([a-z0-9-]+)$/.exec(req.url ?? "")?.[1];
    if (oidc === "good") return json(200, oidcDocument(`${base}/good`));
    if (oidc === "html") {
      res.writeHead(200, { "content-type": "text/html" });
      return void res.end("<html><body>Sign in</body></html>");
    }
    if (oidc === "array") return json(200, [oidcDocument(`${base}/array`)]);
    if (oidc === "hang") return; // never answers
    if (oidc === "mismatch") return json(200, oidcDocument("https://other-provider.example"));
    if (oidc === "no-token") {
      const { token_endpoint: _dropped, ...rest } = oidcDocument(`${base}/no-token`);
      return json(200, rest);
    }
    if (oidc === "huge") return json(200, { ...oidcDocument(`${base}/huge`), padding: "x".repeat(600 * 1024) });
    if (oidc === "moved") {
      res.writeHead(302, { location: `${base}/good/.well-known/openid-configuration` });
      return void res.end();
    }
    if (oidc === "broken") return json(500, { error: "server_error" });
    if (rfc8414 === "as") {
      return json(200, {
        issuer: `${base}/as`,
        authorization_endpoint: `${base}/as/authorize`,
        token_endpoint: `${base}/as/token`,
        introspection_endpoint: `${base}/as/introspect`,
        grant_types_supported: ["authorization_code", "refresh_token"],
      });
    }
    json(404, { error: "not_found" });
  });
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  return {
    base,
    port,
    get connections() {
      return state.connections;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The real guarded fetch with a short deadline, so the hanging provider costs a second, not ten. */
function shortDeadlineFetch(): OutboundFetch {
  const outbound = createOutboundFetch({ allowPrivateUrls: true });
  return async (input, init = {}) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException("test deadline", "TimeoutError")), 1_000);
    init.signal?.addEventListener("abort", () => controller.abort(init.signal?.reason), { once: true });
    try {
      return await outbound(input, { ...init, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  };
}

describe.each(dialects)("discovery on %s", (dialect) => {
  let svc: TestService;
  let provider: FakeServer;
  beforeAll(async () => {
    provider = await startMetadataServer();
    svc = await startTestService(dialect, { fetch: shortDeadlineFetch() });
  });
  afterAll(async () => {
    await svc?.close();
    await provider?.close();
  });

  const discover = (body: unknown, s = svc) =>
    s.server.inject({ method: "POST", url: "/api/v1/discovery", headers: s.headers, payload: body as object });
  const appCount = async (s = svc) =>
    Number((await s.ctx.db.selectFrom("apps").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow()).n);

  /** Sends a bad discovery request and checks the problem's code and that no app row appeared. */
  async function expectProblem(body: unknown, status: number, code: string, detail: RegExp | string) {
    const before = await appCount();
    const res = await discover(body);
    expect(res.statusCode).toBe(status);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    const problem = res.json();
    expect(problem.code).toBe(code);
    if (typeof detail === "string") expect(problem.detail).toContain(detail);
    else expect(problem.detail).toMatch(detail);
    expect(await appCount()).toBe(before);
    return problem;
  }

  it("reads an OpenID configuration from the issuer URL", async () => {
    const res = await discover({ url: `${provider.base}/good` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      issuer: `${provider.base}/good`,
      authorizationEndpoint: `${provider.base}/good/authorize`,
      tokenEndpoint: `${provider.base}/good/token`,
      revocationEndpoint: `${provider.base}/good/revoke`,
      userinfoEndpoint: `${provider.base}/good/userinfo`,
      introspectionEndpoint: null,
      jwksUri: `${provider.base}/good/jwks`,
      scopesSupported: ["openid", "email", "profile"],
      codeChallengeMethodsSupported: ["S256"],
      tokenEndpointAuthMethodsSupported: ["client_secret_post"],
      authorizationResponseIssParameterSupported: true,
    });
  });

  it("reads an OpenID configuration from its /.well-known/openid-configuration URL", async () => {
    const res = await discover({ url: `${provider.base}/good/.well-known/openid-configuration` });
    expect(res.statusCode).toBe(200);
    expect(res.json().tokenEndpoint).toBe(`${provider.base}/good/token`);
  });

  it("reads an issuer typed with a trailing slash as the issuer the document names", async () => {
    const res = await discover({ url: `${provider.base}/good/` });
    expect(res.statusCode).toBe(200);
    expect(res.json().issuer).toBe(`${provider.base}/good`);
  });

  it("reads RFC 8414 metadata from its path-inserted /.well-known/oauth-authorization-server URL, absent members null", async () => {
    const res = await discover({ url: `${provider.base}/.well-known/oauth-authorization-server/as` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      issuer: `${provider.base}/as`,
      authorizationEndpoint: `${provider.base}/as/authorize`,
      tokenEndpoint: `${provider.base}/as/token`,
      revocationEndpoint: null,
      userinfoEndpoint: null,
      introspectionEndpoint: `${provider.base}/as/introspect`,
      jwksUri: null,
      scopesSupported: null,
      codeChallengeMethodsSupported: null,
      tokenEndpointAuthMethodsSupported: null,
      authorizationResponseIssParameterSupported: false,
    });
  });

  it("falls back from the OpenID configuration to RFC 8414 metadata for an issuer that has only the latter", async () => {
    const res = await discover({ url: `${provider.base}/as` });
    expect(res.statusCode).toBe(200);
    expect(res.json().issuer).toBe(`${provider.base}/as`);
  });

  it("answers 502 provider_error for a document that is not JSON", async () => {
    await expectProblem({ url: `${provider.base}/html` }, 502, "provider_error", "did not answer JSON (it sent text/html)");
  });

  it("answers 502 provider_error for a JSON array", async () => {
    await expectProblem({ url: `${provider.base}/array` }, 502, "provider_error", "answered a JSON array; a metadata document is a JSON object");
  });

  it("answers 502 provider_error naming both URLs tried when neither document exists (404)", async () => {
    await expectProblem(
      { url: `${provider.base}/missing` },
      502,
      "provider_error",
      `neither ${provider.base}/missing/.well-known/openid-configuration nor ${provider.base}/.well-known/oauth-authorization-server/missing exists (HTTP 404)`,
    );
  });

  it("answers 502 provider_error for a 404 at the metadata URL given", async () => {
    await expectProblem({ url: `${provider.base}/missing/.well-known/openid-configuration` }, 502, "provider_error", "answered HTTP 404 (there is no metadata document there)");
  });

  it("answers 503 provider_unavailable, within its deadline, for a provider that never answers", async () => {
    const started = Date.now();
    await expectProblem({ url: `${provider.base}/hang` }, 503, "provider_unavailable", `127.0.0.1:${provider.port} did not answer`);
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it("answers 502 provider_error for an issuer mismatch", async () => {
    await expectProblem(
      { url: `${provider.base}/mismatch` },
      502,
      "provider_error",
      `issuer mismatch: the document at ${provider.base}/mismatch/.well-known/openid-configuration says its issuer is "https://other-provider.example", but it was fetched for the issuer "${provider.base}/mismatch"`,
    );
  });

  it("answers 502 provider_error naming a missing required member", async () => {
    await expectProblem({ url: `${provider.base}/no-token` }, 502, "provider_error", 'has no "token_endpoint" (a required member)');
  });

  it("answers 502 provider_error for a document over the size limit", async () => {
    await expectProblem({ url: `${provider.base}/huge` }, 502, "provider_error", "is larger than 512 KiB");
  });

  it("answers 502 provider_error for a redirect, naming where it points", async () => {
    await expectProblem({ url: `${provider.base}/moved` }, 502, "provider_error", `answered HTTP 302 (a redirect to ${provider.base}/good/.well-known/openid-configuration`);
  });

  it("answers 502 provider_error for a server error", async () => {
    await expectProblem({ url: `${provider.base}/broken` }, 502, "provider_error", "answered HTTP 500");
  });

  it("answers 503 provider_unavailable for a provider that refuses connections", async () => {
    const closed = await startMetadataServer();
    const url = `${closed.base}/good`;
    await closed.close();
    await expectProblem({ url }, 503, "provider_unavailable", "(connection refused)");
  });

  it("answers 400 invalid_request for a malformed URL", async () => {
    await expectProblem({ url: "login.example.com/oauth" }, 400, "invalid_request", "the discovery URL is not usable: it is not an absolute URL");
  });

  it("answers 400 invalid_request for a non-HTTP URL", async () => {
    await expectProblem({ url: "ftp://127.0.0.1/good" }, 400, "invalid_request", "it must start with https:// (not ftp:)");
  });

  it("answers 400 invalid_request for a URL with a query", async () => {
    await expectProblem({ url: `${provider.base}/good?tenant=x` }, 400, "invalid_request", "must not have a query");
  });

  it("answers 400 invalid_request for a URL with credentials", async () => {
    await expectProblem({ url: `http://user:pw@127.0.0.1:${provider.port}/good` }, 400, "invalid_request", "must not contain a user name or password");
  });

  it("answers 400 invalid_request for another .well-known document", async () => {
    await expectProblem({ url: `${provider.base}/.well-known/webfinger` }, 400, "invalid_request", "give the issuer URL instead");
  });

  it("answers 400 invalid_request naming an unknown body field", async () => {
    await expectProblem({ url: `${provider.base}/good`, issuer: "x" }, 400, "invalid_request", "issuer");
  });

  it("answers 400 invalid_request for a body without url", async () => {
    await expectProblem({}, 400, "invalid_request", "url");
  });

  it("fills an app's endpoints from its discoveryUrl alone", async () => {
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { name: "Discovered", clientId: "discovered-client", discoveryUrl: `${provider.base}/good` },
    });
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app.issuer).toBe(`${provider.base}/good`);
    expect(app.authorizationEndpoint).toBe(`${provider.base}/good/authorize`);
    expect(app.tokenEndpoint).toBe(`${provider.base}/good/token`);
    expect(app.userinfoEndpoint).toBe(`${provider.base}/good/userinfo`);
    expect(app.revocationEndpoint).toBe(`${provider.base}/good/revoke`);
    expect(app.jwksUri).toBe(`${provider.base}/good/jwks`);
  });

  it("refuses to create an app whose discoveryUrl answers a JSON array, storing nothing", async () => {
    const before = await appCount();
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: { name: "Broken Discovery", clientId: "c", discoveryUrl: `${provider.base}/array` },
    });
    expect(res.statusCode).toBe(502);
    expect(res.json().code).toBe("provider_error");
    expect(await appCount()).toBe(before);
  });

  describe("with the SSRF guard on (CONNECTED_APPS_ALLOW_PRIVATE_URLS=false)", () => {
    let guarded: TestService;
    beforeAll(async () => {
      guarded = await startTestService(dialect, { env: { CONNECTED_APPS_ALLOW_PRIVATE_URLS: "false" } });
    });
    afterAll(async () => guarded?.close());

    it.each(["127.0.0.1", "localhost", "127.1", "[::1]", "[::ffff:127.0.0.1]"])(
      "answers 400 invalid_request for https://%s without connecting",
      async (host) => {
        const connectionsBefore = provider.connections;
        const res = await discover({ url: `https://${host}:${provider.port}/good` }, guarded);
        expect(res.statusCode).toBe(400);
        const problem = res.json();
        expect(problem.code).toBe("invalid_request");
        expect(problem.detail).toMatch(/^the discovery URL is not allowed: connections to \S+ are refused because .*a loopback address/);
        expect(problem.detail).toContain("CONNECTED_APPS_ALLOW_PRIVATE_URLS=true");
        expect(provider.connections).toBe(connectionsBefore);
        expect(await appCount(guarded)).toBe(0);
      },
    );

    it("answers 400 invalid_request for plain http", async () => {
      const res = await discover({ url: `http://127.0.0.1:${provider.port}/good` }, guarded);
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe("invalid_request");
      expect(res.json().detail).toContain("it must use https");
    });

    it("refuses to create an app whose discoveryUrl is private, storing nothing", async () => {
      const res = await guarded.server.inject({
        method: "POST",
        url: "/api/v1/apps",
        headers: guarded.headers,
        payload: { name: "Private", clientId: "c", discoveryUrl: `https://localhost:${provider.port}/good` },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe("invalid_request");
      expect(await appCount(guarded)).toBe(0);
    });
  });
});
