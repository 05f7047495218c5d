import assert from "node:assert/strict";
import { test } from "node:test";
import {
  BUCKETS,
  bucketOf,
  compileFlag,
  type FlagDefinition,
  FlagDefinitionError,
  FlagSet,
  modelTargets,
} from "./index.ts";

const NOW = Date.parse("2026-12-07T12:00:00Z");

const version: FlagDefinition = {
  key: "support-assistant.version",
  type: "string",
  variants: {
    canary: "support-assistant@canary",
    production: "support-assistant@production",
    eu: "eu@1.0.0",
  },
  defaultVariant: "production",
  enabled: true,
  rules: [
    { when: { tenant: "internal" }, variant: "canary" },
    { when: { "context.region": { $in: ["eu-west", "eu-central"] } }, variant: "eu" },
    {
      when: { tenant: { $exists: true } },
      rollout: [
        { variant: "canary", weight: 10 },
        { variant: "production", weight: 90 },
      ],
    },
  ],
};

test("rules apply in order: the first that holds gives the variant, else the default", () => {
  const f = compileFlag(version);
  const internalInEu = f.evaluate({ tenant: "internal", region: "eu-west" }, NOW);
  assert.deepEqual(
    { value: internalInEu.value, variant: internalInEu.variant, reason: internalInEu.reason },
    { value: "support-assistant@canary", variant: "canary", reason: "TARGETING_MATCH" },
    "the first rule wins over the second that also holds",
  );
  const eu = f.evaluate({ region: "eu-central" }, NOW);
  assert.equal(eu.variant, "eu", "a bare path and a context. path read the same attribute");
  const none = f.evaluate({ region: "us" }, NOW);
  assert.deepEqual([none.variant, none.reason], ["production", "DEFAULT"]);
  const split = f.evaluate({ tenant: "acme", targetingKey: "user-1" }, NOW);
  assert.equal(split.reason, "SPLIT");
  assert.ok(split.variant === "canary" || split.variant === "production");
});

test("a flag without rules is STATIC; a disabled one serves its default as DISABLED", () => {
  const f = compileFlag({
    key: "b",
    type: "boolean",
    variants: { on: true, off: false },
    defaultVariant: "off",
    enabled: true,
  });
  assert.deepEqual([f.evaluate({}, NOW).value, f.evaluate({}, NOW).reason], [false, "STATIC"]);
  const d = compileFlag({ ...version, enabled: false });
  const r = d.evaluate({ tenant: "internal" }, NOW);
  assert.deepEqual([r.variant, r.reason], ["production", "DISABLED"], "no rule is consulted when disabled");
});

test("a rollout splits 100k targeting keys within 1% of its weights, and each key keeps its variant", () => {
  const f = compileFlag({
    key: "summariser",
    type: "string",
    variants: { a: "a", b: "b", c: "c" },
    defaultVariant: "a",
    enabled: true,
    rules: [
      {
        rollout: [
          { variant: "a", weight: 20 },
          { variant: "b", weight: 30 },
          { variant: "c", weight: 50 },
        ],
      },
    ],
  });
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  const n = 100_000;
  for (let i = 0; i < n; i++) counts[f.evaluate({ targetingKey: `user-${i}` }, NOW).variant!]!++;
  // Binomial sd at n=100k is at most 0.16%: 1% is over 6 sd, and a biased hash would miss it.
  assert.ok(Math.abs(counts.a! / n - 0.2) < 0.01, JSON.stringify(counts));
  assert.ok(Math.abs(counts.b! / n - 0.3) < 0.01, JSON.stringify(counts));
  assert.ok(Math.abs(counts.c! / n - 0.5) < 0.01, JSON.stringify(counts));
  for (let i = 0; i < 1000; i++) {
    const ctx = { targetingKey: `user-${i}` };
    assert.equal(f.evaluate(ctx, NOW).variant, f.evaluate({ ...ctx, other: 1 }, NOW + 86_400_000).variant);
  }
  // The bucket is the flag's and the key's: another flag splits the same users differently.
  const moved = Array.from(
    { length: 1000 },
    (_, i) => bucketOf("summariser", `u${i}`) !== bucketOf("other", `u${i}`),
  );
  assert.ok(moved.filter(Boolean).length > 990);
  assert.ok(bucketOf("x", "y") >= 0 && bucketOf("x", "y") < BUCKETS);
});

test("a 0-weight slice gets nobody, a 100% one everybody", () => {
  const f = compileFlag({
    key: "z",
    type: "number",
    variants: { none: 0, all: 1 },
    defaultVariant: "none",
    enabled: true,
    rules: [
      {
        rollout: [
          { variant: "none", weight: 0 },
          { variant: "all", weight: 7 },
        ],
      },
    ],
  });
  for (let i = 0; i < 2000; i++) assert.equal(f.evaluate({ targetingKey: String(i) }, NOW).value, 1);
});

test("a rollout without a targeting key is an error TARGETING_KEY_MISSING (the caller's default applies)", () => {
  const f = compileFlag(version);
  const r = f.evaluate({ tenant: "acme" }, NOW);
  assert.equal(r.reason, "ERROR");
  assert.equal(r.errorCode, "TARGETING_KEY_MISSING");
  assert.equal(r.value, undefined);
  assert.equal(f.evaluate({ tenant: "acme", targetingKey: "" }, NOW).errorCode, "TARGETING_KEY_MISSING");
  assert.equal(
    f.evaluate({ region: "us" }, NOW).reason,
    "DEFAULT",
    "a rule whose condition fails needs no key",
  );
});

test("a schedule: on from onAt inclusive, off from offAt inclusive", () => {
  const onAt = "2026-12-10T00:00:00Z";
  const offAt = "2026-12-20T00:00:00Z";
  const f = compileFlag({ ...version, schedule: { onAt, offAt } });
  const at = (iso: string, delta = 0) => f.evaluate({ tenant: "internal" }, Date.parse(iso) + delta).reason;
  assert.equal(at(onAt, -1), "DISABLED");
  assert.equal(at(onAt), "TARGETING_MATCH");
  assert.equal(at(offAt, -1), "TARGETING_MATCH");
  assert.equal(at(offAt), "DISABLED");
  assert.throws(() => compileFlag({ ...version, schedule: { onAt: offAt, offAt: onAt } }), /schedule.offAt/);
  assert.throws(() => compileFlag({ ...version, schedule: { onAt: "tomorrow" } }), /schedule.onAt/);
});

test("a flag set: an unknown key is FLAG_NOT_FOUND, a typed call on another type TYPE_MISMATCH", () => {
  const set = new FlagSet([compileFlag(version)]);
  assert.equal(set.evaluate("nope", {}, NOW).errorCode, "FLAG_NOT_FOUND");
  const r = set.evaluate(version.key, { tenant: "internal" }, NOW, "boolean");
  assert.deepEqual([r.reason, r.errorCode], ["ERROR", "TYPE_MISMATCH"]);
  assert.equal(set.evaluate(version.key, { tenant: "internal" }, NOW, "string").variant, "canary");
});

test("a definition that does not hold together is refused naming the field", () => {
  const bad = (over: Partial<FlagDefinition>, at: string) =>
    assert.throws(
      () => compileFlag({ ...version, ...over }),
      (e: unknown) => e instanceof FlagDefinitionError && e.at === at,
      at,
    );
  bad({ variants: { production: true } }, "variants.production");
  bad({ defaultVariant: "nope" }, "defaultVariant");
  bad({ rules: [{ variant: "nope" }] }, "rules.0.variant");
  bad({ rules: [{ rollout: [{ variant: "canary", weight: -1 }] }] }, "rules.0.rollout.0.weight");
  bad({ rules: [{ rollout: [{ variant: "canary", weight: 0 }] }] }, "rules.0.rollout");
  bad({ rules: [{ when: { tenant: { $bogus: 1 } }, variant: "canary" }] }, "rules.0.when.tenant.$bogus");
  bad({ rules: [{ when: { "a..b": 1 }, variant: "canary" }] }, "rules.0.when.a..b");
  bad({ key: "no spaces" }, "key");
  bad({ variants: {} }, "variants");
});

test("results are shared and frozen: evaluating allocates no result", () => {
  const f = compileFlag(version);
  const a = f.evaluate({ tenant: "internal" }, NOW);
  assert.equal(a, f.evaluate({ tenant: "internal" }, NOW));
  assert.ok(Object.isFrozen(a));
});

test("model targets: versions always, aliases by shape, other strings not", () => {
  const t = modelTargets({
    variants: {
      a: "support-assistant@1.2.0",
      b: "support-assistant@canary",
      c: "ops@example.com",
      d: "plain",
      e: true,
    },
  });
  assert.deepEqual(
    t.map((x) => [x.variant, x.model, x.ref, x.kind]),
    [
      ["a", "support-assistant", "1.2.0", "version"],
      ["b", "support-assistant", "canary", "alias"],
      ["c", "ops", "example.com", "alias"],
    ],
  );
});
