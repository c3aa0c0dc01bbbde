// Responses are written by fast-json-stringify, compiled once per route from the JSON Schema of
// the route's zod response schema: the same schema that /openapi.json publishes.
//
// Why not the zod type provider's serializer: it runs a full zod parse of every answer, which
// was the largest cost left on GET /api/v1/apps/{id} (profiled: ~15%); a compiled stringifier
// writes the same JSON in a fraction of that. It keeps the property that matters for secrets:
// only the properties the schema declares are ever written, so a field added to a record by
// mistake cannot leak into an answer. A schema with no JSON Schema form keeps the zod serializer.
// The difference from zod: a value that breaks its schema is coerced (null to "", say) instead
// of failing the answer with a 500. Answers are built by our code from typed records; one run of
// the whole test suite with both serializers compared on every answer found no difference.
import fastJson from "fast-json-stringify";
import { serializerCompiler as zodSerializerCompiler } from "fastify-type-provider-zod";
import { z } from "zod";

type SerializerCompiler = Parameters<typeof zodSerializerCompiler>[0];

export function responseSerializerCompiler(route: SerializerCompiler): (data: unknown) => string {
  const schema = route.schema instanceof z.ZodType ? route.schema : undefined;
  if (!schema) return zodSerializerCompiler(route);
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: "output", target: "draft-7", unrepresentable: "throw" }) as Record<string, unknown>;
  } catch {
    return zodSerializerCompiler(route);
  }
  delete jsonSchema.$schema;
  return fastJson(jsonSchema);
}
