/**
 * JSON Schema validation on Ajv (draft 2020-12, with ajv-formats): what evaluation suites'
 * `json_schema` scorer, a cascade's `escalateWhen.jsonSchema` and the gateway's JSON validity
 * feature check answers with. A schema is compiled once and kept, keyed by its canonical form
 * (object key order does not matter), in a bounded cache.
 *
 * Ajv runs in strict mode: an unknown keyword or format makes the schema refused (by
 * `schemaProblems`) rather than silently half-checked. `discriminator` (Pydantic's tagged unions)
 * is taken as an annotation: the `oneOf` beside it does the checking.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

type Schema = Record<string, unknown>;

/** Schemas kept compiled (a schema that does not compile is kept too, with its problem). */
export const SCHEMA_CACHE_SIZE = 256;

// ajv-formats is CommonJS: its default export is the plugin function or a namespace holding it.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

function makeAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addKeyword({ keyword: "discriminator", schemaType: "object" });
  return ajv;
}

let ajv: Ajv2020 | undefined;
type Compiled = { validate: ValidateFunction } | { problem: string };
const cache = new Map<string, Compiled>();
let compiles = 0;

/** How many schemas are kept compiled and how many compilations ran since the process started. */
export function schemaCacheStats(): { entries: number; compiles: number } {
  return { entries: cache.size, compiles };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Canonical JSON (object keys sorted): the cache key, and how enum values are shown. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v) ?? "null";
}

function compile(schema: Schema): Compiled {
  ajv ??= makeAjv();
  compiles++;
  try {
    // Checked against the meta-schema first so the problem names the schema's own path.
    if (!ajv.validateSchema(schema))
      return { problem: ajv.errorsText(ajv.errors, { dataVar: "schema", separator: "; " }) };
    return { validate: ajv.compile(schema) };
  } catch (e) {
    const message = (e as Error).message.replace(/^strict mode: /, "");
    const draft = typeof schema.$schema === "string" && !/2020-12/.test(schema.$schema);
    return { problem: draft ? `schema.$schema: only draft 2020-12 is supported (${message})` : message };
  } finally {
    // Ajv keeps what it compiled by object and by $id; the cache here is the only one kept, so
    // memory stays bounded and two schemas may share an $id.
    ajv.removeSchema(schema);
  }
}

/** The compiled schema (or why it does not compile), from the cache when seen before. */
function compiled(schema: unknown): Compiled {
  if (!isObject(schema)) return { problem: "a schema is an object" };
  const key = canon(schema);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // re-inserted below: most recently used last
    cache.set(key, hit);
    return hit;
  }
  const c = compile(schema);
  cache.set(key, c);
  if (cache.size > SCHEMA_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return c;
}

/** Why the schema does not compile (an unknown keyword or format, a malformed value), or nothing. */
export function schemaProblems(schema: unknown): string[] {
  const c = compiled(schema);
  return "problem" in c ? [c.problem] : [];
}

/**
 * Whether the schema has a `pattern` or `patternProperties` anywhere: a regular expression from
 * whoever wrote it, which can backtrack for seconds on a crafted value. Suites and routes are
 * written by their users; a schema a gateway client sends with a request is only checked without
 * them (derive.ts).
 */
export function hasPatterns(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.some(hasPatterns);
  if (!isObject(schema)) return false;
  return Object.entries(schema).some(
    ([k, v]) => ((k === "pattern" || k === "patternProperties") && typeof v !== "boolean") || hasPatterns(v),
  );
}

/** One failure: the JSON pointer of the value (`(root)` for the whole document) and what is wrong. */
function describe(e: ErrorObject): string {
  const at = e.instancePath === "" ? "(root)" : e.instancePath;
  let detail = "";
  const p = e.params as Record<string, unknown>;
  if (e.keyword === "additionalProperties") detail = `: ${JSON.stringify(p.additionalProperty)}`;
  else if (e.keyword === "unevaluatedProperties") detail = `: ${JSON.stringify(p.unevaluatedProperty)}`;
  else if (e.keyword === "enum" && Array.isArray(p.allowedValues))
    detail = `: ${p.allowedValues.map(canon).join(", ")}`;
  else if (e.keyword === "const") detail = ` ${canon(p.allowedValue)}`;
  return `${at}: ${e.message ?? e.keyword}${detail}`;
}

/**
 * Validates `value` against `schema`. Returns the failures, each "pointer: message" (`/items/2/price:
 * must be number`); empty when valid. Throws RangeError when the schema does not compile (check
 * with {@link schemaProblems} first).
 */
export function validateJson(value: unknown, schema: Schema): string[] {
  const c = compiled(schema);
  if ("problem" in c) throw new RangeError(`invalid JSON Schema: ${c.problem}`);
  return c.validate(value) ? [] : (c.validate.errors ?? []).map(describe);
}
