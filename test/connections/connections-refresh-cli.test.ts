// `connected-apps connections refresh APP USER` (SPEC §3) on both databases, in-process through
// main() with the provider's refresh scripted.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ProviderFailure } from "../../src/oauth/provider-failure.ts";
import { dialects } from "../support/databases.ts";
import { startTestService, type TestService } from "../support/test-service.ts";

const grants = vi.hoisted(() => ({ refreshGrant: vi.fn(), revokeToken: vi.fn(), clientCredentialsGrant: vi.fn() }));
vi.mock("../../src/oauth/grants.ts", async (original) => ({ ...(await original<typeof import("../../src/oauth/grants.ts")>()), ...grants }));

const { main } = await import("../../src/cli/main.ts");
const { saveConnection } = await import("../../src/connections/connection-service.ts");

describe.each(dialects)("connections refresh CLI on %s", (dialect) => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService(dialect);
    await svc.server.inject({ method: "POST", url: "/api/v1/apps", headers: svc.headers, payload: { id: "acme", name: "Acme", clientId: "c", tokenEndpoint: "https://acme.test/token" } });
    await saveConnection(svc.ctx, {
      appId: "acme",
      userId: "u1",
      tokens: { accessToken: "cli-at", refreshToken: "cli-rt", tokenType: "Bearer", idToken: null, expiresIn: 3600, scopes: null },
      account: { sub: null, email: null, name: null },
      requestedScopes: [],
    });
  });
  afterAll(async () => svc?.close());

  async function run(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const env = {
      DATABASE_URL: svc.database.url,
      CONNECTED_APPS_KEYS: svc.config.keysFromEnv!,
      CONNECTED_APPS_DATA_DIR: svc.database.dir,
      LOG_LEVEL: "silent",
    };
    const code = await main(["connections", "refresh", ...args], { out: (l) => out.push(l), err: (l) => err.push(l), env });
    return { code, out, err };
  }

  it("forces a refresh of a still-valid token and prints the new expiry", async () => {
    grants.refreshGrant.mockResolvedValueOnce({ accessToken: "cli-at-2", refreshToken: "cli-rt-2", tokenType: "Bearer", idToken: null, expiresIn: 7200, scopes: null });
    const before = Date.now();
    const { code, out, err } = await run("acme", "u1");
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const expiry = Date.parse(out[0]!);
    expect(expiry).toBeGreaterThanOrEqual(before + 7200_000);
    expect(grants.refreshGrant).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ id: "acme" }), "cli-rt");
    expect(out.join()).not.toContain("cli-at-2");
  });

  it("prints the provider's error on one line and exits 1", async () => {
    grants.refreshGrant.mockRejectedValueOnce(new ProviderFailure("grant_invalid", "invalid_grant: refresh token expired"));
    const { code, out, err } = await run("acme", "u1");
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toContain("invalid_grant: refresh token expired");
  });

  it("exits 1 naming the problem for a user without a connection", async () => {
    const { code, err } = await run("acme", "nobody");
    expect(code).toBe(1);
    expect(err[0]).toContain("no connection");
  });

  it("exits 2 with the usage when an argument is missing", async () => {
    const { code, err } = await run("acme");
    expect(code).toBe(2);
    expect(err.join("\n")).toContain("connected-apps connections refresh APP USER");
  });
});
