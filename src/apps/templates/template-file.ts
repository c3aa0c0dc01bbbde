// The provider template data files (`<id>.json` beside this file) and their schema. Adding a
// provider is adding a file: no code here or elsewhere is keyed on a provider's name.
import { readdirSync, readFileSync } from "node:fs";
import { z } from "zod";
import { appFields } from "../app-schema.ts";
import { fillPlaceholders, PARAM_KINDS, placeholdersIn, SAMPLE_VALUES, type TemplateParam } from "./template-params.ts";

/** The App fields a template may preset: everything but the name and the client credentials. */
const { name: _name, clientId: _clientId, clientSecret: _clientSecret, ...presettable } = appFields;
export const templateDefaults = z.strictObject(
  Object.fromEntries(Object.entries(presettable).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof presettable]: z.ZodOptional<(typeof presettable)[K]>;
  },
);
export type TemplateDefaults = z.infer<typeof templateDefaults>;

const templateParam = z.strictObject({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
  kind: z.enum(PARAM_KINDS),
  default: z.string().min(1).optional(),
  description: z.string().min(1),
});

// URL fields hold {placeholders} here, so the file's defaults are checked against
// `templateDefaults` once filled with sample values, and again when a template is applied.
const templateFile = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]{1,64}$/),
  name: z.string().min(1).max(200),
  docsUrl: z.url({ protocol: /^https$/ }),
  params: z.array(templateParam),
  defaults: z.record(z.string(), z.unknown()),
});

export interface Template {
  id: string;
  name: string;
  docsUrl: string;
  params: TemplateParam[];
  /** App fields with {param} placeholders still in them. */
  defaults: Record<string, unknown>;
}

function parseTemplateFile(file: string, text: string): Template {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`template ${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = templateFile.safeParse(doc);
  if (!parsed.success) throw new Error(`template ${file}: ${z.prettifyError(parsed.error)}`);
  const t = parsed.data;
  if (`${t.id}.json` !== file) throw new Error(`template ${file}: id "${t.id}" must match the file name`);
  for (const name of placeholdersIn(t.defaults)) {
    if (!t.params.some((p) => p.name === name)) throw new Error(`template ${file}: {${name}} is not one of its params`);
  }
  const sample = fillPlaceholders(t.defaults, Object.fromEntries(t.params.map((p) => [p.name, p.default ?? SAMPLE_VALUES[p.kind]])));
  const checked = templateDefaults.safeParse(sample);
  if (!checked.success) throw new Error(`template ${file}: ${z.prettifyError(checked.error)}`);
  return { id: t.id, name: t.name, docsUrl: t.docsUrl, params: t.params, defaults: t.defaults };
}

/** Reads every template file in this folder, sorted by id. A broken file stops the start. */
export function loadTemplates(dir: URL = new URL(".", import.meta.url)): Template[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => parseTemplateFile(f, readFileSync(new URL(f, dir), "utf8")));
}
