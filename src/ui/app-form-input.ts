// The Connected App form as data: the text of each input, read from an App or a posted form,
// turned into the API's create/patch body (validated by the same zod schemas as the JSON API),
// and errors (zod issues, AppError details "field: message") put beside the field they name.
import type { z } from "zod";
import { createAppBody, patchAppBody, type CreateAppBody, type PatchAppBody } from "../apps/app-schema.ts";
import type { App } from "../apps/app-store.ts";
import { applyTemplate } from "../apps/templates/index.ts";
import { AppError } from "../errors/problem.ts";

/** Inputs holding one text value each, in the order the page shows them. */
export const TEXT_FIELDS = [
  "name",
  "discoveryUrl",
  "authorizationEndpoint",
  "tokenEndpoint",
  "revocationEndpoint",
  "userinfoEndpoint",
  "clientId",
  "scopes",
  "extraParams",
  "apiBaseUrl",
  "issuer",
  "jwksUri",
  "introspectionEndpoint",
  "tokenEndpointAuthMethod",
  "pkce",
  "scopeSeparator",
  "tokenResponsePath",
  "defaultExpiresIn",
  "tokenRequestFormat",
] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

export type FormValues = Record<TextField, string> & {
  template: string;
  templateParams: Record<string, string>;
};

export type FieldErrors = Partial<Record<TextField | "clientSecret" | "template" | "form", string>>;

export function emptyValues(): FormValues {
  const values = Object.fromEntries(TEXT_FIELDS.map((f) => [f, ""])) as Record<TextField, string>;
  return { ...values, pkce: "auto", scopeSeparator: " ", tokenRequestFormat: "form", template: "", templateParams: {} };
}

export function valuesFromApp(app: App): FormValues {
  return {
    name: app.name,
    discoveryUrl: app.discoveryUrl ?? "",
    authorizationEndpoint: app.authorizationEndpoint ?? "",
    tokenEndpoint: app.tokenEndpoint ?? "",
    revocationEndpoint: app.revocationEndpoint ?? "",
    userinfoEndpoint: app.userinfoEndpoint ?? "",
    clientId: app.clientId ?? "",
    scopes: app.scopes.join(" "),
    extraParams: Object.entries(app.extraParams).map(([k, v]) => `${k}=${v}`).join("\n"),
    apiBaseUrl: app.apiBaseUrl ?? "",
    issuer: app.issuer ?? "",
    jwksUri: app.jwksUri ?? "",
    introspectionEndpoint: app.introspectionEndpoint ?? "",
    tokenEndpointAuthMethod: app.tokenEndpointAuthMethod,
    pkce: app.pkce,
    scopeSeparator: app.scopeSeparator,
    tokenResponsePath: app.tokenResponsePath ?? "",
    defaultExpiresIn: app.defaultExpiresIn === null ? "" : String(app.defaultExpiresIn),
    tokenRequestFormat: app.tokenRequestFormat,
    template: app.template ?? "",
    templateParams: {},
  };
}

export interface PostedForm {
  values: FormValues;
  /** The typed secret; never rendered back into a page. */
  clientSecret: string;
  clearClientSecret: boolean;
}

export function readPostedForm(body: unknown): PostedForm {
  const form = body && typeof body === "object" ? (body as Record<string, unknown>) : {};
  const str = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");
  const values = emptyValues();
  for (const f of TEXT_FIELDS) values[f] = f === "scopeSeparator" ? str(f) || " " : str(f).trim();
  values.template = str("template").trim();
  for (const [k, v] of Object.entries(form)) {
    if (k.startsWith("templateParam.") && typeof v === "string" && v.trim() !== "") values.templateParams[k.slice("templateParam.".length)] = v.trim();
  }
  return { values, clientSecret: str("clientSecret"), clearClientSecret: str("clearClientSecret") === "on" };
}

/** "key=value" lines; a line without "=" is named in the error. */
function parseExtraParams(text: string): Record<string, string> | { error: string } {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  for (const [i, line] of lines.entries()) {
    const eq = line.indexOf("=");
    if (eq <= 0) return { error: `Line ${i + 1} ("${line.slice(0, 40)}") is not key=value.` };
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}

/** The body fields the form describes; blank inputs are absent (create) so a template or discovery can fill them. */
function fieldsFromValues(v: FormValues, errors: FieldErrors): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (k: string, value: string) => {
    if (value !== "") out[k] = value;
  };
  for (const k of ["name", "discoveryUrl", "authorizationEndpoint", "tokenEndpoint", "revocationEndpoint", "userinfoEndpoint", "clientId", "apiBaseUrl", "issuer", "jwksUri", "introspectionEndpoint", "tokenEndpointAuthMethod", "pkce", "tokenResponsePath", "tokenRequestFormat"] as const) {
    set(k, v[k]);
  }
  if (v.scopes !== "") out.scopes = v.scopes.split(/\s+/).filter(Boolean);
  if (v.extraParams !== "") {
    const parsed = parseExtraParams(v.extraParams);
    if ("error" in parsed) errors.extraParams = parsed.error;
    else out.extraParams = parsed;
  }
  if (v.scopeSeparator !== "") out.scopeSeparator = v.scopeSeparator;
  if (v.defaultExpiresIn !== "") {
    const n = Number(v.defaultExpiresIn);
    if (Number.isInteger(n)) out.defaultExpiresIn = n;
    else errors.defaultExpiresIn = "Must be a whole number of seconds.";
  }
  return out;
}

const FIELD_ALIASES: Record<string, keyof FieldErrors> = { id: "name", templateParams: "template" };

/** The form field an issue path or a "field: message" detail names; "form" when none. */
export function fieldOf(key: string | undefined): keyof FieldErrors {
  if (key === undefined) return "form";
  if (key in FIELD_ALIASES) return FIELD_ALIASES[key]!;
  const base = key.split(".")[0]!;
  if (base in FIELD_ALIASES) return FIELD_ALIASES[base]!;
  return (TEXT_FIELDS as readonly string[]).includes(base) || base === "clientSecret" || base === "template" ? (base as keyof FieldErrors) : "form";
}

function issuesToErrors(error: z.ZodError, errors: FieldErrors): void {
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      errors.form ??= `Unknown fields: ${issue.keys.join(", ")}.`;
      continue;
    }
    const field = fieldOf(issue.path[0] === undefined ? undefined : String(issue.path[0]));
    const where = issue.path.length > 1 ? `${issue.path.slice(1).join(".")}: ` : "";
    errors[field] ??= `${where}${issue.message}`;
  }
}

export type BodyResult<T> = { ok: true; body: T } | { ok: false; errors: FieldErrors };

export function createBodyFrom(posted: PostedForm): BodyResult<CreateAppBody> {
  const errors: FieldErrors = {};
  const fields = fieldsFromValues(posted.values, errors);
  if (posted.clientSecret !== "") fields.clientSecret = posted.clientSecret;
  if (posted.values.template !== "") {
    fields.template = posted.values.template;
    if (Object.keys(posted.values.templateParams).length) fields.templateParams = posted.values.templateParams;
    // What the picker filled in and the admin left alone stays the template's, not an explicit
    // field: createApp then neither fetches the template's discovery URL nor pins its auth method.
    try {
      const given = applyTemplate(posted.values.template, posted.values.templateParams) as Record<string, unknown>;
      for (const [k, v] of Object.entries(given)) {
        if (k in fields && JSON.stringify(fields[k]) === JSON.stringify(v)) delete fields[k];
      }
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      errors.template = err.detail;
    }
  }
  if (!fields.name && !fields.template) errors.name = "Give the app a name.";
  const parsed = createAppBody.safeParse(fields);
  if (!parsed.success) issuesToErrors(parsed.error, errors);
  if (Object.keys(errors).length || !parsed.success) return { ok: false, errors };
  return { ok: true, body: parsed.data };
}

/** Only what changed against the stored app, so a save does not re-run discovery needlessly. */
export function patchBodyFrom(posted: PostedForm, current: App): BodyResult<PatchAppBody> {
  const errors: FieldErrors = {};
  const before = valuesFromApp(current);
  const wanted = fieldsFromValues(posted.values, errors);
  const patch: Record<string, unknown> = {};
  for (const f of TEXT_FIELDS) {
    if (posted.values[f] === before[f]) continue;
    if (f === "tokenEndpointAuthMethod" && posted.values[f] === "") continue;
    patch[f] = f in wanted ? wanted[f] : f === "name" ? "" : f === "scopes" ? [] : f === "extraParams" ? {} : f === "scopeSeparator" ? " " : null;
  }
  if (posted.clearClientSecret) patch.clientSecret = null;
  else if (posted.clientSecret !== "") patch.clientSecret = posted.clientSecret;
  const parsed = patchAppBody.safeParse(patch);
  if (!parsed.success) issuesToErrors(parsed.error, errors);
  if (Object.keys(errors).length || !parsed.success) return { ok: false, errors };
  return { ok: true, body: parsed.data };
}
