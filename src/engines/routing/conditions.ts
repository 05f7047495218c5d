// Conditions over a request, in the query shape Portkey's conditional routing and MongoDB use:
//
//   { "metadata.tier": "enterprise" }                       equality
//   { "params.max_tokens": { "$gt": 2000 } }                comparison
//   { "features.script": { "$in": ["cyrillic", "greek"] } } membership
//   { "metadata.task": { "$regex": "^(legal|medical)" } }   a pattern
//   { "$or": [ {...}, {...} ] }, { "$and": [...] }, { "$not": {...} }
//
// Paths start with `metadata.` (what the client sends), `params.` (the request's parameters:
// model, temperature, max_tokens, tools, response_format…) or `features.` (what the gateway
// derives: tokens_in, messages, script, tools_offered, code, maths…). Several keys in one
// object must all hold. A condition is compiled once (patterns included) and then evaluated
// on the gateway's hot path without allocating.
//
// Feature flags (issue 19) compile the same conditions over an evaluation context with
// CONTEXT_PATHS: a path is any attribute (`tenant`, `user.plan`), optionally written
// `context.tenant`.

export type Scalar = string | number | boolean | null;

export interface RequestFacts {
  metadata: Readonly<Record<string, unknown>>;
  params: Readonly<Record<string, unknown>>;
  features: Readonly<Record<string, unknown>>;
}

export type Condition = { readonly [key: string]: unknown };

export class ConditionError extends Error {
  constructor(
    /** Where in the condition, as a JSON pointer-like path (`$or.1.metadata.tier.$in`). */
    readonly at: string,
    message: string,
  ) {
    super(`${at ? `${at}: ` : ""}${message}`);
  }
}

/** A compiled condition over facts of type F (a request's, unless compiled with other paths). */
export type Test<F = RequestFacts> = (facts: F) => boolean;

/** Which paths a condition may name. */
export interface PathScheme {
  /** The names a path must start with; null: any attribute of the facts. */
  readonly roots: ReadonlySet<string> | null;
  /** A prefix a path may carry, dropped when reading (`context.` in `context.tenant`). */
  readonly prefix?: string;
  /** The roots in words, for the error naming a bad path. */
  readonly rootsText?: string;
}

/** A request's paths: `metadata.`, `params.` or `features.` (the routing conditions). */
export const REQUEST_PATHS: PathScheme = {
  roots: new Set(["metadata", "params", "features"]),
  rootsText: "metadata., params. or features.",
};
/** An evaluation context's attributes, bare or under `context.` (the feature flags' conditions). */
export const CONTEXT_PATHS: PathScheme = { roots: null, prefix: "context." };

// Internally a condition reads any object; compileCondition types the result by its scheme.
type Facts = object;
type AnyTest = (facts: Facts) => boolean;

const OPERATORS = new Set(["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$regex", "$exists"]);
/** Patterns are compiled once; a pathological one still runs per request, so keep them short. */
const MAX_PATTERN = 512;

function getter(path: string, at: string, scheme: PathScheme): (f: Facts) => unknown {
  if (scheme.roots === null) {
    const bare = scheme.prefix && path.startsWith(scheme.prefix) ? path.slice(scheme.prefix.length) : path;
    const parts = bare.split(".");
    if (parts.some((p) => p === ""))
      throw new ConditionError(at, `a path names an attribute (\`tenant\`, \`user.plan\`; got "${path}")`);
    return walk(parts);
  }
  const parts = path.split(".");
  if (!scheme.roots.has(parts[0]!) || parts.length < 2 || parts.some((p) => p === ""))
    throw new ConditionError(at, `a path starts with ${scheme.rootsText} (got "${path}")`);
  return walk(parts);
}

function walk(parts: readonly string[]): (f: Facts) => unknown {
  return (f) => {
    let v: unknown = f;
    for (const p of parts) {
      if (v === null || typeof v !== "object") return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/** Equality of a request's value with a condition's scalar; an array value holds if any item does. */
function equals(value: unknown, x: Scalar): boolean {
  if (Array.isArray(value)) return value.some((v) => v === x);
  return value === x;
}

function compare(value: unknown, x: number | string, op: string): boolean {
  if (typeof value !== typeof x) return false;
  const v = value as number | string;
  switch (op) {
    case "$gt":
      return v > x;
    case "$gte":
      return v >= x;
    case "$lt":
      return v < x;
    default:
      return v <= x;
  }
}

function operand(op: string, x: unknown, at: string): (value: unknown) => boolean {
  switch (op) {
    case "$eq":
    case "$ne": {
      if (!isScalar(x)) throw new ConditionError(at, `${op} takes a string, number, boolean or null`);
      return op === "$eq" ? (v) => equals(v, x) : (v) => !equals(v, x);
    }
    case "$in":
    case "$nin": {
      if (!Array.isArray(x) || !x.every(isScalar) || x.length === 0)
        throw new ConditionError(at, `${op} takes a non-empty list of strings, numbers, booleans or null`);
      const set = new Set<unknown>(x);
      const hit = (v: unknown) => (Array.isArray(v) ? v.some((i) => set.has(i)) : set.has(v));
      return op === "$in" ? hit : (v) => !hit(v);
    }
    case "$gt":
    case "$gte":
    case "$lt":
    case "$lte": {
      if (!((typeof x === "number" && Number.isFinite(x)) || typeof x === "string"))
        throw new ConditionError(at, `${op} takes a number or a string`);
      return (v) => compare(v, x, op);
    }
    case "$regex": {
      if (typeof x !== "string" || x.length > MAX_PATTERN)
        throw new ConditionError(at, `$regex takes a pattern of at most ${MAX_PATTERN} characters`);
      let re: RegExp;
      try {
        re = new RegExp(x, "u");
      } catch (e) {
        throw new ConditionError(at, `$regex is not a valid pattern: ${(e as Error).message}`);
      }
      return (v) => typeof v === "string" && re.test(v);
    }
    case "$exists": {
      if (typeof x !== "boolean") throw new ConditionError(at, "$exists takes true or false");
      return x ? (v) => v !== undefined && v !== null : (v) => v === undefined || v === null;
    }
    default:
      throw new ConditionError(at, `unknown operator ${op} (${[...OPERATORS].join(", ")})`);
  }
}

function field(path: string, spec: unknown, at: string, scheme: PathScheme): AnyTest {
  const get = getter(path, at, scheme);
  if (isScalar(spec)) {
    const test = operand("$eq", spec, at);
    return (f) => test(get(f));
  }
  if (spec === null || typeof spec !== "object" || Array.isArray(spec))
    throw new ConditionError(at, "a path takes a value or an object of operators ($eq, $in, $gt, $regex …)");
  const entries = Object.entries(spec as Record<string, unknown>);
  if (entries.length === 0) throw new ConditionError(at, "an empty object of operators");
  const tests = entries.map(([op, x]) => operand(op, x, `${at}.${op}`));
  if (tests.length === 1) {
    const t = tests[0]!;
    return (f) => t(get(f));
  }
  return (f) => {
    const v = get(f);
    for (const t of tests) if (!t(v)) return false;
    return true;
  };
}

/**
 * Compiles a condition, checking every path, operator and operand; throws ConditionError naming
 * where. Paths are a request's unless `scheme` says otherwise.
 */
export function compileCondition(c: unknown, at?: string): Test<RequestFacts>;
export function compileCondition<F extends object>(c: unknown, at: string, scheme: PathScheme): Test<F>;
export function compileCondition(c: unknown, at = "", scheme: PathScheme = REQUEST_PATHS): AnyTest {
  if (c === null || typeof c !== "object" || Array.isArray(c))
    throw new ConditionError(at, "a condition is an object (paths and $and, $or, $not)");
  const tests: AnyTest[] = [];
  const join = (k: string) => (at ? `${at}.${k}` : k);
  for (const [key, spec] of Object.entries(c as Record<string, unknown>)) {
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(spec) || spec.length === 0)
        throw new ConditionError(join(key), `${key} takes a non-empty list of conditions`);
      const parts = spec.map((s, i) => compileCondition<Facts>(s, `${join(key)}.${i}`, scheme));
      tests.push(
        key === "$and"
          ? (f) => {
              for (const p of parts) if (!p(f)) return false;
              return true;
            }
          : (f) => {
              for (const p of parts) if (p(f)) return true;
              return false;
            },
      );
    } else if (key === "$not") {
      const inner = compileCondition<Facts>(spec, join(key), scheme);
      tests.push((f) => !inner(f));
    } else if (key.startsWith("$")) {
      throw new ConditionError(join(key), `unknown combinator ${key} ($and, $or, $not)`);
    } else tests.push(field(key, spec, join(key), scheme));
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (f) => {
    for (const t of tests) if (!t(f)) return false;
    return true;
  };
}

/** The first rule whose condition holds, in order; `null` when none does. */
export function firstMatch<T>(rules: readonly { test: Test; target: T }[], facts: RequestFacts): T | null {
  for (const r of rules) if (r.test(facts)) return r.target;
  return null;
}
