import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { CONTEXT_PATHS, compileCondition } from "../routing/index.ts";
import type { FlagDefinition } from "./index.ts";
import { disjunction, implies, mayOverlap, variantsReaching } from "./segments.ts";

const EU = { region: { $in: ["eu-west", "eu-central"] } };

const flag = (rules: FlagDefinition["rules"], extra: Partial<FlagDefinition> = {}): FlagDefinition => ({
  key: "f",
  type: "string",
  variants: { eu: "a@1.0.0", us: "a@2.0.0", canary: "a@canary" },
  defaultVariant: "us",
  enabled: true,
  rules,
  ...extra,
});
const reach = (def: FlagDefinition, seg: unknown) =>
  variantsReaching(def, seg).map((r) => `${r.variant}<${r.via}`);

test("a rule the segment implies catches it: later rules and the default do not reach it", () => {
  const def = flag([
    { when: { "context.region": { $in: ["eu-west", "eu-central", "eu-north"] } }, variant: "eu" },
    { when: { tenant: "internal" }, variant: "canary" },
  ]);
  assert.deepEqual(reach(def, EU), ["eu<rules.0"]);
  // Not so for a segment wider than the rule: eu-south is not caught by rule 0.
  assert.deepEqual(reach(def, { region: { $in: ["eu-west", "eu-south"] } }), [
    "eu<rules.0",
    "canary<rules.1",
    "us<defaultVariant",
  ]);
});

test("an earlier rule on another attribute reaches the segment too: internal EU users get the canary", () => {
  const def = flag([
    { when: { tenant: "internal" }, variant: "canary" },
    { when: EU, variant: "eu" },
  ]);
  assert.deepEqual(reach(def, EU), ["canary<rules.0", "eu<rules.1"]);
});

test("values are not disjoint (a list matches any item); complements are", () => {
  // region: [us, eu-west] holds for both: the US rule reaches EU traffic.
  assert.deepEqual(reach(flag([{ when: { region: "us" }, variant: "us" }]), EU), [
    "us<rules.0",
    "us<defaultVariant",
  ]);
  // A rule for everyone outside the EU does not.
  const def = flag(
    [
      { when: { region: { $nin: ["eu-west", "eu-central"] } }, variant: "us" },
      { when: { region: { $exists: false } }, variant: "canary" },
    ],
    { defaultVariant: "eu" },
  );
  assert.deepEqual(reach(def, EU), ["eu<defaultVariant"]);
});

test("rollouts reach with every weighted slice; $or and $and split and join; $not is not read", () => {
  const def = flag([
    {
      when: { $or: [{ region: "eu-west" }, { region: "eu-central" }] },
      rollout: [
        { variant: "eu", weight: 90 },
        { variant: "canary", weight: 10 },
        { variant: "us", weight: 0 },
      ],
    },
  ]);
  assert.deepEqual(reach(def, EU), ["eu<rules.0", "canary<rules.0"]);
  // $not cannot be proved apart or implied: it reaches, and does not catch.
  const not = flag([{ when: { $not: { region: { $in: ["eu-west", "eu-central"] } } }, variant: "us" }], {
    defaultVariant: "eu",
  });
  assert.deepEqual(reach(not, EU), ["us<rules.0", "eu<defaultVariant"]);
  assert.ok(implies(disjunction({ $and: [EU, { tier: "gold" }] }), disjunction(EU)));
});

test("a disabled or scheduled flag's default reaches every segment", () => {
  const rules = [{ when: { region: { $in: ["eu-west", "eu-central"] } }, variant: "eu" }];
  assert.deepEqual(reach(flag(rules), EU), ["eu<rules.0"]);
  assert.deepEqual(reach(flag(rules, { enabled: false }), EU), ["eu<rules.0", "us<defaultVariant"]);
  assert.deepEqual(reach(flag(rules, { schedule: { offAt: "2027-01-01T00:00:00Z" } }), EU), [
    "eu<rules.0",
    "us<defaultVariant",
  ]);
});

// Soundness, against the conditions' own evaluator: whenever the analysis says two conditions
// never hold together, no context holds both; whenever it says one implies the other, every
// context that holds the first holds the second. Small universes so that hits are common.
const value = fc.oneof(fc.constantFrom("a", "b", "c", null), fc.subarray(["a", "b", "c"], { minLength: 1 }));
const atom = fc.oneof(
  fc.constantFrom("a", "b", "c"),
  fc.record({ $in: fc.subarray(["a", "b", "c", null], { minLength: 1 }) }),
  fc.record({ $nin: fc.subarray(["a", "b", "c", null], { minLength: 1 }) }),
  fc.record({ $ne: fc.constantFrom("a", "b", null) }),
  fc.record({ $exists: fc.boolean() }),
  fc.record({ $regex: fc.constantFrom("^a", "b") }),
);
const leaf = fc.dictionary(fc.constantFrom("x", "context.y"), atom, { maxKeys: 2 });
const condition = fc.oneof(
  leaf,
  fc.record({ $or: fc.array(leaf, { minLength: 1, maxLength: 3 }) }),
  fc.record({ $and: fc.array(leaf, { minLength: 1, maxLength: 2 }) }),
  fc.record({ $not: leaf }),
);
const context = fc.record({ x: value, y: value }, { requiredKeys: [] }) as fc.Arbitrary<
  Record<string, unknown>
>;

test("property: disjointness and implication are sound against the evaluator", () => {
  fc.assert(
    fc.property(
      condition,
      condition,
      fc.array(context, { minLength: 30, maxLength: 30 }),
      (a, b, contexts) => {
        const ta = compileCondition<Record<string, unknown>>(a, "", CONTEXT_PATHS);
        const tb = compileCondition<Record<string, unknown>>(b, "", CONTEXT_PATHS);
        const da = disjunction(a);
        const db = disjunction(b);
        for (const c of contexts) {
          if (!mayOverlap(da, db)) assert.ok(!(ta(c) && tb(c)), "disjoint, yet both hold");
          if (implies(da, db) && ta(c)) assert.ok(tb(c), "implied, yet does not hold");
        }
      },
    ),
    { numRuns: 2000 },
  );
});
