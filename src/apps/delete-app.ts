// Deleting an app: its connections are revoked at the provider and deleted, then the app.
import type { Context } from "../context.ts";
import { deleteAppRow, getApp } from "./app-service.ts";

export async function deleteApp(ctx: Context, id: string): Promise<void> {
  await getApp(ctx, id);
  // The connect-flow work adds revocation of each connection here (connections/).
  await deleteAppRow(ctx, id);
}
