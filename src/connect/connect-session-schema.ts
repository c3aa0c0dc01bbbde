// POST /api/v1/connect-sessions (SPEC §4): what the route accepts and answers. One definition
// that the route validates with, the OpenAPI document shows and the SDK types from.
import { z } from "zod";

export const createConnectSessionBody = z.strictObject({
  appId: z.string().min(1).max(64),
  /** SPEC §1: the host app's id for its user, any string up to 200 characters. */
  userId: z.string().min(1).max(200),
  /** Any http(s) URL: the caller is the host app's trusted backend. */
  returnTo: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2000).optional(),
});

export const connectSessionResource = z.object({
  url: z.string().describe("open in the user's browser; single use"),
  expiresAt: z.string().describe("ISO 8601 UTC"),
});

export type CreateConnectSessionBody = z.output<typeof createConnectSessionBody>;
export type ConnectSessionResource = z.output<typeof connectSessionResource>;
