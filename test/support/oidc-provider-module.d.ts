// oidc-provider ships no type declarations; this is the small part of its API the test harness
// (test/support/oidc-provider.ts) uses. Extend it when a test needs more.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export type ClientMetadata = Record<string, unknown> & { client_id: string };

  export interface OidcClient {
    clientId: string;
    grantTypeAllowed(grant: string): boolean;
  }

  export interface Configuration {
    clients?: ClientMetadata[];
    jwks?: { keys: Record<string, unknown>[] };
    cookies?: { keys?: string[] };
    scopes?: string[];
    claims?: Record<string, string[]>;
    features?: Record<string, Record<string, unknown>>;
    pkce?: { required?: (ctx: unknown, client: OidcClient) => boolean };
    issueRefreshToken?: (ctx: unknown, client: OidcClient, code: unknown) => Promise<boolean> | boolean;
    rotateRefreshToken?: boolean | ((ctx: unknown) => boolean);
    ttl?: Record<string, number | ((...args: unknown[]) => number)>;
    findAccount?: (
      ctx: unknown,
      sub: string,
      token?: unknown,
    ) => Promise<{ accountId: string; claims: (use?: string, scope?: string) => Promise<Record<string, unknown>> } | undefined>;
    [key: string]: unknown;
  }

  export interface StoredToken {
    accountId?: string;
    clientId?: string;
    scope?: string;
    jti: string;
  }

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
    AccessToken: { find(token: string): Promise<StoredToken | undefined> };
    RefreshToken: { find(token: string): Promise<StoredToken | undefined> };
    ClientCredentials: { find(token: string): Promise<StoredToken | undefined> };
  }
}
