// Connected Apps: create from a body (optionally a template and discovery), patch, delete.
import type { Context } from "../context.ts";
import { openOptionalWithReload } from "../crypto/keyring-reload.ts";
import { seal } from "../crypto/seal.ts";
import { discoverProvider } from "../discovery/discover.ts";
import { AppError } from "../errors/problem.ts";
import { APP_ID, type AppResource, type CreateAppBody, type PatchAppBody } from "./app-schema.ts";
import { AppStore, blankApp, type App, type TokenEndpointAuthMethod } from "./app-store.ts";
import { slugFromName } from "./slug.ts";
import { applyTemplate } from "./templates/index.ts";

export function redirectUriFor(publicUrl: string, appId: string): string {
  return `${publicUrl}/oauth/callback/${appId}`;
}

// Apps from the read cache are frozen and shared, so their resource can be too (it is the
// whole answer of GET /apps/{id}: two ISO dates and two dozen fields, once per change).
const resources = new WeakMap<App, { publicUrl: string; resource: AppResource }>();

export function toAppResource(app: App, publicUrl: string): AppResource {
  if (!Object.isFrozen(app)) return buildAppResource(app, publicUrl);
  const known = resources.get(app);
  if (known?.publicUrl === publicUrl) return known.resource;
  const resource = buildAppResource(app, publicUrl);
  resources.set(app, { publicUrl, resource });
  return resource;
}

function buildAppResource(app: App, publicUrl: string): AppResource {
  return {
    id: app.id,
    name: app.name,
    template: app.template,
    discoveryUrl: app.discoveryUrl,
    issuer: app.issuer,
    authorizationEndpoint: app.authorizationEndpoint,
    tokenEndpoint: app.tokenEndpoint,
    revocationEndpoint: app.revocationEndpoint,
    userinfoEndpoint: app.userinfoEndpoint,
    introspectionEndpoint: app.introspectionEndpoint,
    jwksUri: app.jwksUri,
    clientId: app.clientId,
    hasClientSecret: app.clientSecretSealed !== null,
    scopes: app.scopes,
    extraParams: app.extraParams,
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
    pkce: app.pkce,
    apiBaseUrl: app.apiBaseUrl,
    scopeSeparator: app.scopeSeparator,
    tokenResponsePath: app.tokenResponsePath,
    defaultExpiresIn: app.defaultExpiresIn,
    tokenRequestFormat: app.tokenRequestFormat,
    redirectUri: redirectUriFor(publicUrl, app.id),
    createdAt: new Date(app.createdAt).toISOString(),
    updatedAt: new Date(app.updatedAt).toISOString(),
  };
}

export function clientSecretBinding(appId: string) {
  return { table: "apps", id: appId, field: "client_secret" } as const;
}

/** Opened with the ring of the moment, reloaded once for a key another process just added. */
export function openClientSecret(ctx: Pick<Context, "keyring" | "config" | "log">, app: App): string | null {
  return openOptionalWithReload(ctx, app.clientSecretSealed, clientSecretBinding(app.id));
}

/** The app, from the read cache when the context has one (a frozen object: copy to change it). */
export async function getApp(ctx: Pick<Context, "db" | "caches">, id: string): Promise<App> {
  if (!ctx.caches) return getStoredApp(ctx, id);
  const app = APP_ID.test(id) ? await ctx.caches.apps.read(id, () => new AppStore(ctx.db).get(id)) : undefined;
  if (!app) throw new AppError("not_found", `no app with id "${id}"`);
  return app;
}

/** The app as stored right now, for a read-modify-write. */
async function getStoredApp(ctx: Pick<Context, "db">, id: string): Promise<App> {
  const app = APP_ID.test(id) ? await new AppStore(ctx.db).get(id) : undefined;
  if (!app) throw new AppError("not_found", `no app with id "${id}"`);
  return app;
}

export async function listApps(ctx: Pick<Context, "db">): Promise<App[]> {
  return new AppStore(ctx.db).list();
}

// SPEC §4: "none" without a client secret, otherwise client_secret_basic unless discovery
// lists only client_secret_post.
function defaultAuthMethod(hasSecret: boolean, supported: string[] | null): TokenEndpointAuthMethod {
  if (!hasSecret) return "none";
  if (supported && supported.includes("client_secret_post") && !supported.includes("client_secret_basic")) {
    return "client_secret_post";
  }
  return "client_secret_basic";
}

type AppFieldsBody = Omit<CreateAppBody, "id" | "template" | "templateParams">;

/** Fills endpoints the body left empty from the discovery document, and records its capabilities. */
async function withDiscovery(ctx: Pick<Context, "fetch" | "config">, app: App, body: AppFieldsBody): Promise<App> {
  if (!app.discoveryUrl) return app;
  const wantsEndpoints = !app.authorizationEndpoint || !app.tokenEndpoint;
  const discoveryChanged = body.discoveryUrl !== undefined;
  if (!wantsEndpoints && !discoveryChanged) return app;
  const m = await discoverProvider(ctx, app.discoveryUrl);
  const pick = <K extends keyof AppFieldsBody>(field: K, current: string | null, found: string | null) =>
    body[field] !== undefined ? current : (found ?? current);
  return {
    ...app,
    issuer: pick("issuer", app.issuer, m.issuer),
    authorizationEndpoint: pick("authorizationEndpoint", app.authorizationEndpoint, m.authorizationEndpoint),
    tokenEndpoint: pick("tokenEndpoint", app.tokenEndpoint, m.tokenEndpoint),
    revocationEndpoint: pick("revocationEndpoint", app.revocationEndpoint, m.revocationEndpoint),
    userinfoEndpoint: pick("userinfoEndpoint", app.userinfoEndpoint, m.userinfoEndpoint),
    introspectionEndpoint: pick("introspectionEndpoint", app.introspectionEndpoint, m.introspectionEndpoint),
    jwksUri: pick("jwksUri", app.jwksUri, m.jwksUri),
    scopes: body.scopes === undefined && app.scopes.length === 0 && m.scopesSupported?.includes("openid") ? ["openid"] : app.scopes,
    codeChallengeMethodsSupported: m.codeChallengeMethodsSupported,
    issParameterSupported: m.authorizationResponseIssParameterSupported,
    tokenEndpointAuthMethodsSupported: m.tokenEndpointAuthMethodsSupported,
  };
}

function applyFields(app: App, body: AppFieldsBody): App {
  const next: App = { ...app };
  const assign = <K extends keyof AppFieldsBody & keyof App>(k: K) => {
    const v = body[k];
    if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  };
  for (const k of [
    "name",
    "discoveryUrl",
    "issuer",
    "authorizationEndpoint",
    "tokenEndpoint",
    "revocationEndpoint",
    "userinfoEndpoint",
    "introspectionEndpoint",
    "jwksUri",
    "clientId",
    "scopes",
    "extraParams",
    "tokenEndpointAuthMethod",
    "pkce",
    "apiBaseUrl",
    "scopeSeparator",
    "tokenResponsePath",
    "defaultExpiresIn",
    "tokenRequestFormat",
  ] as const) {
    assign(k);
  }
  return next;
}

function settleAuthMethod(app: App, body: AppFieldsBody): App {
  if (body.tokenEndpointAuthMethod !== undefined) return app;
  const hasSecret = app.clientSecretSealed !== null;
  // Keep an explicit choice that still fits; re-derive when the secret came or went.
  const fits = hasSecret ? app.tokenEndpointAuthMethod !== "none" : app.tokenEndpointAuthMethod === "none";
  return fits ? app : { ...app, tokenEndpointAuthMethod: defaultAuthMethod(hasSecret, app.tokenEndpointAuthMethodsSupported) };
}

export async function createApp(ctx: Pick<Context, "db" | "clock" | "keyring" | "fetch" | "config">, input: CreateAppBody): Promise<App> {
  const { id: requestedId, template, templateParams, ...fields } = input;
  const fromTemplate = template ? applyTemplate(template, templateParams ?? {}) : {};
  if (!template && templateParams) throw new AppError("invalid_request", "templateParams: given without template");
  const body: AppFieldsBody = { ...fromTemplate, ...fields };
  if (!body.name) throw new AppError("invalid_request", "name: required");
  const id = requestedId ?? slugFromName(body.name);
  if (!APP_ID.test(id)) {
    throw new AppError("invalid_request", `id: "${id}" is not a valid app id (a-z, 0-9 and -, at most 64); choose one with "id"`);
  }
  const now = ctx.clock.now();
  let app: App = applyFields({ ...blankApp(id, body.name, now), template: template ?? null }, body);
  if (body.clientSecret) app.clientSecretSealed = seal(ctx.keyring, body.clientSecret, clientSecretBinding(id));
  // Only the caller's own fields count as explicit: a template's discoveryUrl is not fetched at
  // create (its endpoints are already set), and its auth method re-derives without a secret.
  app = settleAuthMethod(await withDiscovery(ctx, app, fields), fields);
  if (!(await new AppStore(ctx.db).insert(app))) throw new AppError("conflict", `an app with id "${id}" exists`);
  return app;
}

export async function updateApp(
  ctx: Pick<Context, "db" | "clock" | "keyring" | "fetch" | "config">,
  id: string,
  body: PatchAppBody,
): Promise<App> {
  const current = await getStoredApp(ctx, id);
  let app = applyFields(current, body);
  if (body.clientSecret !== undefined) {
    app.clientSecretSealed = body.clientSecret === null ? null : seal(ctx.keyring, body.clientSecret, clientSecretBinding(id));
  }
  app = settleAuthMethod(await withDiscovery(ctx, app, body), body);
  app.updatedAt = ctx.clock.now();
  await new AppStore(ctx.db).replace(app);
  return app;
}

/** Removes the app row. Connection revocation at the provider happens in connections/ before this. */
export async function deleteAppRow(ctx: Pick<Context, "db">, id: string): Promise<void> {
  if (!(await new AppStore(ctx.db).delete(id))) throw new AppError("not_found", `no app with id "${id}"`);
}
