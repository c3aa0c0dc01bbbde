// A small loopback token endpoint for the refresh suites: RFC 6749 §6 refresh with rotation
// that punishes reuse the way real servers do (a rotated-away refresh token presented again
// revokes the whole grant, OAuth 2.0 Security BCP §4.14.2), so any double refresh shows as a
// failure; RFC 7009 revocation; and switches for the failure modes (down, slow, 503, restart).
// It counts refresh calls, which is how the suites prove "exactly one refresh".
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

interface Grant {
  refreshToken: string;
  accessTokens: Set<string>;
  alive: boolean;
}

export type EndpointMode = { kind: "up" } | { kind: "down" } | { kind: "slow"; ms: number } | { kind: "unavailable"; retryAfter?: number };

export class FakeTokenEndpoint {
  readonly clientId = "fake-client";
  readonly clientSecret = "fake-client-secret-e8d1";
  /** Seconds each issued access token lives. */
  accessTokenTtl = 3600;
  mode: EndpointMode = { kind: "up" };
  /** Refresh requests that reached the endpoint (whatever their outcome). */
  refreshCalls = 0;
  readonly revoked: Array<{ token: string; hint: string | undefined }> = [];

  private readonly grants = new Map<string, Grant>();
  /** Every refresh token ever issued → its grant, so a reused one is recognised. */
  private readonly issuedRefreshTokens = new Map<string, string>();
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  url = "";

  static async start(): Promise<FakeTokenEndpoint> {
    const fake = new FakeTokenEndpoint();
    fake.server = createServer((req, res) => void fake.handle(req, res));
    fake.server.on("connection", (s) => {
      fake.sockets.add(s);
      s.on("close", () => fake.sockets.delete(s));
    });
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  get tokenEndpoint() {
    return `${this.url}/token`;
  }
  get revocationEndpoint() {
    return `${this.url}/revoke`;
  }

  /** The body that registers an app pointing at this endpoint (apps API, or createApp). */
  appBody(id: string) {
    return {
      id,
      name: id,
      issuer: this.url,
      authorizationEndpoint: `${this.url}/authorize`,
      tokenEndpoint: this.tokenEndpoint,
      revocationEndpoint: this.revocationEndpoint,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      tokenEndpointAuthMethod: "client_secret_post" as const,
    };
  }

  /** A new grant, as a finished authorization-code exchange would give. */
  issue(): { accessToken: string; refreshToken: string; expiresIn: number } {
    const grantId = randomBytes(8).toString("hex");
    const grant: Grant = { refreshToken: "", accessTokens: new Set(), alive: true };
    this.grants.set(grantId, grant);
    return { ...this.rotate(grantId, grant), expiresIn: this.accessTokenTtl };
  }

  /** Whether the provider would accept this access token at a protected resource. */
  accepts(accessToken: string): boolean {
    return [...this.grants.values()].some((g) => g.alive && g.accessTokens.has(accessToken));
  }

  /** A provider restart that loses every grant (an in-memory authorization server). */
  forgetAllGrants(): void {
    for (const g of this.grants.values()) g.alive = false;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private rotate(grantId: string, grant: Grant) {
    const accessToken = `fake-at-${randomBytes(12).toString("hex")}`;
    const refreshToken = `fake-rt-${randomBytes(12).toString("hex")}`;
    grant.refreshToken = refreshToken;
    grant.accessTokens.add(accessToken);
    this.issuedRefreshTokens.set(refreshToken, grantId);
    return { accessToken, refreshToken };
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let body = "";
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(req.headers["content-type"]?.includes("json") ? new URLSearchParams(JSON.parse(body || "{}")) : body);
    const send = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
      res.end(JSON.stringify(json));
    };
    if (req.url === "/revoke") {
      const token = form.get("token") ?? "";
      this.revoked.push({ token, hint: form.get("token_type_hint") ?? undefined });
      const grantId = this.issuedRefreshTokens.get(token);
      if (grantId) this.grants.get(grantId)!.alive = false;
      for (const g of this.grants.values()) if (g.accessTokens.has(token)) g.accessTokens.delete(token);
      return send(200, {});
    }
    if (req.url !== "/token") return send(404, { error: "not_found" });
    if (form.get("grant_type") !== "refresh_token") return send(400, { error: "unsupported_grant_type" });
    this.refreshCalls++;
    const mode = this.mode;
    if (mode.kind === "down") return req.socket.destroy();
    if (mode.kind === "unavailable") {
      return send(503, { error: "temporarily_unavailable" }, mode.retryAfter === undefined ? {} : { "retry-after": String(mode.retryAfter) });
    }
    if (mode.kind === "slow") {
      await new Promise((r) => setTimeout(r, mode.ms));
      // The caller died meanwhile. A real server might still rotate (and the grant would then be
      // lost with the dead caller, which no client can prevent); this one drops the request, so
      // the suites test our takeover rather than that race.
      if (req.socket.destroyed) return;
    }
    const presented = form.get("refresh_token") ?? "";
    const grantId = this.issuedRefreshTokens.get(presented);
    const grant = grantId ? this.grants.get(grantId) : undefined;
    if (!grant || !grant.alive) return send(400, { error: "invalid_grant", error_description: "grant request is invalid" });
    if (grant.refreshToken !== presented) {
      // Reuse of a rotated-away refresh token: treat the grant as stolen, revoke it all.
      grant.alive = false;
      return send(400, { error: "invalid_grant", error_description: "refresh token reused; grant revoked" });
    }
    const { accessToken, refreshToken } = this.rotate(grantId!, grant);
    return send(200, { access_token: accessToken, token_type: "Bearer", expires_in: this.accessTokenTtl, refresh_token: refreshToken, scope: "read" });
  }
}
