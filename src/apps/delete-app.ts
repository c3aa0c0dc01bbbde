// Deleting an app: its connections are revoked at the provider and deleted, then the app.
import { deleteConnectionsOfApp } from "../connections/connection-service.ts";
import type { Context } from "../context.ts";
import { deleteAppRow, getApp } from "./app-service.ts";

export async function deleteApp(ctx: Context, id: string): Promise<void> {
  await deleteConnectionsOfApp(ctx, await getApp(ctx, id));
  await deleteAppRow(ctx, id);
}
