// A real OpenID Provider (panva/oidc-provider, certified) on 127.0.0.1 for integration tests:
// PKCE required, RFC 9207 `iss` in authorization responses, refresh tokens rotated, client
// credentials and revocation on, a fresh RS256 signing key per instance (so two instances
// are two different issuers with two different keys), and a protected resource that accepts
// its access tokens. `authorize()` drives its development login/consent pages over HTTP for
// tests that do not need a browser; browser tests can use the same pages (fields `login`,
// `password`, buttons "Sign-in" / "Continue", "Cancel" aborts).
//
// The API is additive: other suites build on it; add options rather than change these.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as jose from "jose";
import Provider, { type ClientMetadata, type Configuration } from "oidc-provider";
import type { App } from "../../src/apps/app-store.ts";

export interface TestAccount {
  email?: string;
  name?: string;
}

export interface OidcProviderOptions {
  /** Registered clients; default: one confidential PKCE client (see defaultClient). */
  clients?: ClientMetadata[];
  /** Accounts by id; any other login also works, with derived email/name. */
  accounts?: Record<string, TestAccount>;
  /** Seconds; defaults: access token 3600, ID token 3600, refresh token 14 days. */
  ttl?: { AccessToken?: number; IdToken?: number; RefreshToken?: number; ClientCredentials?: number };
  /** Rotate refresh tokens on use (default true). */
  rotateRefreshToken?: boolean;
  /** Anything else, merged over the harness's configuration. */
  configuration?: Partial<Configuration>;
}

export interface TestOidcProvider {
  /** http://127.0.0.1:PORT, the issuer identifier. */
  issuer: string;
  provider: Provider;
  /** Endpoints as oidc-provider serves them. */
  endpoints: {
    authorization: string;
    token: string;
    userinfo: string;
    revocation: string;
    introspection: string;
    jwks: string;
    discovery: string;
    /** GET with `Authorization: Bearer <access token>`: 200 {sub, scope} or 401. */
    resource: string;
  };
  /** The default client's registration (client_id "test-client", secret "test-client-secret"). */
  client: { clientId: string; clientSecret: string; redirectUri: string };
  /** App fields that point at this provider, for testApp()/the apps API. */
  appFields(client?: { clientId: string }): Pick<
    App,
    "issuer" | "authorizationEndpoint" | "tokenEndpoint" | "userinfoEndpoint" | "revocationEndpoint" | "introspectionEndpoint" | "jwksUri" | "clientId"
  >;
  /** The private signing key (for a test that must sign as this provider). */
  signingKey: jose.JWK;
  /**
   * Follows an authorization URL through login and consent as `accountId` (default "alice"),
   * without a browser, and returns the redirect back to the client (code, state, iss), or
   * with `deny` the access_denied redirect.
   */
  authorize(url: URL | string, opts?: { accountId?: string; deny?: boolean }): Promise<URL>;
  /** Access tokens the resource endpoint accepted, in order. */
  resourceCalls: string[];
  close(): Promise<void>;
}

export const defaultClient = {
  clientId: "test-client",
  clientSecret: "test-client-secret",
  redirectUri: "http://localhost:8000/oauth/callback/test",
};

export async function startOidcProvider(opts: OidcProviderOptions = {}): Promise<TestOidcProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await jose.generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await jose.exportJWK(privateKey)), kid: `k-${crypto.randomUUID()}`, alg: "RS256", use: "sig" };
  const accounts = opts.accounts ?? {};
  const clients = opts.clients ?? [
    {
      client_id: defaultClient.clientId,
      client_secret: defaultClient.clientSecret,
      redirect_uris: [defaultClient.redirectUri],
      grant_types: ["authorization_code", "refresh_token", "client_credentials"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      scope: "openid email profile offline_access api:read",
    },
  ];

  const configuration: Configuration = {
    clients,
    jwks: { keys: [signingKey] },
    cookies: { keys: [crypto.randomUUID()] },
    scopes: ["openid", "offline_access", "api:read"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      userinfo: { enabled: true },
    },
    // RFC 7636: every client must use PKCE (oidc-provider only demands it of public clients).
    pkce: { required: () => true },
    // Refresh tokens for any client allowed the grant, without the offline_access consent dance.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: opts.rotateRefreshToken ?? true,
    ttl: {
      AccessToken: opts.ttl?.AccessToken ?? 3600,
      IdToken: opts.ttl?.IdToken ?? 3600,
      RefreshToken: opts.ttl?.RefreshToken ?? 14 * 24 * 3600,
      ClientCredentials: opts.ttl?.ClientCredentials ?? 600,
    },
    findAccount: async (_ctx, sub) => ({
      accountId: sub,
      claims: async () => ({
        sub,
        email: accounts[sub]?.email ?? `${sub}@example.test`,
        email_verified: true,
        name: accounts[sub]?.name ?? `Test ${sub}`,
      }),
    }),
    ...opts.configuration,
  };
  const provider = new Provider(issuer, configuration);
  // oidc-provider insists on https unless told it is behind a proxy; tests are plain http.
  provider.proxy = true;

  const resourceCalls: string[] = [];
  const handle = provider.callback();
  server.on("request", (req, res) => {
    if (req.url?.startsWith("/resource")) {
      void serveResource(provider, req.headers.authorization, resourceCalls).then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
      return;
    }
    void handle(req, res);
  });

  const endpoints = {
    authorization: `${issuer}/auth`,
    token: `${issuer}/token`,
    userinfo: `${issuer}/me`,
    revocation: `${issuer}/token/revocation`,
    introspection: `${issuer}/token/introspection`,
    jwks: `${issuer}/jwks`,
    discovery: `${issuer}/.well-known/openid-configuration`,
    resource: `${issuer}/resource`,
  };

  return {
    issuer,
    provider,
    endpoints,
    client: defaultClient,
    signingKey,
    resourceCalls,
    appFields: (client = defaultClient) => ({
      issuer,
      authorizationEndpoint: endpoints.authorization,
      tokenEndpoint: endpoints.token,
      userinfoEndpoint: endpoints.userinfo,
      revocationEndpoint: endpoints.revocation,
      introspectionEndpoint: endpoints.introspection,
      jwksUri: endpoints.jwks,
      clientId: client.clientId,
    }),
    authorize: (url, o = {}) => driveInteractions(issuer, new URL(url), o.accountId ?? "alice", o.deny ?? false),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serveResource(provider: Provider, authorization: string | undefined, calls: string[]) {
  const token = /^Bearer (.+)$/i.exec(authorization ?? "")?.[1];
  const found = token ? await provider.AccessToken.find(token) : undefined;
  if (!token || !found) return { status: 401, body: { error: "invalid_token" } };
  calls.push(token);
  return { status: 200, body: { sub: found.accountId, scope: found.scope } };
}

/**
 * The development interactions, headless: follow redirects with a cookie jar; on a login page
 * post the login, on a consent page post consent (or abort when denying), until a redirect
 * leaves the provider's origin: that is the authorization response.
 */
async function driveInteractions(issuer: string, start: URL, accountId: string, deny: boolean): Promise<URL> {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const request = async (url: URL, init: RequestInit = {}) => {
    const res = await fetch(url, { ...init, redirect: "manual", headers: { ...(init.headers as Record<string, string>), cookie: cookieHeader() } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    return res;
  };
  let url = start;
  for (let step = 0; step < 20; step++) {
    if (url.origin !== issuer) return url;
    const res = await request(url);
    const location = res.headers.get("location");
    if (location) {
      url = new URL(location, url);
      continue;
    }
    const page = await res.text();
    if (res.status !== 200) throw new Error(`oidc-provider answered ${res.status} at ${url.pathname}: ${page.slice(0, 300)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!prompt || !action) throw new Error(`no interaction form at ${url.pathname}: ${page.slice(0, 300)}`);
    const interaction = new URL(action.replaceAll("&amp;", "&"), url);
    if (deny) {
      url = new URL(`${interaction.pathname}/abort`, url);
      continue;
    }
    const form = prompt === "login" ? { prompt, login: accountId, password: "x" } : { prompt };
    const posted = await request(interaction, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    const next = posted.headers.get("location");
    if (!next) throw new Error(`oidc-provider answered ${posted.status} to the ${prompt} form: ${(await posted.text()).slice(0, 300)}`);
    url = new URL(next, interaction);
  }
  throw new Error("the authorization did not come back within 20 steps");
}
