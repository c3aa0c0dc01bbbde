// Every problem the API can answer becomes a ConnectedAppsError with its code, status and detail;
// a service that does not answer becomes a ConnectedAppsNetworkError. Driven by a fake fetch.
import { describe, expect, it } from "vitest";
import { errorCatalog, errorCodes } from "../../src/errors/catalog.ts";
import { toProblem } from "../../src/errors/problem.ts";
import { ConnectedApps, ConnectedAppsError, ConnectedAppsNetworkError } from "../../src/sdk/index.ts";

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: string | null;
}

function fakeService(answer: (seen: Seen) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const s: Seen = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? init.body : null,
    };
    seen.push(s);
    return answer(s);
  };
  const ca = new ConnectedApps({ baseUrl: "http://ca.test:8000/", apiKey: "key-123", fetch });
  return { ca, seen };
}

const problemResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/problem+json", ...headers } });

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the call to throw");
}

describe("ConnectedAppsError mapping", () => {
  it.each(errorCodes)("maps a %s problem to its code, status and detail", async (code) => {
    const problem = toProblem(code, `detail for ${code}`);
    const { ca } = fakeService(() => problemResponse(problem.status, problem));
    const err = await caught(ca.apps.get("acme"));
    expect(err).toBeInstanceOf(ConnectedAppsError);
    expect(err).toMatchObject({ code, status: errorCatalog[code].status, detail: `detail for ${code}`, retryAfter: undefined });
  });

  it("keeps the answer's status where a code covers several (415 invalid_request)", async () => {
    const { ca } = fakeService(() => problemResponse(415, toProblem("invalid_request", "send JSON", 415)));
    expect(await caught(ca.apps.list())).toMatchObject({ code: "invalid_request", status: 415, detail: "send JSON" });
  });

  it("exposes Retry-After seconds on provider_unavailable", async () => {
    const { ca } = fakeService(() => problemResponse(503, toProblem("provider_unavailable", "token endpoint timed out"), { "retry-after": "17" }));
    const err = await caught(ca.connections.token("google", "u42"));
    expect(err).toMatchObject({ code: "provider_unavailable", status: 503, retryAfter: 17 });
  });

  it("reads a Retry-After given as an HTTP date as seconds from now", async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const { ca } = fakeService(() => problemResponse(503, toProblem("provider_unavailable", "down"), { "retry-after": at }));
    const err = (await caught(ca.connections.token("google", "u42"))) as ConnectedAppsError;
    expect(err.retryAfter).toBeGreaterThanOrEqual(118);
    expect(err.retryAfter).toBeLessThanOrEqual(120);
  });

  it("gives a code from the status when the answer is not a problem document (a proxy's HTML page)", async () => {
    const { ca } = fakeService(() => new Response("<html>Bad Gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "content-type": "text/html" } }));
    const err = await caught(ca.apps.list());
    expect(err).toBeInstanceOf(ConnectedAppsError);
    expect(err).toMatchObject({ code: "provider_error", status: 502 });
    expect((err as ConnectedAppsError).detail).toContain("not a problem document");
  });

  it("does not take an unknown code from a JSON body as one of the catalog's", async () => {
    const { ca } = fakeService(() => problemResponse(404, { code: "no_such_code", detail: "x" }));
    expect(await caught(ca.apps.get("x"))).toMatchObject({ code: "not_found", status: 404 });
  });

  it("wraps a fetch that fails as ConnectedAppsNetworkError naming the request, with the cause", async () => {
    const cause = new TypeError("fetch failed");
    const { ca } = fakeService(() => Promise.reject(cause));
    const err = await caught(ca.apps.list());
    expect(err).toBeInstanceOf(ConnectedAppsNetworkError);
    expect(err).not.toBeInstanceOf(ConnectedAppsError);
    expect((err as Error).message).toBe("connected-apps did not answer GET http://ca.test:8000/api/v1/apps: fetch failed");
    expect((err as Error).cause).toBe(cause);
  });

  it("proxy wraps network failures too, but answers any HTTP status as the raw Response", async () => {
    const { ca } = fakeService(() => problemResponse(404, toProblem("not_connected", "no connection")));
    const res = await ca.proxy("google", "u42", "/gmail/v1/users/me/profile");
    expect(res.status).toBe(404);
    const failing = fakeService(() => Promise.reject(new Error("ECONNREFUSED")));
    expect(await caught(failing.ca.proxy("google", "u42", "/x"))).toBeInstanceOf(ConnectedAppsNetworkError);
  });

  it("refuses a 2xx answer that is not JSON with a clear error", async () => {
    const { ca } = fakeService(() => new Response("<html>", { status: 200, headers: { "content-type": "text/html" } }));
    const err = await caught(ca.apps.list());
    expect(err).toMatchObject({ code: "internal_error", status: 200 });
  });
});

describe("requests the client sends", () => {
  const ok = (body: unknown = {}) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });

  it("sends the API key, encodes user ids and keeps a base path", async () => {
    const seen: string[] = [];
    const ca = new ConnectedApps({
      baseUrl: "https://example.test/ca/",
      apiKey: "key-123",
      fetch: async (input, init) => {
        seen.push(String(input));
        expect(new Headers(init?.headers).get("authorization")).toBe("Bearer key-123");
        return ok();
      },
    });
    await ca.connections.get("google", "a/b c?#%");
    await ca.connections.token("google", "u42", { minValidity: 300 });
    await ca.connections.list("google", { status: "needs_reconnect" });
    await ca.events.list({ appId: "google", after: "evt_1" });
    await ca.events.list();
    expect(seen).toEqual([
      "https://example.test/ca/api/v1/apps/google/connections/a%2Fb%20c%3F%23%25",
      "https://example.test/ca/api/v1/apps/google/connections/u42/token?minValidity=300",
      "https://example.test/ca/api/v1/apps/google/connections?status=needs_reconnect",
      "https://example.test/ca/api/v1/events?appId=google&after=evt_1",
      "https://example.test/ca/api/v1/events",
    ]);
  });

  it("sends JSON bodies with their content type", async () => {
    const { ca, seen } = fakeService(() => new Response(JSON.stringify({ url: "u", expiresAt: "e" }), { status: 201 }));
    await ca.connectSessions.create({ appId: "google", userId: "u42", returnTo: "https://host.test/back" });
    expect(seen[0]).toMatchObject({ method: "POST", url: "http://ca.test:8000/api/v1/connect-sessions" });
    expect(seen[0]!.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(seen[0]!.body!)).toEqual({ appId: "google", userId: "u42", returnTo: "https://host.test/back" });
  });

  it("answers undefined for 204", async () => {
    const { ca, seen } = fakeService(() => new Response(null, { status: 204 }));
    await expect(ca.connections.delete("google", "u 42")).resolves.toBeUndefined();
    expect(seen[0]).toMatchObject({ method: "DELETE", url: "http://ca.test:8000/api/v1/apps/google/connections/u%2042" });
  });

  it("proxy puts the API key over any Authorization the caller set and passes method, headers and body", async () => {
    const { ca, seen } = fakeService(() => ok({ fine: true }));
    const res = await ca.proxy("google", "user@example.com", "/gmail/v1/users/me/messages?q=is%3Aunread", {
      method: "POST",
      headers: { authorization: "Bearer not-the-key", "x-extra": "1" },
      body: "payload",
    });
    expect(await res.json()).toEqual({ fine: true });
    expect(seen[0]).toMatchObject({
      method: "POST",
      url: "http://ca.test:8000/api/v1/proxy/google/user%40example.com/gmail/v1/users/me/messages?q=is%3Aunread",
      body: "payload",
    });
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer key-123");
    expect(seen[0]!.headers.get("x-extra")).toBe("1");
  });

  it("refuses a baseUrl that is not an http(s) URL, and an empty API key", () => {
    expect(() => new ConnectedApps({ baseUrl: "localhost:8000", apiKey: "k" })).toThrow(/http\(s\)|not a URL/);
    expect(() => new ConnectedApps({ baseUrl: "ftp://x", apiKey: "k" })).toThrow(/http\(s\)/);
    expect(() => new ConnectedApps({ baseUrl: "http://x", apiKey: "" })).toThrow(/apiKey/);
  });
});
