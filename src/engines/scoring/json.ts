/** JSON scorers: json_valid and json_schema. */
import { schemaProblems, validateJson } from "./json-schema.ts";
import { fail, field, type JsonConfig, type JsonSchemaConfig, pass, type ScorerDef } from "./types.ts";

const FENCE = /^```[A-Za-z0-9_-]*\s*\n([\s\S]*?)\n?```$/;

/** Parses the output as JSON, accepting one surrounding Markdown fence unless stripFences is false. */
export function parseJsonOutput(
  text: string,
  config: JsonConfig,
): { ok: true; value: unknown } | { ok: false; error: string } {
  let body = text.trim();
  const fenced = FENCE.exec(body);
  if (fenced && config.stripFences !== false) body = fenced[1]!;
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

export const jsonValid: ScorerDef<JsonConfig> = {
  checkExpect: () => undefined,
  score(output, _expect, config) {
    const r = parseJsonOutput(output.text, config);
    return r.ok ? pass("output is valid JSON") : fail(`output is not valid JSON: ${r.error}`);
  },
};

function schemaOf(expect: unknown, config: JsonSchemaConfig): unknown {
  return field(expect, "schema") ?? config.schema;
}

function checkSchema(expect: unknown, config: JsonSchemaConfig): string | undefined {
  const schema = schemaOf(expect, config);
  if (schema === undefined) return "json_schema needs expect.schema or a schema in the scorer config";
  const problems = schemaProblems(schema);
  return problems.length > 0 ? problems.join("; ") : undefined;
}

export const jsonSchema: ScorerDef<JsonSchemaConfig> = {
  checkExpect: checkSchema,
  score(output, expect, config) {
    const problem = checkSchema(expect, config);
    if (problem) return fail(`invalid expectation: ${problem}`);
    const r = parseJsonOutput(output.text, config);
    if (!r.ok) return fail(`output is not valid JSON: ${r.error}`);
    const errors = validateJson(r.value, schemaOf(expect, config) as Record<string, unknown>);
    if (errors.length === 0) return pass("output matches the schema");
    const more = errors.length > 3 ? ` (and ${errors.length - 3} more)` : "";
    return fail(`schema mismatch: ${errors.slice(0, 3).join("; ")}${more}`);
  },
};
