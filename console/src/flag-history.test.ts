import assert from "node:assert/strict";
import { test } from "node:test";
import { type FlagShape, flagDiff, reasonsByRevision, withBefore } from "./flag-history.ts";

/** The demo flag (src/demo/seed.ts) as the API returns it. */
const DEMO: FlagShape = {
  type: "string",
  description: "Internal tenants get the canary.",
  variants: { canary: "support-assistant@canary", production: "support-assistant@production" },
  defaultVariant: "production",
  enabled: true,
  rules: [{ when: { tenant: "internal" }, variant: "canary" }],
};
const EU = {
  when: { region: "eu-west" },
  rollout: [
    { variant: "canary", weight: 10 },
    { variant: "production", weight: 90 },
  ],
};

test("a created flag: every field and rule is added", () => {
  assert.deepEqual(flagDiff(null, DEMO), [
    { field: "type", kind: "added", after: "string" },
    { field: "description", kind: "added", after: "Internal tenants get the canary." },
    { field: "enabled", kind: "added", after: "yes" },
    { field: "default variant", kind: "added", after: "production" },
    { field: "variant canary", kind: "added", after: "support-assistant@canary" },
    { field: "variant production", kind: "added", after: "support-assistant@production" },
    { field: "rule 1", kind: "added", after: 'when tenant is "internal" → canary' },
  ]);
});

test("an empty description is not a field added", () => {
  assert.deepEqual(
    flagDiff(null, { ...DEMO, description: "" }).map((c) => c.field),
    ["type", "enabled", "default variant", "variant canary", "variant production", "rule 1"],
  );
});

test("an update names only what moved, with before and after", () => {
  const after: FlagShape = {
    ...DEMO,
    defaultVariant: "canary",
    variants: { canary: "support-assistant@1.2.0", production: "support-assistant@production", off: "none" },
    schedule: { offAt: "2026-12-24T00:00:00.000Z" },
  };
  assert.deepEqual(flagDiff(DEMO, after), [
    { field: "default variant", kind: "changed", before: "production", after: "canary" },
    {
      field: "variant canary",
      kind: "changed",
      before: "support-assistant@canary",
      after: "support-assistant@1.2.0",
    },
    { field: "variant off", kind: "added", after: "none" },
    { field: "schedule off", kind: "added", after: "2026-12-24T00:00:00.000Z" },
  ]);
  assert.deepEqual(
    flagDiff(after, DEMO).map((c) => `${c.field} ${c.kind}`),
    ["default variant changed", "variant canary changed", "variant off removed", "schedule off removed"],
  );
  assert.deepEqual(flagDiff({ ...DEMO, enabled: false }, DEMO), [
    { field: "enabled", kind: "changed", before: "no", after: "yes" },
  ]);
  // A number that became a string is a change, though both read 5.
  assert.deepEqual(
    flagDiff(
      { ...DEMO, type: "number", variants: { n: 5 } },
      { ...DEMO, type: "string", variants: { n: "5" } },
    ).map((c) => `${c.field}: ${c.before} → ${c.after}`),
    ["type: number → string", "variant n: 5 → 5"],
  );
});

test("rules: one inserted above the others is one addition, not a change of every rule below", () => {
  const last = { variant: "production" };
  const before = { ...DEMO, rules: [DEMO.rules[0]!, last] };
  const after = { ...DEMO, rules: [EU, DEMO.rules[0]!, last] };
  assert.deepEqual(flagDiff(before, after), [
    { field: "rule 1", kind: "added", after: 'when region is "eu-west" → canary 10% / production 90%' },
  ]);
  assert.deepEqual(flagDiff(after, before), [
    { field: "rule 1", kind: "removed", before: 'when region is "eu-west" → canary 10% / production 90%' },
  ]);
  // A rule edited in place is a change of that rule.
  const edited = { ...DEMO, rules: [{ when: { tenant: "staff" }, variant: "canary" }, last] };
  assert.deepEqual(flagDiff(before, edited), [
    {
      field: "rule 1",
      kind: "changed",
      before: 'when tenant is "internal" → canary',
      after: 'when tenant is "staff" → canary',
    },
  ]);
  assert.deepEqual(flagDiff(before, before), [], "nothing moved, nothing said");
});

test("a deleted flag: everything removed", () => {
  const d = flagDiff(DEMO, null);
  assert.equal(d.length, 7);
  assert.ok(d.every((c) => c.kind === "removed" && c.after === undefined));
});

test("each revision is read against the next older one; the first against nothing", () => {
  const revs = [
    { revision: 3, flag: { ...DEMO, enabled: true } },
    { revision: 2, flag: { ...DEMO, enabled: false } },
    { revision: 1, flag: DEMO },
  ];
  const pairs = withBefore(revs);
  assert.deepEqual(
    pairs.map((p) => [p.rev.revision, p.before?.enabled ?? null]),
    [
      [3, false],
      [2, true],
      [1, null],
    ],
  );
});

test("reasons come from the flag's audit events, by the revision each left", () => {
  const reasons = reasonsByRevision([
    {
      action: "flag.created",
      reason: "release gate skipped (demo seed)",
      before: null,
      after: { revision: 1 },
    },
    { action: "flag.disabled", reason: "", before: { revision: 1 }, after: { revision: 2 } },
    { action: "flag.deleted", reason: "retired", before: { revision: 2 }, after: null },
    { action: "route.updated", reason: "not a flag's", before: null, after: { revision: 9 } },
  ]);
  assert.deepEqual(
    [...reasons],
    [
      [1, "release gate skipped (demo seed)"],
      [3, "retired"],
    ],
  );
});
