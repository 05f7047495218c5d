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

export type Test = (facts: RequestFacts) => boolean;

const ROOTS = new Set(["metadata", "params", "features"]);
const OPERATORS = new Set(["$eq", "$ne", "$in", "$nin", "$gt", "$gte", "$lt", "$lte", "$regex", "$exists"]);
/** Patterns are compiled once; a pathological one still runs per request, so keep them short. */
const MAX_PATTERN = 512;

function getter(path: string, at: string): (f: RequestFacts) => unknown {
  const parts = path.split(".");
  const root = parts[0]!;
  if (!ROOTS.has(root) || parts.length < 2 || parts.some((p) => p === ""))
    throw new ConditionError(at, `a path starts with metadata., params. or features. (got "${path}")`);
  const rest = parts.slice(1);
  return (f) => {
    let v: unknown = f[root as keyof RequestFacts];
    for (const p of rest) {
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

function field(path: string, spec: unknown, at: string): Test {
  const get = getter(path, at);
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

/** Compiles a condition, checking every path, operator and operand; throws ConditionError naming where. */
export function compileCondition(c: unknown, at = ""): Test {
  if (c === null || typeof c !== "object" || Array.isArray(c))
    throw new ConditionError(at, "a condition is an object (paths and $and, $or, $not)");
  const tests: Test[] = [];
  const join = (k: string) => (at ? `${at}.${k}` : k);
  for (const [key, spec] of Object.entries(c as Record<string, unknown>)) {
    if (key === "$and" || key === "$or") {
      if (!Array.isArray(spec) || spec.length === 0)
        throw new ConditionError(join(key), `${key} takes a non-empty list of conditions`);
      const parts = spec.map((s, i) => compileCondition(s, `${join(key)}.${i}`));
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
      const inner = compileCondition(spec, join(key));
      tests.push((f) => !inner(f));
    } else if (key.startsWith("$")) {
      throw new ConditionError(join(key), `unknown combinator ${key} ($and, $or, $not)`);
    } else tests.push(field(key, spec, join(key)));
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
