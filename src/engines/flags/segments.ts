// Which of a flag's variants can reach a segment of traffic (issue 19: release gates per
// segment). A segment is a condition over the evaluation context (`region in [eu-west,
// eu-central]`); a rule reaches it unless its condition provably never holds together with the
// segment's, and a rule the segment's condition implies catches the whole segment, so the rules
// after it and the default variant do not reach it.
//
// The analysis is sound, never complete: where it cannot prove two conditions apart it says they
// overlap, and where it cannot prove an implication it says there is none, so a doubt always
// means more variants to check, never fewer. It follows the conditions' own semantics, where an
// attribute holding a list matches `tenant: a` when any item is `a`: `region: us` and
// `region: eu-west` can both hold (`region: [us, eu-west]`), so only complements are disjoint
// (`$in` against a `$nin` covering it, `$eq` against `$ne`, a value against `$exists: false`).

import type { FlagDefinition } from "./definition.ts";

type Scalar = string | number | boolean | null;

/** One constraint on one path: some item in `values`, no item in `values`, absent, present, or another operator as written. */
type Atom =
  | { path: string; kind: "in" | "nin"; values: ReadonlySet<Scalar> }
  | { path: string; kind: "absent" | "present" }
  | { path: string; kind: "other"; key: string };

/** A conjunction of atoms; a condition is an OR of them, or null when it cannot be put so ($not). */
type Conj = readonly Atom[];

const MAX_TERMS = 256;
const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean";

function atomsOf(path: string, spec: unknown): Atom[] {
  if (isScalar(spec)) return [{ path, kind: "in", values: new Set([spec]) }];
  if (spec === null || typeof spec !== "object" || Array.isArray(spec))
    return [{ path, kind: "other", key: JSON.stringify(spec) }];
  return Object.entries(spec as Record<string, unknown>).map(([op, x]): Atom => {
    if ((op === "$eq" || op === "$ne") && isScalar(x))
      return { path, kind: op === "$eq" ? "in" : "nin", values: new Set([x]) };
    if ((op === "$in" || op === "$nin") && Array.isArray(x) && x.every(isScalar))
      return { path, kind: op === "$in" ? "in" : "nin", values: new Set(x) };
    if (op === "$exists" && typeof x === "boolean") return { path, kind: x ? "present" : "absent" };
    return { path, kind: "other", key: `${op}:${JSON.stringify(x)}` };
  });
}

/** Every pair of terms joined: (a ∨ b) ∧ (c ∨ d) = ac ∨ ad ∨ bc ∨ bd; null past MAX_TERMS. */
function and(a: Conj[] | null, b: Conj[] | null): Conj[] | null {
  if (!a || !b || a.length * b.length > MAX_TERMS) return null;
  return a.flatMap((x) => b.map((y) => [...x, ...y]));
}

/** A condition as an OR of conjunctions; `undefined` (no condition) is the one empty conjunction: always. */
export function disjunction(c: unknown, prefix = "context."): Conj[] | null {
  if (c === undefined) return [[]];
  if (c === null || typeof c !== "object" || Array.isArray(c)) return null;
  let out: Conj[] | null = [[]];
  for (const [key, spec] of Object.entries(c as Record<string, unknown>)) {
    if (key === "$and" && Array.isArray(spec)) {
      for (const part of spec) out = and(out, disjunction(part, prefix));
    } else if (key === "$or" && Array.isArray(spec)) {
      const parts = spec.map((part) => disjunction(part, prefix));
      out = parts.some((p) => p === null) ? null : and(out, (parts as Conj[][]).flat());
    } else if (key.startsWith("$")) {
      return null; // $not, or anything this analysis does not read
    } else {
      const path = key.startsWith(prefix) ? key.slice(prefix.length) : key;
      out = and(out, [atomsOf(path, spec)]);
    }
    if (!out) return null;
  }
  return out;
}

const subset = (a: ReadonlySet<Scalar>, b: ReadonlySet<Scalar>) => [...a].every((x) => b.has(x));

/** Whether two atoms on one path can never hold together. */
function exclusive(x: Atom, y: Atom): boolean {
  if (x.path !== y.path) return false;
  if (x.kind === "in" && y.kind === "nin") return subset(x.values, y.values);
  if (x.kind === "in" && y.kind === "absent") return !x.values.has(null);
  if (x.kind === "present" && y.kind === "absent") return true;
  return false;
}

const disjoint = (a: Conj, b: Conj) => a.some((x) => b.some((y) => exclusive(x, y) || exclusive(y, x)));

/** Whether atom `s` holding makes `r` hold. */
function entails(s: Atom, r: Atom): boolean {
  if (s.path !== r.path) return false;
  if (s.kind === "in" && r.kind === "in") return subset(s.values, r.values);
  if (s.kind === "nin" && r.kind === "nin") return subset(r.values, s.values);
  if (s.kind === "in" && r.kind === "present") return !s.values.has(null);
  if (s.kind === "absent" && r.kind === "nin") return !r.values.has(null);
  if (s.kind === r.kind && (s.kind === "absent" || s.kind === "present")) return true;
  return s.kind === "other" && r.kind === "other" && s.key === r.key;
}

/** Whether some context can satisfy both conditions (true when not provably apart). */
export function mayOverlap(a: Conj[] | null, b: Conj[] | null): boolean {
  if (!a || !b) return true;
  return a.some((x) => b.some((y) => !disjoint(x, y)));
}

/**
 * `x in [a, b]` is `x = a ∨ x = b`: a term split so, value by value (as long as that stays
 * small), lets an implication into an OR be proved branch by branch.
 */
function split(terms: Conj[]): Conj[] {
  const out: Conj[] = [];
  for (const t of terms) {
    let parts: Conj[] = [[]];
    for (const a of t) {
      const alts: Atom[] =
        a.kind === "in" && a.values.size > 1
          ? [...a.values].map((v) => ({ path: a.path, kind: "in", values: new Set([v]) }))
          : [a];
      if (parts.length * alts.length > MAX_TERMS) return terms;
      parts = parts.flatMap((p) => alts.map((x) => [...p, x]));
    }
    out.push(...parts);
    if (out.length > MAX_TERMS) return terms;
  }
  return out;
}

/** Whether every context `s` holds for makes `r` hold (false when not provable). */
export function implies(s: Conj[] | null, r: Conj[] | null): boolean {
  if (!s || !r) return false;
  return split(s).every((sc) => r.some((rc) => rc.every((ra) => sc.some((sa) => entails(sa, ra)))));
}

/** A variant that can be served to the segment, and the field of the flag that sends it there. */
export interface Reach {
  variant: string;
  /** `rules.2` (its variant or rollout) or `defaultVariant`. */
  via: string;
}

/**
 * The variants a flag can serve to contexts the segment's condition holds for, in the order the
 * flag would try them. A disabled or scheduled flag serves its default to everyone at some time,
 * so its default always reaches the segment.
 */
export function variantsReaching(def: FlagDefinition, segment: unknown): Reach[] {
  const seg = disjunction(segment);
  const out: Reach[] = [];
  let caught = false;
  (def.rules ?? []).forEach((rule, i) => {
    if (caught) return;
    const when = disjunction(rule.when);
    if (!mayOverlap(when, seg)) return;
    const via = `rules.${i}`;
    if (rule.variant !== undefined) out.push({ variant: rule.variant, via });
    else for (const s of rule.rollout) if (s.weight > 0) out.push({ variant: s.variant, via });
    caught = implies(seg, when);
  });
  const scheduled = def.schedule?.onAt !== undefined || def.schedule?.offAt !== undefined;
  if (!caught || !def.enabled || scheduled) out.push({ variant: def.defaultVariant, via: "defaultVariant" });
  return out;
}
