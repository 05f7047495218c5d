/**
 * Nested settings (a version's parameters, a rollout's plan, a gate's verdict details, an audit
 * event's before and after) as key-value rows: `quality.success  0.9` reads at a glance where a
 * line of JSON had to be parsed by eye. The raw JSON stays one click away where it is shown.
 */

export interface FlatEntry {
  /** The path to the value: `quality.byGroup.age_band:65+`, `steps[0].weight`. */
  key: string;
  /** The value as text: strings as they are, numbers and booleans as JSON writes them. */
  value: string;
}

/** A key as a path segment: bare when it reads unambiguously, else quoted in brackets. */
const segment = (prefix: string, key: string) =>
  key !== "" && !/[.[\]\s"]/.test(key)
    ? prefix
      ? `${prefix}.${key}`
      : key
    : `${prefix}[${JSON.stringify(key)}]`;

const scalar = (v: unknown): string =>
  typeof v === "string"
    ? v
    : v === undefined
      ? "undefined"
      : typeof v === "bigint"
        ? String(v)
        : JSON.stringify(v);

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Every leaf of `value` with its path, in the object's own order. An array of scalars is one row
 * (`tags: a, b, c`); an array holding objects is indexed (`steps[0].weight`); an empty object or
 * array is a row of its own (`{}`, `[]`) so that its key still shows.
 */
export function flatten(value: unknown, prefix = ""): FlatEntry[] {
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ key: prefix, value: "[]" }];
    if (value.every((x) => typeof x !== "object" || x === null))
      return [{ key: prefix, value: value.map(scalar).join(", ") }];
    return value.flatMap((x, i) => flatten(x, `${prefix}[${i}]`));
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return [{ key: prefix, value: "{}" }];
    return keys.flatMap((k) => flatten(value[k], segment(prefix, k)));
  }
  return [{ key: prefix, value: scalar(value) }];
}
