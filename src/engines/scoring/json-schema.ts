/**
 * A small JSON Schema validator for the subset suites use: type, properties, required, items,
 * enum, const, minimum/maximum, minLength/maxLength, minItems/maxItems, additionalProperties.
 * Written here rather than added as a dependency; keywords outside the subset are reported by
 * `schemaProblems` so a schema is never silently half-checked.
 */

const SUPPORTED = new Set([
  "type",
  "properties",
  "required",
  "items",
  "enum",
  "const",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "additionalProperties",
]);
/** Annotations that do not constrain anything. */
const IGNORED = new Set(["$schema", "$id", "title", "description", "default", "examples", "$comment"]);
const TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);

type Schema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems with the schema itself (unsupported keywords, malformed values), each with its schema path. */
export function schemaProblems(schema: unknown, at = "schema"): string[] {
  if (!isObject(schema)) return [`${at}: a schema is an object`];
  const out: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (IGNORED.has(key)) continue;
    if (!SUPPORTED.has(key)) {
      out.push(`${at}.${key}: keyword not supported (supported: ${[...SUPPORTED].join(", ")})`);
      continue;
    }
    if (key === "type") {
      const types = Array.isArray(value) ? value : [value];
      for (const t of types)
        if (!TYPES.has(t as string)) out.push(`${at}.type: unknown type ${JSON.stringify(t)}`);
    } else if (key === "properties") {
      if (!isObject(value)) out.push(`${at}.properties: must be an object`);
      else
        for (const [p, s] of Object.entries(value)) out.push(...schemaProblems(s, `${at}.properties.${p}`));
    } else if (key === "items") out.push(...schemaProblems(value, `${at}.items`));
    else if (key === "additionalProperties") {
      if (typeof value !== "boolean") out.push(...schemaProblems(value, `${at}.additionalProperties`));
    } else if (key === "required") {
      if (!Array.isArray(value) || !value.every((r) => typeof r === "string"))
        out.push(`${at}.required: must be a list of property names`);
    } else if (key === "enum") {
      if (!Array.isArray(value)) out.push(`${at}.enum: must be a list`);
    } else if (key !== "const" && (typeof value !== "number" || !Number.isFinite(value)))
      out.push(`${at}.${key}: must be a number`);
  }
  return out;
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  if (t === "integer") return Number.isInteger(v);
  return typeOf(v) === t;
}

/** Canonical form for enum/const equality (object key order does not matter). */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(v[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/**
 * Validates `value` against `schema`. Returns the failures, each "path: reason" with a JSONPath-like
 * path (`$`, `$.order.items[2].price`); empty when valid. Assumes `schemaProblems(schema)` is empty.
 */
export function validateJson(value: unknown, schema: Schema, path = "$"): string[] {
  const out: string[] = [];
  if (schema.type !== undefined) {
    const types = (Array.isArray(schema.type) ? schema.type : [schema.type]) as string[];
    if (!types.some((t) => hasType(value, t)))
      return [`${path}: expected ${types.join(" or ")}, got ${typeOf(value)}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => canon(e) === canon(value)))
    out.push(`${path}: ${canon(value)} is not one of ${schema.enum.map(canon).join(", ")}`);
  if ("const" in schema && canon(schema.const) !== canon(value))
    out.push(`${path}: expected ${canon(schema.const)}`);
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum)
      out.push(`${path}: ${value} is below the minimum ${schema.minimum}`);
    if (typeof schema.maximum === "number" && value > schema.maximum)
      out.push(`${path}: ${value} is above the maximum ${schema.maximum}`);
  }
  if (typeof value === "string") {
    const len = [...value].length;
    if (typeof schema.minLength === "number" && len < schema.minLength)
      out.push(`${path}: length ${len} is below minLength ${schema.minLength}`);
    if (typeof schema.maxLength === "number" && len > schema.maxLength)
      out.push(`${path}: length ${len} is above maxLength ${schema.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems)
      out.push(`${path}: ${value.length} items, fewer than minItems ${schema.minItems}`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems)
      out.push(`${path}: ${value.length} items, more than maxItems ${schema.maxItems}`);
    if (isObject(schema.items)) {
      const items = schema.items;
      value.forEach((v, i) => {
        out.push(...validateJson(v, items, `${path}[${i}]`));
      });
    }
  }
  if (isObject(value)) {
    const props = isObject(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required))
      for (const r of schema.required as string[])
        if (!(r in value)) out.push(`${path}: missing required property ${JSON.stringify(r)}`);
    for (const [k, v] of Object.entries(value)) {
      const sub = props[k];
      const childPath = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`;
      if (isObject(sub)) out.push(...validateJson(v, sub, childPath));
      else if (schema.additionalProperties === false)
        out.push(`${childPath}: property not allowed (additionalProperties is false)`);
      else if (isObject(schema.additionalProperties))
        out.push(...validateJson(v, schema.additionalProperties, childPath));
    }
  }
  return out;
}
