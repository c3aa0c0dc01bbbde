// A hand-made OIDC provider on 127.0.0.1 for the callback attack suite: discovery (S256, RFC 9207
// iss advertised), a JWKS, and a token endpoint whose ID tokens the test shapes (signed by the
// provider's key or a stranger's, with any nonce). It counts code exchanges, which is how the
// suite proves that two concurrent callbacks exchange once. Codes are one-time, as at a real one.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as jose from "jose";

export interface IdTokenShape {
  /** Signed by a key that is not in the provider's JWKS. */
  forged?: boolean;
  nonce?: string;
  sub?: string;
  email?: string;
  name?: string;
}

type KeyPair = Awaited<ReturnType<typeof jose.generateKeyPair>>;

export class FakeOidcProvider {
  readonly clientId = "attack-client";
  readonly clientSecret = "sentinel-client-secret-91ce";
  /** Exchanges that reached the token endpoint. */
  exchanges = 0;
  /** Milliseconds the token endpoint waits before answering (to overlap concurrent callbacks). */
  delayMs = 0;
  /** What the next token answer's ID token looks like; null: no ID token. */
  idToken: IdTokenShape | null = null;
  /** Codes the token endpoint accepts, each once. */
  private readonly codes = new Set<string>();
  readonly issued: string[] = [];
  url = "";
  private server!: Server;
  private key!: KeyPair;
  private strangerKey!: KeyPair;

  static async start(): Promise<FakeOidcProvider> {
    const p = new FakeOidcProvider();
    p.key = await jose.generateKeyPair("RS256");
    p.strangerKey = await jose.generateKeyPair("RS256");
    p.server = createServer((req, res) => void p.handle(req.method ?? "GET", req.url ?? "/", req.headers.authorization, req).then(([status, body]) => {
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
    }));
    await new Promise<void>((r) => p.server.listen(0, "127.0.0.1", r));
    p.url = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
    return p;
  }

  get issuer() {
    return this.url;
  }

  /** The body of POST /api/v1/apps for an app at this provider (no discovery needed). */
  appBody(id: string, name = id) {
    return {
      id,
      name,
      issuer: this.issuer,
      authorizationEndpoint: `${this.url}/authorize`,
      tokenEndpoint: `${this.url}/token`,
      jwksUri: `${this.url}/jwks`,
      userinfoEndpoint: `${this.url}/userinfo`,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      scopes: ["openid", "email"],
    };
  }

  /** A code as the authorization endpoint would have issued it. */
  newCode(): string {
    const code = `sentinel-code-${randomBytes(8).toString("hex")}`;
    this.codes.add(code);
    return code;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  private async handle(method: string, url: string, authorization: string | undefined, body: AsyncIterable<Buffer>): Promise<[number, unknown]> {
    const path = url.split("?")[0];
    if (path === "/.well-known/openid-configuration") {
      return [
        200,
        {
          issuer: this.issuer,
          authorization_endpoint: `${this.url}/authorize`,
          token_endpoint: `${this.url}/token`,
          jwks_uri: `${this.url}/jwks`,
          userinfo_endpoint: `${this.url}/userinfo`,
          code_challenge_methods_supported: ["S256"],
          token_endpoint_auth_methods_supported: ["client_secret_basic"],
          authorization_response_iss_parameter_supported: true,
          response_types_supported: ["code"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
        },
      ];
    }
    if (path === "/jwks") return [200, { keys: [{ ...(await jose.exportJWK(this.key.publicKey)), kid: "k1", alg: "RS256", use: "sig" }] }];
    if (path === "/userinfo") return [200, { sub: "userinfo-sub", email: "userinfo@acme.test" }];
    if (path === "/token" && method === "POST") {
      let text = "";
      for await (const chunk of body) text += chunk.toString("utf8");
      const form = new URLSearchParams(text);
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
      const [id, secret] = Buffer.from((authorization ?? "").replace(/^Basic /, ""), "base64").toString("utf8").split(":").map((v) => decodeURIComponent(v));
      if (id !== this.clientId || secret !== this.clientSecret) return [401, { error: "invalid_client" }];
      this.exchanges += 1;
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const code = form.get("code") ?? "";
      if (!this.codes.delete(code) || !form.get("code_verifier")) return [400, { error: "invalid_grant" }];
      const accessToken = `sentinel-access-${randomBytes(8).toString("hex")}`;
      const refreshToken = `sentinel-refresh-${randomBytes(8).toString("hex")}`;
      this.issued.push(accessToken, refreshToken);
      const answer: Record<string, unknown> = { access_token: accessToken, refresh_token: refreshToken, token_type: "Bearer", expires_in: 3600, scope: "openid email" };
      if (this.idToken) answer.id_token = await this.signIdToken(this.idToken);
      return [200, answer];
    }
    return [404, { error: "not_found" }];
  }

  private async signIdToken(shape: IdTokenShape): Promise<string> {
    const claims: jose.JWTPayload = { sub: shape.sub ?? "acct-42", email: shape.email ?? "alice@acme.test", name: shape.name ?? "Alice" };
    if (shape.nonce !== undefined) claims.nonce = shape.nonce;
    return new jose.SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuer(this.issuer)
      .setAudience(this.clientId)
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(shape.forged ? this.strangerKey.privateKey : this.key.privateKey);
  }
}
