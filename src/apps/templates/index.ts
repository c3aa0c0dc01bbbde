// Built-in provider templates (SPEC §4): list them, and turn one plus its parameters into the
// App fields it presets. createApp merges these under the request body, so body fields win.
import { AppError } from "../../errors/problem.ts";
import type { CreateAppBody } from "../app-schema.ts";
import { loadTemplates, templateDefaults, type Template } from "./template-file.ts";
import { fillPlaceholders, resolveParams } from "./template-params.ts";

export interface TemplateSummary {
  id: string;
  name: string;
  docsUrl: string;
  params: string[];
  defaults: Record<string, unknown>;
}

const templates: ReadonlyMap<string, Template> = new Map(loadTemplates().map((t) => [t.id, t]));

export function listTemplates(): TemplateSummary[] {
  return [...templates.values()].map((t) => ({
    id: t.id,
    name: t.name,
    docsUrl: t.docsUrl,
    params: t.params.map((p) => p.name),
    defaults: { name: t.name, ...t.defaults },
  }));
}

/** The app fields a template gives for these parameters; fields in the request body win over them. */
export function applyTemplate(id: string, params: Record<string, string>): Partial<CreateAppBody> {
  const template = templates.get(id);
  if (!template) {
    throw new AppError("invalid_request", `template: unknown template "${id}" (GET /api/v1/templates lists them)`);
  }
  const filled = fillPlaceholders(template.defaults, resolveParams(id, template.params, params));
  // The parameter checks keep values out of URL hosts; this catches anything they let through.
  const checked = templateDefaults.safeParse(filled);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new AppError("invalid_request", `templateParams: template "${id}" gives an invalid ${issue.path.join(".")} with these parameters (${issue.message})`);
  }
  return { name: template.name, ...checked.data };
}
