// Contract compatibility between two versions of a model within the same major.
//
// A minor/patch version must keep every promise the previous version made:
//  - input:  next must ACCEPT everything previous accepted (it may accept more).
//  - output: next may only PRODUCE what previous could produce (it may produce less).
// So for input "next covers previous", for output "previous covers next". Every check below is
// phrased as `wide covers narrow` with that direction picked per side.
//
// Anything that cannot be compared precisely (several structured anyOf branches, pattern/format/not…,
// unresolvable $ref) is reported as `retyped` unless both sides are deep-equal: a false "compatible"
// is worse than a spurious refusal the publisher can resolve by bumping the major.

export type JsonSchema = Record<string, unknown> | boolean;
export interface Contract {
  input?: JsonSchema;
  output?: JsonSchema;
}
export type ContractChange = "removed" | "retyped" | "newly_required" | "contract_removed";
export interface ContractProblem {
  field: string;
  change: ContractChange;
  from?: string;
  to?: string;
  detail: string;
}

type Obj = Record<string, unknown>;
type PairSet = Map<unknown, Set<unknown>>;
interface Ctx {
  side: "input" | "output";
  prevRoot: unknown;
  nextRoot: unknown;
  problems: ContractProblem[];
  active: PairSet;
}
// full: types accepted without value restriction (null = any type); values: enum/const members.
interface View {
  full: Set<string> | null;
  values: unknown[];
  body: Obj;
  opaque: boolean;
}

const words = (s: string) => s.trim().split(/\s+/);
// Keywords that never change what validates.
const ANNOTATIONS = new Set(
  words(`$defs definitions title description examples example default $comment
  deprecated readOnly writeOnly $id $schema $anchor`),
);
const MAP_KEYS = new Set(words("properties patternProperties dependentSchemas"));
const SCHEMA_KEYS = new Set(
  words(`items additionalItems additionalProperties not if then else contains
  propertyNames unevaluatedItems unevaluatedProperties contentSchema anyOf oneOf allOf prefixItems`),
);
const LOWER = words("minimum exclusiveMinimum minLength minItems minProperties minContains");
const UPPER = words("maximum exclusiveMaximum maxLength maxItems maxProperties maxContains");
// Constraints compared only for equality: dropping one widens, adding or changing one is unverifiable.
const OPAQUE = words(`pattern format multipleOf uniqueItems allOf not if then else patternProperties
  propertyNames contains dependentRequired dependentSchemas unevaluatedProperties unevaluatedItems
  contentEncoding contentMediaType contentSchema`);
const STRUCT = new Set([...words("properties required items prefixItems additionalProperties"), ...OPAQUE]);
for (const k of [...LOWER, ...UPPER]) STRUCT.add(k);
const EMPTY: Obj = {};

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const has = (o: Obj, k: string) => Object.hasOwn(o, k);
const meaningful = (o: Obj) => Object.keys(o).filter((k) => !ANNOTATIONS.has(k) && !k.startsWith("x-"));
const fmt = (v: unknown) => (v === undefined ? "none" : JSON.stringify(v));

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}
// integer ⊂ number
const covered = (t: string, set: Set<string> | null) =>
  set === null || set.has(t) || (t === "integer" && set.has("number"));

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isObj(a) || !isObj(b)) return false;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => has(b, k) && deepEqual(a[k], b[k]));
}

function enter(set: PairSet, a: unknown, b: unknown): boolean {
  const s = set.get(a) ?? new Set();
  set.set(a, s);
  if (s.has(b)) return false;
  s.add(b);
  return true;
}

function lookup(root: unknown, ref: string): unknown {
  if (ref !== "#" && !ref.startsWith("#/")) return undefined; // only local refs
  let cur = root;
  for (const raw of ref === "#" ? [] : ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObj(cur) && has(cur, key)) cur = cur[key];
    else return undefined;
  }
  return cur;
}

// $ref siblings are merged over the target; merged objects are cached so identity stays stable,
// which the cycle guards below rely on.
const merged = new WeakMap<Obj, Obj>();
function resolve(root: unknown, s: unknown): { node: Obj | boolean; unresolved?: string } {
  let cur = s;
  const seen = new Set<string>();
  while (isObj(cur) && typeof cur.$ref === "string") {
    const ref = cur.$ref;
    const target = lookup(root, ref);
    if (seen.has(ref) || !(isObj(target) || typeof target === "boolean"))
      return { node: EMPTY, unresolved: ref };
    seen.add(ref);
    const { $ref: _ref, ...rest } = cur;
    if (isObj(target) && meaningful(rest).length > 0) {
      const m = merged.get(cur) ?? { ...target, ...rest };
      merged.set(cur, m);
      cur = m;
    } else cur = target;
  }
  return { node: isObj(cur) || typeof cur === "boolean" ? cur : true };
}

// Structural equality with refs resolved on each side; `{}` equals `true`. Cycles are assumed equal
// (coinduction): if nothing differs along the loop, nothing differs at all.
function same(a: unknown, b: unknown, ra: unknown, rb: unknown, active: PairSet): boolean {
  const x = resolve(ra, a);
  const y = resolve(rb, b);
  if (x.unresolved !== undefined || y.unresolved !== undefined) return x.unresolved === y.unresolved;
  const norm = (n: Obj | boolean) => (isObj(n) && meaningful(n).length === 0 ? true : n);
  const p = norm(x.node);
  const q = norm(y.node);
  if (typeof p === "boolean" || typeof q === "boolean") return p === q;
  if (!enter(active, p, q)) return true;
  try {
    for (const k of new Set([...meaningful(p), ...meaningful(q)])) {
      const u = p[k];
      const v = q[k];
      if (u === undefined || v === undefined) return false;
      if (MAP_KEYS.has(k) && isObj(u) && isObj(v)) {
        const names = new Set([...Object.keys(u), ...Object.keys(v)]);
        for (const n of names)
          if (!has(u, n) || !has(v, n) || !same(u[n], v[n], ra, rb, active)) return false;
      } else if (SCHEMA_KEYS.has(k) && Array.isArray(u) && Array.isArray(v)) {
        if (u.length !== v.length || !u.every((e, i) => same(e, v[i], ra, rb, active))) return false;
      } else if (SCHEMA_KEYS.has(k) && !Array.isArray(u) && !Array.isArray(v)) {
        if (!same(u, v, ra, rb, active)) return false;
      } else if (!deepEqual(u, v)) return false;
    }
    return true;
  } finally {
    active.get(p)?.delete(q);
  }
}

const hasStructure = (o: Obj) => Object.keys(o).some((k) => STRUCT.has(k));

// Flattens type/nullable/enum/const and a simple anyOf/oneOf (or single-branch allOf) into a type set.
// At most one branch may carry structure (the `anyOf: [{$ref: Model}, {type: "null"}]` idiom); more
// than that, or a combinator next to type/enum, makes the view opaque.
function view(s: unknown, root: unknown, stack = new Set<unknown>()): View {
  const r = resolve(root, s);
  const n = r.node;
  if (r.unresolved !== undefined || stack.has(n))
    return { full: null, values: [], body: EMPTY, opaque: true };
  if (typeof n === "boolean") return { full: n ? null : new Set(), values: [], body: EMPTY, opaque: false };
  const declared = typeof n.type === "string" ? [n.type] : Array.isArray(n.type) ? n.type.map(String) : null;
  let full: Set<string> | null = declared ? new Set(declared) : null;
  if (full && n.nullable === true) full.add("null");
  const listed = has(n, "const") ? [n.const] : Array.isArray(n.enum) ? n.enum : null;
  let values: unknown[] = [];
  if (listed) {
    values = declared ? listed.filter((v) => covered(typeOf(v), new Set(declared))) : [...listed];
    full = new Set(n.nullable === true ? ["null"] : []);
  }
  const isList = (k: string) => Array.isArray(n[k]) && (k !== "allOf" || (n[k] as unknown[]).length === 1);
  const key = ["anyOf", "oneOf", "allOf"].find(isList);
  if (!key) return { full, values, body: n, opaque: false };
  if (declared || listed || (key === "anyOf" && Array.isArray(n.oneOf)))
    return { full, values, body: n, opaque: true };
  const { [key]: branches, ...own } = n;
  stack.add(n);
  const views = (branches as unknown[]).map((b) => view(b, root, stack));
  stack.delete(n);
  const structured = views.filter((v) => v.opaque || hasStructure(v.body));
  full = views.some((v) => v.full === null) ? null : new Set(views.flatMap((v) => [...(v.full ?? [])]));
  if (full && n.nullable === true) full.add("null");
  return {
    full,
    values: views.flatMap((v) => v.values),
    body: structured[0]?.body ?? own,
    opaque: structured.length > 1 || (structured.length === 1 && hasStructure(own)),
  };
}

const allTypes = (v: View) => (v.full === null ? null : new Set([...v.full, ...v.values.map(typeOf)]));
function typeLabel(v: View): string {
  const t = allTypes(v);
  return t === null ? "any" : t.size === 0 ? "never" : [...t].sort().join("|");
}
function valueLabel(v: View): string {
  if (v.full === null) return "any";
  const parts = [...v.full].sort();
  if (v.values.length > 0) parts.push(`enum${JSON.stringify(v.values)}`);
  return parts.length === 0 ? "never" : parts.join("|");
}
const canBe = (v: View, t: string) =>
  v.full === null || v.full.has(t) || v.values.some((x) => typeOf(x) === t);

function add(c: Ctx, field: string, change: ContractChange, detail: string, from?: string, to?: string) {
  c.problems.push(from === undefined ? { field, change, detail } : { field, change, from, to, detail });
}

function walk(c: Ctx, prev: unknown, next: unknown, path: string) {
  if (same(prev, next, c.prevRoot, c.nextRoot, new Map())) return;
  const rp = resolve(c.prevRoot, prev);
  const rn = resolve(c.nextRoot, next);
  const bad = rp.unresolved ?? rn.unresolved;
  if (bad !== undefined)
    return add(c, path, "retyped", `cannot resolve $ref ${bad}; compatibility unverifiable`);
  if (!enter(c.active, rp.node, rn.node)) return; // recursive definition already being compared above
  try {
    compare(c, rp.node, rn.node, path);
  } finally {
    c.active.get(rp.node)?.delete(rn.node);
  }
}

function compare(c: Ctx, p: Obj | boolean, n: Obj | boolean, path: string) {
  const vp = view(p, c.prevRoot);
  const vn = view(n, c.nextRoot);
  const input = c.side === "input";
  const [wide, narrow] = input ? [vn, vp] : [vp, vn];
  const why = input
    ? "next no longer accepts everything previous accepted; existing clients may be rejected"
    : "next can return values previous never returned; consumers may break";
  const wideTypes = allTypes(wide);
  const narrowTypes = allTypes(narrow);
  const typesOk =
    narrowTypes === null ? wideTypes === null : [...narrowTypes].every((t) => covered(t, wideTypes));
  // A type change makes nested comparisons meaningless: report it once, don't descend.
  if (!typesOk) return add(c, path, "retyped", why, typeLabel(vp), typeLabel(vn));
  const valuesOk =
    [...(narrow.full ?? [])].every((t) => covered(t, wide.full)) &&
    narrow.values.every((v) => covered(typeOf(v), wide.full) || wide.values.some((w) => deepEqual(v, w)));
  if (!valuesOk) add(c, path, "retyped", `enum: ${why}`, valueLabel(vp), valueLabel(vn));
  if (vp.opaque || vn.opaque)
    return add(c, path, "retyped", "anyOf/oneOf with several structured branches changed; unverifiable");

  const [wb, nb] = input ? [vn.body, vp.body] : [vp.body, vn.body];
  const roots = [c.prevRoot, c.nextRoot, new Map()] as const;
  const failed = [
    ...LOWER.filter((k) => typeof wb[k] === "number" && !(typeof nb[k] === "number" && wb[k] <= nb[k])),
    ...UPPER.filter((k) => typeof wb[k] === "number" && !(typeof nb[k] === "number" && wb[k] >= nb[k])),
    ...OPAQUE.filter((k) => wb[k] !== undefined && !same({ [k]: vp.body[k] }, { [k]: vn.body[k] }, ...roots)),
  ];
  if (failed.length > 0) {
    const from = failed.map((k) => `${k}=${fmt(vp.body[k])}`).join(", ");
    const to = failed.map((k) => `${k}=${fmt(vn.body[k])}`).join(", ");
    add(c, path, "retyped", `constraints: ${why}`, from, to);
  }
  if (canBe(vp, "object") && canBe(vn, "object")) walkObject(c, vp.body, vn.body, path);
  if (canBe(vp, "array") && canBe(vn, "array")) walkArray(c, vp.body, vn.body, path);
}

function walkObject(c: Ctx, pb: Obj, nb: Obj, path: string): void {
  const pp = isObj(pb.properties) ? pb.properties : EMPTY;
  const np = isObj(nb.properties) ? nb.properties : EMPTY;
  const req = (b: Obj) => new Set(Array.isArray(b.required) ? b.required.map(String) : []);
  const pr = req(pb);
  const nr = req(nb);
  const pap = pb.additionalProperties ?? true;
  const nap = nb.additionalProperties ?? true;
  for (const [k, s] of Object.entries(pp)) {
    // Removal is removal, even if additionalProperties would still let the key through untyped.
    if (!has(np, k)) add(c, `${path}.${k}`, "removed", `${c.side} field removed`);
    else walk(c, s, np[k], `${path}.${k}`);
  }
  // A newly named property was previously typed by a schema-valued additionalProperties.
  if (isObj(pap)) for (const k of Object.keys(np)) if (!has(pp, k)) walk(c, pap, np[k], `${path}.${k}`);
  if (c.side === "input") {
    for (const k of nr)
      if (!pr.has(k))
        add(c, `${path}.${k}`, "newly_required", "now required; clients that omit it will be rejected");
  } else {
    for (const k of pr)
      if (!nr.has(k) && !(has(pp, k) && !has(np, k)))
        add(
          c,
          `${path}.${k}`,
          "retyped",
          "may now be absent; consumers relied on it",
          "required",
          "optional",
        );
  }
  // Extra output keys are additive (same as adding an optional output field), so a closed previous
  // output object may open up; closing an input object, or retyping map values, is checked.
  if ((pap !== true || nap !== true) && !(c.side === "output" && pap === false))
    walk(c, pap, nap, `${path}.*`);
}

function walkArray(c: Ctx, pb: Obj, nb: Obj, path: string): void {
  const tuple = (b: Obj): unknown[] =>
    Array.isArray(b.prefixItems) ? b.prefixItems : Array.isArray(b.items) ? b.items : [];
  const rest = (b: Obj) => (Array.isArray(b.items) ? b.additionalItems : b.items) ?? true;
  const pt = tuple(pb);
  const nt = tuple(nb);
  const pi = rest(pb);
  const ni = rest(nb);
  for (let i = 0; i < Math.max(pt.length, nt.length); i++)
    walk(c, i < pt.length ? pt[i] : pi, i < nt.length ? nt[i] : ni, `${path}[${i}]`);
  if (pi !== true || ni !== true) walk(c, pi, ni, `${path}[]`);
}

export function checkContractCompat(
  previous: Contract | null | undefined,
  next: Contract | null | undefined,
): { compatible: boolean; problems: ContractProblem[] } {
  const problems: ContractProblem[] = [];
  for (const side of ["input", "output"] as const) {
    const p = previous?.[side];
    if (p === undefined || p === null) continue; // nothing was promised
    const n = next?.[side];
    if (n === undefined || n === null) {
      problems.push({ field: side, change: "contract_removed", detail: `${side} contract dropped` });
      continue;
    }
    walk({ side, prevRoot: p, nextRoot: n, problems, active: new Map() }, p, n, side);
  }
  const out = problems.filter(
    (x, i) => problems.findIndex((y) => y.field === x.field && y.change === x.change) === i,
  );
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  out.sort((a, b) => cmp(a.field, b.field) || cmp(a.change, b.change));
  return { compatible: out.length === 0, problems: out };
}
