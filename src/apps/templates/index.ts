// Built-in provider templates. Placeholder until the templates work lands.
import { AppError } from "../../errors/problem.ts";
import type { CreateAppBody } from "../app-schema.ts";

export interface TemplateSummary {
  id: string;
  name: string;
  docsUrl: string;
  params: string[];
  defaults: Record<string, unknown>;
}

export function listTemplates(): TemplateSummary[] {
  return [];
}

/** The app fields a template gives for these parameters; fields in the request body win over them. */
export function applyTemplate(id: string, _params: Record<string, string>): Partial<CreateAppBody> {
  throw new AppError("invalid_request", `template: unknown template "${id}"`);
}
