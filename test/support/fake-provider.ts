// Small loopback HTTP endpoints that stand in for providers that cannot run here, plus an App
// and an OAuthContext to call the protocol layer with. Each fake's behaviour is a handler the
// test writes (and documents) itself; this module only serves it on 127.0.0.1 and records what
// arrived, so a test can assert what the provider saw.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { blankApp, type App } from "../../src/apps/app-store.ts";
import { clientSecretBinding } from "../../src/apps/app-service.ts";
import { loadConfig } from "../../src/config/config.ts";
import type { Clock } from "../../src/context.ts";
import { buildKeyring, generateKey } from "../../src/crypto/keyring.ts";
import { seal } from "../../src/crypto/seal.ts";
import { createLogger } from "../../src/log/logger.ts";
import type { OAuthContext } from "../../src/oauth/grants.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** The body read as a form, or as JSON when it was sent as JSON. */
  params: Record<string, string>;
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeEndpoint {
  /** Base URL, e.g. http://127.0.0.1:PORT (no trailing slash). */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeEndpoint(handler: FakeHandler): Promise<FakeEndpoint> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const isJson = (req.headers["content-type"] ?? "").includes("json");
    const params = isJson && body ? (JSON.parse(body) as Record<string, string>) : Object.fromEntries(new URLSearchParams(body));
    const recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, params };
    requests.push(recorded);
    try {
      await handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(599);
      res.end(String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export function sendForm(res: ServerResponse, status: number, body: Record<string, string>): void {
  res.writeHead(status, { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
  res.end(new URLSearchParams(body).toString());
}

/** A fixed clock: 2026-01-01T00:00:00Z unless told otherwise. */
export function fixedClock(at = Date.UTC(2026, 0, 1)): Clock & { set(ms: number): void } {
  let now = at;
  return { now: () => now, set: (ms) => (now = ms) };
}

/** What the protocol layer needs, with a fresh keyring; allowPrivateUrls so loopback http works. */
export function oauthTestContext(opts: { clock?: Clock; providerTimeoutMs?: number; fetch?: OAuthContext["fetch"] } = {}): OAuthContext {
  const config = loadConfig({ CONNECTED_APPS_ALLOW_PRIVATE_URLS: "true", LOG_LEVEL: "silent" });
  return {
    config,
    keyring: buildKeyring([generateKey()]),
    clock: opts.clock ?? fixedClock(),
    fetch: opts.fetch ?? ((input, init) => fetch(input, init)),
    log: createLogger("silent"),
    ...(opts.providerTimeoutMs === undefined ? {} : { providerTimeoutMs: opts.providerTimeoutMs }),
  };
}

/** An app as the store would hand it over; the client secret sealed with ctx's keyring. */
export function testApp(ctx: Pick<OAuthContext, "keyring">, fields: Partial<App> & { clientSecret?: string | null } = {}): App {
  const { clientSecret, ...rest } = fields;
  const id = rest.id ?? "test-app";
  // A clientSecret given in clear wins over a sealed one copied from another app.
  const secretFields =
    clientSecret === undefined
      ? {}
      : { clientSecretSealed: clientSecret === null ? null : seal(ctx.keyring, clientSecret, clientSecretBinding(id)) };
  return {
    ...blankApp(id, "Test app", 0),
    authorizationEndpoint: "https://provider.example/authorize",
    tokenEndpoint: "https://provider.example/token",
    clientId: "client-1",
    tokenEndpointAuthMethod: clientSecret ? "client_secret_basic" : "none",
    ...rest,
    ...secretFields,
  };
}
