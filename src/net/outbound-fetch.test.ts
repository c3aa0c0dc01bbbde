// The SSRF guard end to end, with loopback spellings only: refused without a connection when
// private URLs are not allowed, reaching a loopback test server when they are. Nothing here
// connects to a non-loopback address.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlockedDestinationError, createOutboundFetch, guardedConnector, readBodyWithLimit, ResponseTooLargeError } from "./outbound-fetch.ts";

interface LoopbackServer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

async function listen(host: string, handler: http.RequestListener): Promise<LoopbackServer> {
  const server = http.createServer(handler);
  const state = { connections: 0 };
  server.on("connection", () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const SENTINEL = "sentinel-query-secret-51c2";

describe("createOutboundFetch", () => {
  let v4: LoopbackServer;
  let v6: LoopbackServer;
  beforeAll(async () => {
    const handler: http.RequestListener = (req, res) => {
      if (req.url === "/hang") return; // never answers; the test's deadline ends it
      if (req.url === "/slow") return void setTimeout(() => res.end("late"), 300);
      res.end(`hello ${req.url}`);
    };
    v4 = await listen("127.0.0.1", handler);
    v6 = await listen("::1", handler);
  });
  afterAll(async () => {
    await v4?.close();
    await v6?.close();
  });

  const spellings = () => [
    `http://localhost:${v4.port}/x`,
    `http://127.0.0.1:${v4.port}/x`,
    `http://127.1:${v4.port}/x`,
    `http://2130706433:${v4.port}/x`,
    `http://0x7f.0.0.1:${v4.port}/x`,
    `http://[::ffff:127.0.0.1]:${v4.port}/x`,
    `http://[::1]:${v6.port}/x`,
  ];

  it("refuses every loopback spelling without connecting when private URLs are not allowed", async () => {
    const guarded = createOutboundFetch({ allowPrivateUrls: false });
    for (const url of spellings()) {
      const err = await guarded(url).catch((e: unknown) => e);
      expect(err, url).toBeInstanceOf(BlockedDestinationError);
      expect((err as Error).message, url).toMatch(/loopback address/);
      expect((err as Error).message, url).toContain("CONNECTED_APPS_ALLOW_PRIVATE_URLS=true");
    }
    expect(v4.connections + v6.connections).toBe(0);
  });

  it("names the host that resolved to a loopback address", async () => {
    const err = await createOutboundFetch({ allowPrivateUrls: false })(`http://localhost:${v4.port}/`).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^connections to localhost are refused because it resolves to (127\.0\.0\.1|::1), a loopback address/);
  });

  it("keeps the path and query (where secrets travel) out of the refusal", async () => {
    const err = await createOutboundFetch({ allowPrivateUrls: false })(`http://127.0.0.1:${v4.port}/p?access_token=${SENTINEL}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BlockedDestinationError);
    expect(String((err as Error).message)).not.toContain(SENTINEL);
  });

  it("reaches a loopback server through every spelling when private URLs are allowed", async () => {
    const open = createOutboundFetch({ allowPrivateUrls: true });
    for (const url of spellings()) {
      const res = await open(url);
      expect(res.status, url).toBe(200);
      expect(await res.text(), url).toBe("hello /x");
    }
  });

  it.each(["file:///etc/passwd", "ftp://127.0.0.1/x", "data:text/plain,hi", "gopher://127.0.0.1:70/x"])(
    "refuses the non-HTTP URL %s even when private URLs are allowed",
    async (url) => {
      const err = await createOutboundFetch({ allowPrivateUrls: true })(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BlockedDestinationError);
      expect((err as Error).message).toContain("only http and https URLs are allowed");
    },
  );

  it("gives up after its default deadline when the caller passes no signal", async () => {
    const open = createOutboundFetch({ allowPrivateUrls: true, timeoutMs: 200 });
    const started = Date.now();
    const err = await open(`http://127.0.0.1:${v4.port}/hang`).catch((e: unknown) => e);
    expect((err as Error).name).toBe("TimeoutError");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("lets the caller's own signal replace the default deadline", async () => {
    const open = createOutboundFetch({ allowPrivateUrls: true, timeoutMs: 100 });
    const res = await open(`http://127.0.0.1:${v4.port}/slow`, { signal: AbortSignal.timeout(5_000) });
    expect(await res.text()).toBe("late");
  });
});

describe("readBodyWithLimit", () => {
  let server: LoopbackServer;
  const open = createOutboundFetch({ allowPrivateUrls: true });
  beforeAll(async () => {
    server = await listen("127.0.0.1", (req, res) => {
      if (req.url === "/declared") {
        res.setHeader("content-length", "5000");
        return void res.end("z".repeat(5000));
      }
      res.write("x".repeat(1000));
      res.end("y".repeat(1000)); // chunked: no Content-Length to refuse on
    });
  });
  afterAll(async () => server?.close());

  it("reads a body within the limit", async () => {
    const body = await readBodyWithLimit(await open(`http://127.0.0.1:${server.port}/streamed`), 4096);
    expect(body.byteLength).toBe(2000);
  });

  it("refuses a body whose Content-Length is over the limit", async () => {
    const err = await readBodyWithLimit(await open(`http://127.0.0.1:${server.port}/declared`), 4096).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
  });

  it("refuses a streamed body once it passes the limit", async () => {
    const err = await readBodyWithLimit(await open(`http://127.0.0.1:${server.port}/streamed`), 1500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect((err as Error).message).toBe("the response body is larger than 1500 bytes");
  });
});

describe("guardedConnector (what a redirect's new destination passes through)", () => {
  let server: LoopbackServer;
  beforeAll(async () => {
    server = await listen("127.0.0.1", (_req, res) => res.end("ok"));
  });
  afterAll(async () => server?.close());

  const connectTo = (hostname: string) =>
    new Promise<Error | null>((resolve) => {
      guardedConnector(1_000)({ hostname, protocol: "http:", port: String(server.port) }, (err, socket) => {
        socket?.destroy();
        resolve(err);
      });
    });

  it.each(["127.0.0.1", "::1", "::ffff:127.0.0.1", "localhost"])("refuses %s without connecting", async (hostname) => {
    const err = await connectTo(hostname);
    expect(err).toBeInstanceOf(BlockedDestinationError);
    expect(err?.message).toContain("a loopback address");
    expect(server.connections).toBe(0);
  });
});
