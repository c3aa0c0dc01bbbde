// The newest events of one app, for its page (SPEC §7: the audit trail is readable in the UI).
import type { Context } from "../context.ts";
import type { RecentEvent } from "./pages/app-form-page.ts";

export async function recentEventsOfApp(ctx: Pick<Context, "db">, appId: string, limit = 20): Promise<RecentEvent[]> {
  const rows = await ctx.db
    .selectFrom("events")
    .select(["type", "user_id", "created_at"])
    .where("app_id", "=", appId)
    .orderBy("seq", "desc")
    .limit(limit)
    .execute();
  return rows.map((r) => ({ type: r.type, userId: r.user_id, createdAt: Number(r.created_at) }));
}
