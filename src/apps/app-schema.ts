// The Connected App resource (SPEC §4): what the API accepts and what it answers.
// One definition that the routes validate with, the OpenAPI document shows and the SDK types from.
import { z } from "zod";

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(2000);
const nullableUrl = httpUrl.nullable();

export const APP_ID = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
export const appId = z
  .string()
  .regex(APP_ID, "must be 1-64 of a-z, 0-9 and -, starting and ending with a letter or digit");

export const tokenEndpointAuthMethod = z.enum(["client_secret_basic", "client_secret_post", "none"]);
export const pkceMode = z.enum(["auto", "S256", "off"]);
export const tokenRequestFormat = z.enum(["form", "json"]);

// Parameters the flow itself owns; an app's extra parameters can never replace them.
export const RESERVED_AUTHORIZATION_PARAMS = [
  "client_id",
  "redirect_uri",
  "state",
  "code_challenge",
  "code_challenge_method",
  "response_type",
  "scope",
  "nonce",
] as const;

const extraParams = z
  .record(z.string().regex(/^[A-Za-z0-9_.\-]{1,100}$/, "parameter names are 1-100 of A-Z a-z 0-9 _ . -"), z.string().max(2000))
  .refine((r) => Object.keys(r).length <= 50, "at most 50 extra parameters")
  .superRefine((r, ctx) => {
    for (const name of Object.keys(r)) {
      if ((RESERVED_AUTHORIZATION_PARAMS as readonly string[]).includes(name)) {
        ctx.addIssue({ code: "custom", message: `"${name}" is set by the flow and cannot be an extra parameter`, path: [name] });
      }
    }
  });

const scope = z.string().min(1).max(500).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, "a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)");

/** Fields an admin may set on create and patch. */
export const appFields = {
  name: z.string().trim().min(1).max(200),
  discoveryUrl: nullableUrl,
  issuer: z.string().max(2000).nullable(),
  authorizationEndpoint: nullableUrl,
  tokenEndpoint: nullableUrl,
  revocationEndpoint: nullableUrl,
  userinfoEndpoint: nullableUrl,
  introspectionEndpoint: nullableUrl,
  jwksUri: nullableUrl,
  clientId: z.string().min(1).max(2000).nullable(),
  clientSecret: z.string().min(1).max(4000).nullable(),
  scopes: z.array(scope).max(100),
  extraParams,
  tokenEndpointAuthMethod,
  pkce: pkceMode,
  apiBaseUrl: nullableUrl,
  scopeSeparator: z.string().min(1).max(3),
  tokenResponsePath: z
    .string()
    .regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, "a dot path such as authed_user")
    .max(200)
    .nullable(),
  defaultExpiresIn: z.number().int().positive().max(10 * 365 * 86400).nullable(),
  tokenRequestFormat,
};

export const createAppBody = z
  .strictObject({
    id: appId.optional(),
    template: z.string().min(1).max(64).optional(),
    templateParams: z.record(z.string(), z.string().max(500)).optional(),
    ...Object.fromEntries(Object.entries(appFields).map(([k, v]) => [k, v.optional()])),
  } as { id: z.ZodOptional<typeof appId>; template: z.ZodOptional<z.ZodString>; templateParams: z.ZodOptional<z.ZodRecord<z.ZodString, z.ZodString>> } & { [K in keyof typeof appFields]: z.ZodOptional<(typeof appFields)[K]> });

export const patchAppBody = z.strictObject(
  Object.fromEntries(Object.entries(appFields).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof appFields]: z.ZodOptional<(typeof appFields)[K]>;
  },
);

export type CreateAppBody = z.infer<typeof createAppBody>;
export type PatchAppBody = z.infer<typeof patchAppBody>;

export const appResource = z.object({
  id: z.string(),
  name: z.string(),
  template: z.string().nullable(),
  discoveryUrl: z.string().nullable(),
  issuer: z.string().nullable(),
  authorizationEndpoint: z.string().nullable(),
  tokenEndpoint: z.string().nullable(),
  revocationEndpoint: z.string().nullable(),
  userinfoEndpoint: z.string().nullable(),
  introspectionEndpoint: z.string().nullable(),
  jwksUri: z.string().nullable(),
  clientId: z.string().nullable(),
  hasClientSecret: z.boolean(),
  scopes: z.array(z.string()),
  extraParams: z.record(z.string(), z.string()),
  tokenEndpointAuthMethod,
  pkce: pkceMode,
  apiBaseUrl: z.string().nullable(),
  scopeSeparator: z.string(),
  tokenResponsePath: z.string().nullable(),
  defaultExpiresIn: z.number().nullable(),
  tokenRequestFormat,
  redirectUri: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type AppResource = z.infer<typeof appResource>;
