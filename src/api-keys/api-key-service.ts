// API keys for host apps' backends: minted once, shown once, stored hashed, checked in constant time.
import type { Context } from "../context.ts";
import { hashApiKeySecret, hashesEqual, newApiKey } from "../crypto/api-key-hash.ts";
import { ApiKeyStore } from "./api-key-store.ts";

export interface ApiKeyPrincipal {
  kind: "api_key";
  keyId: string;
  name: string;
}

export async function createApiKey(ctx: Pick<Context, "db" | "clock">, name: string): Promise<{ id: string; key: string }> {
  const minted = newApiKey();
  await new ApiKeyStore(ctx.db).insert({
    id: minted.id,
    name,
    hash: minted.hash,
    created_at: ctx.clock.now(),
    last_used_at: null,
  });
  return { id: minted.id, key: minted.key };
}

/** CONNECTED_APPS_BOOTSTRAP_API_KEY: an admin key with exactly this value exists (one row, replaced on change). */
export async function ensureBootstrapApiKey(ctx: Pick<Context, "db" | "clock">, key: string): Promise<void> {
  await new ApiKeyStore(ctx.db).upsertBootstrap({
    id: "bootstrap",
    name: "bootstrap (CONNECTED_APPS_BOOTSTRAP_API_KEY)",
    hash: hashApiKeySecret(key),
    created_at: ctx.clock.now(),
    last_used_at: null,
  });
}

// Successful lookups are cached briefly: an API key check sits on every request, and keys
// are never edited (only created), so a short cache cannot serve a stale answer for long.
const CACHE_MS = 5_000;

export class ApiKeyVerifier {
  private readonly cache = new Map<string, { principal: ApiKeyPrincipal; until: number }>();

  constructor(private readonly ctx: Pick<Context, "db" | "clock">) {}

  async verify(presented: string): Promise<ApiKeyPrincipal | undefined> {
    if (presented.length < 16 || presented.length > 512) return undefined;
    const hash = hashApiKeySecret(presented);
    const now = this.ctx.clock.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const row = await new ApiKeyStore(this.ctx.db).findByHash(hash);
    if (!row || !hashesEqual(row.hash, hash)) return undefined;
    const principal: ApiKeyPrincipal = { kind: "api_key", keyId: row.id, name: row.name };
    if (this.cache.size > 1000) this.cache.clear();
    this.cache.set(hash, { principal, until: now + CACHE_MS });
    return principal;
  }
}
