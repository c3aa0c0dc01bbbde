// Bulk-inserts connections for benchmarks (500 rows a statement), tokens sealed as the service
// seals them, so a bench can start from 10,000 or 100,000 rows in seconds.
import type { Context } from "../src/context.ts";
import { newConnectionId } from "../src/connections/connection-store.ts";
import { seal } from "../src/crypto/seal.ts";

export interface SeedRow {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
  nextRefreshAt: number | null;
}

export async function seedConnections(ctx: Pick<Context, "db" | "keyring">, appId: string, count: number, row: (i: number) => SeedRow): Promise<void> {
  const now = Date.now();
  for (let start = 0; start < count; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(count, start + 500); i++) {
      const id = newConnectionId();
      const bind = (field: string) => ({ table: "connections", id, field });
      const r = row(i);
      rows.push({
        id,
        app_id: appId,
        user_id: `u${i}`,
        status: "active",
        scopes: '["read"]',
        account_sub: `sub-${i}`,
        account_email: null,
        account_name: null,
        access_token: seal(ctx.keyring, r.accessToken, bind("access_token")),
        refresh_token: seal(ctx.keyring, r.refreshToken, bind("refresh_token")),
        id_token: null,
        token_type: "Bearer",
        expires_at: r.expiresAt,
        last_refreshed_at: null,
        last_error: null,
        version: 1,
        next_refresh_at: r.nextRefreshAt,
        lease_owner: null,
        lease_until: null,
        refresh_failures: 0,
        created_at: now,
        updated_at: now,
      });
    }
    await ctx.db.insertInto("connections").values(rows).execute();
  }
}
