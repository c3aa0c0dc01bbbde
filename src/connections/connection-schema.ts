// The Connection and Token resources (SPEC §4) and the parameters of their routes: one
// definition that the routes validate with, the OpenAPI document shows and the SDK types from.
import { z } from "zod";

export const connectionStatus = z.enum(["active", "needs_reconnect"]);

export const connectionResource = z.object({
  appId: z.string(),
  userId: z.string(),
  status: connectionStatus,
  scopes: z.array(z.string()),
  account: z.object({ sub: z.string().nullable(), email: z.string().nullable(), name: z.string().nullable() }),
  expiresAt: z.string().nullable().describe("ISO 8601 UTC; null when the provider gave no lifetime"),
  lastRefreshedAt: z.string().nullable(),
  lastError: z.string().nullable().describe("the provider's message from the last failed refresh"),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const tokenResource = z.object({
  accessToken: z.string(),
  tokenType: z.string(),
  expiresAt: z.string().nullable(),
  scopes: z.array(z.string()),
});

export const appParams = z.strictObject({ appId: z.string().max(200) });

/** SPEC §1: a userId is any string the host app chooses, up to 200 characters (URL-encoded in paths). */
export const connectionParams = z.strictObject({
  appId: z.string().max(200),
  userId: z.string().min(1).max(200),
});

export const listConnectionsQuery = z.strictObject({ status: connectionStatus.optional() });

export const tokenQuery = z.strictObject({
  minValidity: z.coerce
    .number()
    .int("minValidity: whole seconds")
    .min(0)
    .max(365 * 86400)
    .default(60)
    .describe("seconds the token must stay valid for; refreshed first when it would not"),
});

export type ConnectionResource = z.infer<typeof connectionResource>;
export type TokenResource = z.infer<typeof tokenResource>;
