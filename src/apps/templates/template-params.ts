// Template parameters: what kinds of value a template may take and how each is checked before
// it is written into a URL. A value can never change which host a template's URLs point at
// unless the parameter is itself a base URL the admin chose (a self-hosted GitLab or Keycloak).
import { AppError } from "../../errors/problem.ts";

export const PARAM_KINDS = ["subdomain", "hostname", "pathSegment", "baseUrl"] as const;
export type ParamKind = (typeof PARAM_KINDS)[number];

/** A valid value of each kind, to check a template file's URLs at load time. */
export const SAMPLE_VALUES: Record<ParamKind, string> = {
  subdomain: "example",
  hostname: "login.example.com",
  pathSegment: "example",
  baseUrl: "https://example.com",
};

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

function checkValue(kind: ParamKind, value: string): string | { error: string } {
  switch (kind) {
    case "subdomain":
      return LABEL.test(value) ? value : { error: "must be one DNS label: letters, digits and -" };
    case "hostname":
      return value.length <= 253 && value.split(".").every((l) => LABEL.test(l))
        ? value.toLowerCase()
        : { error: "must be a host name such as login.example.com (letters, digits, - and .)" };
    case "pathSegment":
      return /^[A-Za-z0-9._~-]{1,200}$/.test(value) && value !== "." && value !== ".."
        ? value
        : { error: "must be one URL path segment: letters, digits, . _ ~ -" };
    case "baseUrl": {
      const url = URL.canParse(value) ? new URL(value) : undefined;
      if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return { error: "must be an http(s) URL" };
      if (url.username || url.password || url.search || url.hash) return { error: "must be a plain http(s) URL without credentials, query or fragment" };
      // Templates append paths ("{baseUrl}/oauth/token"), so no trailing slash.
      return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    }
  }
}

export interface TemplateParam {
  name: string;
  kind: ParamKind;
  default?: string | undefined;
  description: string;
}

/** Checks the caller's parameters against the template's and returns every value to fill in. */
export function resolveParams(templateId: string, declared: readonly TemplateParam[], given: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(given)) {
    if (!declared.some((p) => p.name === name)) {
      const takes = declared.length ? declared.map((p) => `"${p.name}"`).join(", ") : "none";
      throw new AppError("invalid_request", `templateParams.${name}: unknown parameter of template "${templateId}" (it takes ${takes})`);
    }
  }
  const values: Record<string, string> = {};
  for (const param of declared) {
    const raw = given[param.name] ?? param.default;
    if (raw === undefined || raw === "") {
      throw new AppError("invalid_request", `templateParams.${param.name}: required by template "${templateId}" (${param.description})`);
    }
    const checked = checkValue(param.kind, raw);
    if (typeof checked !== "string") throw new AppError("invalid_request", `templateParams.${param.name}: ${checked.error}`);
    values[param.name] = checked;
  }
  return values;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** The names of the {placeholders} in every string of a value. */
export function placeholdersIn(value: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === "string") for (const m of v.matchAll(PLACEHOLDER)) found.add(m[1]!);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return found;
}

/** A deep copy of `value` with each {name} replaced by its parameter value. */
export function fillPlaceholders<T>(value: T, values: Record<string, string>): T {
  const fill = (v: unknown): unknown => {
    if (typeof v === "string") return v.replace(PLACEHOLDER, (whole, name: string) => values[name] ?? whole);
    if (Array.isArray(v)) return v.map(fill);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]));
    return v;
  };
  return fill(value) as T;
}
