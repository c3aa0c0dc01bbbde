// The proxy against a loopback API that echoes what it received, and a loopback token endpoint
// that counts refreshes (both fakes: the API behaviour under test is ours, not a provider's).
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveConnection } from "../../src/connections/connection-service.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const BIG = 3 * 1024 * 1024;

interface Fake {
  url: string;
  refreshes: number;
  /** The access token the API currently accepts at /protected. */
  validToken: string;
  /** Settles when the provider's /trickle answer was closed. */
  trickleClosed?: Promise<boolean>;
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function startFakeProvider(): Promise<Fake> {
  const fake = { refreshes: 0, validToken: "at-0" } as Fake;
  const { server, url } = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? "";
      if (path === "/token") {
        // Refresh: a new access token each time (RFC 6749 §6), rotated refresh token.
        fake.refreshes++;
        fake.validToken = `at-${fake.refreshes}`;
        res.writeHead(200, { "content-type": "application/json" });
        return res.end(JSON.stringify({ access_token: fake.validToken, token_type: "Bearer", expires_in: 3600, refresh_token: `rt-${fake.refreshes}` }));
      }
      if (path.startsWith("/api/big")) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        let sent = 0;
        const piece = Buffer.alloc(64 * 1024, 7);
        const pump = () => {
          while (sent < BIG) {
            sent += piece.length;
            if (!res.write(piece)) return res.once("drain", pump);
          }
          res.end();
        };
        return pump();
      }
      if (path.startsWith("/api/protected")) {
        const ok = req.headers.authorization === `Bearer ${fake.validToken}`;
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json", "www-authenticate": ok ? "" : 'Bearer error="invalid_token"' });
        return res.end(JSON.stringify({ ok }));
      }
      if (path.startsWith("/api/always401")) {
        res.writeHead(401, { "content-type": "application/json" });
        return res.end('{"error":"invalid_token"}');
      }
      if (path.startsWith("/api/redirect")) {
        res.writeHead(302, { location: "http://127.0.0.1:1/steal" });
        return res.end();
      }
      if (path.startsWith("/api/slow")) return; // never answers; the proxy's timeout ends it
      if (path.startsWith("/api/gzip")) {
        // Compressed only for a caller that asked for it (the caller's Accept-Encoding passes).
        const json = Buffer.from(JSON.stringify({ compressed: true, acceptEncoding: req.headers["accept-encoding"] ?? null }));
        if (!String(req.headers["accept-encoding"] ?? "").includes("gzip")) {
          res.writeHead(200, { "content-type": "application/json" });
          return res.end(json);
        }
        res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
        return res.end(gzipSync(json));
      }
      if (path.startsWith("/api/empty")) {
        res.writeHead(204, { "x-provider": "empty" });
        return res.end();
      }
      if (path.startsWith("/api/trickle")) {
        // A body that takes its time: the caller hangs up half-way.
        fake.trickleClosed = new Promise((resolve) => res.on("close", () => resolve(true)));
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first part;");
        return;
      }
      res.writeHead(201, { "content-type": "application/json", "set-cookie": "provider=1", "x-provider": "yes" });
      res.end(
        JSON.stringify({
          method: req.method,
          url: path,
          headers: req.headers,
          bodyLength: body.length,
          bodySha: createHash("sha256").update(body).digest("hex"),
        }),
      );
    });
  });
  fake.url = url;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}

describe.each(dialects)("proxy on %s", (dialect) => {
  let svc: TestService;
  let fake: Fake;
  const USER = "user/42 é";
  const enc = encodeURIComponent(USER);

  beforeAll(async () => {
    fake = await startFakeProvider();
    svc = await startTestService(dialect, { env: { CONNECTED_APPS_PROXY_TIMEOUT_SECONDS: "1" } });
    const res = await svc.server.inject({
      method: "POST",
      url: "/api/v1/apps",
      headers: svc.headers,
      payload: {
        name: "Echo",
        clientId: "echo-client",
        clientSecret: "echo-secret-sentinel",
        authorizationEndpoint: `${fake.url}/authorize`,
        tokenEndpoint: `${fake.url}/token`,
        apiBaseUrl: `${fake.url}/api`,
      },
    });
    expect(res.statusCode).toBe(201);
    await saveConnection(svc.ctx, {
      appId: "echo",
      userId: USER,
      tokens: { accessToken: "at-0", tokenType: "bearer", refreshToken: "rt-0", idToken: null, expiresIn: 3600, scopes: null },
      account: { sub: "s1", email: null, name: null },
      requestedScopes: [],
    });
  });
  afterAll(async () => {
    await svc?.close();
    await fake?.close();
  });

  const proxy = (method: string, path: string, extra: { headers?: Record<string, string>; payload?: string | Buffer } = {}) =>
    svc.server.inject({ method: method as "GET", url: `/api/v1/proxy/echo/${enc}${path}`, headers: { authorization: svc.headers.authorization!, ...extra.headers }, ...(extra.payload !== undefined ? { payload: extra.payload } : {}) });

  it("forwards method, path, query and body, injecting the user's token", async () => {
    const res = await proxy("POST", "/things/1?x=1&y=%20z", { payload: '{"hello":"world"}', headers: { "content-type": "application/json", "x-custom": "kept" } });
    expect(res.statusCode).toBe(201);
    const seen = res.json();
    expect(seen.method).toBe("POST");
    expect(seen.url).toBe("/api/things/1?x=1&y=%20z");
    expect(seen.bodyLength).toBe(17);
    expect(seen.headers.authorization).toBe("Bearer at-0");
    expect(seen.headers["x-custom"]).toBe("kept");
    expect(seen.headers["content-type"]).toBe("application/json");
  });

  it("never forwards the caller's Authorization, cookies or hop-by-hop headers", async () => {
    const res = await proxy("GET", "/h", { headers: { cookie: "session=caller", connection: "x-drop-me", "x-drop-me": "1", "proxy-authorization": "Basic x", "x-forwarded-for": "1.2.3.4" } });
    const headers = res.json().headers;
    expect(headers.authorization).toBe("Bearer at-0");
    expect(JSON.stringify(headers)).not.toContain(svc.apiKey);
    expect(headers.cookie).toBeUndefined();
    expect(headers["x-drop-me"]).toBeUndefined();
    expect(headers["proxy-authorization"]).toBeUndefined();
    expect(headers["x-forwarded-for"]).toBeUndefined();
  });

  it("answers with the provider's status and headers, without its cookies", async () => {
    const res = await proxy("GET", "/x");
    expect(res.statusCode).toBe(201);
    expect(res.headers["x-provider"]).toBe("yes");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("passes a compressed answer through as it came, with its Content-Encoding", async () => {
    const res = await proxy("GET", "/gzip", { headers: { "accept-encoding": "gzip" } });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(JSON.parse(gunzipSync(res.rawPayload).toString())).toEqual({ compressed: true, acceptEncoding: "gzip" });
    const plain = await proxy("GET", "/gzip");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.json()).toEqual({ compressed: true, acceptEncoding: null });
  });

  it("answers a 204 without a body, and a HEAD with the status and headers only", async () => {
    const empty = await proxy("DELETE", "/empty");
    expect(empty.statusCode).toBe(204);
    expect(empty.headers["x-provider"]).toBe("empty");
    expect(empty.rawPayload.length).toBe(0);
    const head = await proxy("HEAD", "/x");
    expect(head.statusCode).toBe(201);
    expect(head.headers["x-provider"]).toBe("yes");
    expect(head.rawPayload.length).toBe(0);
  });

  it("closes the call to the provider when the caller goes away mid-answer", async () => {
    await svc.server.listen({ port: 0, host: "127.0.0.1" }).catch(() => undefined);
    const address = svc.server.server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port: address.port, path: `/api/v1/proxy/echo/${enc}/trickle`, headers: { authorization: svc.headers.authorization! } },
        (res) => {
          res.once("data", () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on("error", () => undefined);
      req.setTimeout(5000, () => reject(new Error("no first part")));
      req.end();
    });
    const closed = await Promise.race([fake.trickleClosed, new Promise((r) => setTimeout(() => r(false), 3000))]);
    expect(closed).toBe(true);
  });

  it("streams a large answer through whole", async () => {
    const res = await proxy("GET", "/big");
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.length).toBe(BIG);
  });

  it("passes a large request body through byte for byte", async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 3);
    const res = await proxy("PUT", "/upload", { payload: body, headers: { "content-type": "application/octet-stream" } });
    expect(res.json().bodyLength).toBe(body.length);
    expect(res.json().bodySha).toBe(createHash("sha256").update(body).digest("hex"));
  });

  it("refuses a body over the limit with 413", async () => {
    const res = await proxy("POST", "/upload", { payload: Buffer.alloc(10 * 1024 * 1024 + 1, 1), headers: { "content-type": "application/octet-stream" } });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe("invalid_request");
  });

  // Sent over a real socket: inject() (like most clients) would normalise the dot segments away.
  const rawRequest = async (path: string): Promise<{ status: number; body: { code?: string } }> => {
    const address = await svc.server.listen({ port: 0, host: "127.0.0.1" }).catch(() => null);
    const port = (svc.server.server.address() as AddressInfo).port;
    void address;
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: `/api/v1/proxy/echo/${enc}${path}`, headers: { authorization: svc.headers.authorization! } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || "{}") }));
      });
      req.on("error", reject);
      req.end();
    });
  };

  it.each(["/../token", "/%2e%2e/token", "/a/%2E%2E/%2e%2e/token", "//127.0.0.1:1/x", "/@evil.example", "/a%2f..%2f..%2ftoken", "/http://evil.example/"])(
    "refuses the path escape %s with invalid_request, calling nothing",
    async (path) => {
      const before = fake.refreshes;
      const res = await rawRequest(path);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe("invalid_request");
      expect(fake.refreshes).toBe(before);
    },
  );

  it("does not follow a redirect with the token: the caller gets the 302", async () => {
    const res = await proxy("GET", "/redirect");
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe("http://127.0.0.1:1/steal");
  });

  it("on a 401 forces one refresh and retries once", async () => {
    fake.validToken = "rotated-at-provider"; // the stored token stops working
    const before = fake.refreshes;
    const res = await proxy("GET", "/protected");
    expect(res.statusCode).toBe(200);
    expect(fake.refreshes).toBe(before + 1);
  });

  it("answers a second 401 as is, after exactly one refresh", async () => {
    const before = fake.refreshes;
    const res = await proxy("GET", "/always401");
    expect(res.statusCode).toBe(401);
    expect(fake.refreshes).toBe(before + 1);
  });

  it("answers 504 provider_unavailable when the API does not answer in time", async () => {
    const res = await proxy("GET", "/slow");
    expect(res.statusCode).toBe(504);
    expect(res.json().code).toBe("provider_unavailable");
  });

  it("counts the deadline from the first byte of the connection: a TLS handshake that never ends is a 504 too", async () => {
    const held: Socket[] = [];
    const silent = createNetServer((socket) => {
      held.push(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const res = await svc.server.inject({
        method: "POST",
        url: "/api/v1/apps",
        headers: svc.headers,
        payload: { name: "Silent TLS", clientId: "c", authorizationEndpoint: "https://a.test/a", tokenEndpoint: "https://a.test/t", apiBaseUrl: `https://127.0.0.1:${(silent.address() as AddressInfo).port}` },
      });
      expect(res.statusCode).toBe(201);
      await saveConnection(svc.ctx, { appId: "silent-tls", userId: "u", tokens: { accessToken: "at", tokenType: "Bearer", refreshToken: null, idToken: null, expiresIn: 3600, scopes: null }, account: { sub: "s", email: null, name: null }, requestedScopes: [] });
      const started = Date.now();
      const answer = await svc.server.inject({ url: "/api/v1/proxy/silent-tls/u/x", headers: { authorization: svc.headers.authorization! } });
      expect(answer.statusCode).toBe(504);
      expect(answer.json().code).toBe("provider_unavailable");
      // CONNECTED_APPS_PROXY_TIMEOUT_SECONDS is 1 here; the connector's own limit is 10 s.
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it("answers 404 not_connected for a user without a connection, calling nothing", async () => {
    const res = await svc.server.inject({ method: "GET", url: "/api/v1/proxy/echo/nobody/x", headers: { authorization: svc.headers.authorization! } });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe("not_connected");
  });

  it("answers 409 needs_reconnect without calling the provider", async () => {
    await svc.ctx.db.updateTable("connections").set({ status: "needs_reconnect", last_error: "invalid_grant" }).where("user_id", "=", USER).execute();
    const before = fake.refreshes;
    const res = await proxy("GET", "/x");
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("needs_reconnect");
    expect(fake.refreshes).toBe(before);
    await svc.ctx.db.updateTable("connections").set({ status: "active", last_error: null }).where("user_id", "=", USER).execute();
  });

  it("needs an API key", async () => {
    const res = await svc.server.inject({ method: "GET", url: `/api/v1/proxy/echo/${enc}/x` });
    expect(res.statusCode).toBe(401);
  });

  it("logs no token", () => {
    const logs = svc.logs.text();
    for (const t of ["at-0", "at-1", "rt-0", "rt-1", "rotated-at-provider", "echo-secret-sentinel"]) expect(logs).not.toContain(`"${t}`);
    expect(logs).not.toContain("Bearer at-");
  });
});
