import assert from "node:assert/strict";
import { test } from "node:test";
import { trainHashedLogistic } from "../../../engines/routing/index.ts";
import { RouterPolicySchema } from "../../../providers/router/registration.ts";
import { compileRouter, type RouterInput, RouterPolicyError } from "./router.ts";

const input = (text: string, over: Partial<RouterInput> = {}): RouterInput => ({
  text,
  tokensIn: Math.ceil(text.length / 4),
  turns: 1,
  toolsOffered: 0,
  metadata: {},
  params: {},
  features: {},
  ...over,
});
const TIERS = [
  { name: "cheap", target: "support-small" },
  { name: "strong", target: "support-large@2.1.0" },
];

test("rules: the first condition that holds picks its tier; none, the default", () => {
  const r = compileRouter({
    tiers: [...TIERS, { name: "legal", target: "legal-specialist@production" }],
    classifier: {
      kind: "rules",
      rules: [
        { when: { "metadata.domain": { $in: ["legal", "compliance"] } }, tier: "legal" },
        {
          when: { $or: [{ "features.tokens_in": { $gt: 2000 } }, { "params.tools": { $exists: true } }] },
          tier: "strong",
        },
      ],
      default: "cheap",
    },
  });
  assert.equal(r.policy.strategy, "route");
  assert.deepEqual(r.pick(input("hi", { metadata: { domain: "legal" } })), {
    tier: { name: "legal", target: "legal-specialist@production" },
    reason: "rules:0",
  });
  assert.equal(r.pick(input("hi", { features: { tokens_in: 5000 } })).reason, "rules:1");
  assert.equal(r.pick(input("hi", { params: { tools: [] } })).tier.name, "strong");
  assert.deepEqual(r.pick(input("hi")), { tier: TIERS[0], reason: "rules:default" });
});

test("complexity: the score against ascending thresholds, one band per tier", () => {
  const r = compileRouter({ tiers: TIERS, classifier: { kind: "complexity", thresholds: [0.5] } });
  const easy = r.pick(input("What are your opening hours?"));
  assert.equal(easy.tier.name, "cheap");
  assert.match(easy.reason, /^complexity:0\.\d{3}$/);
  const hard = r.pick(
    input(
      "Compare both designs and explain why the first deadlocks; prove the fix step by step.\n```go\nmu.Lock()\n```\nWhat are the trade-offs?",
      { tokensIn: 1200, turns: 3 },
    ),
  );
  assert.equal(hard.tier.name, "strong");
  // Weights may be overridden: a bias high enough sends everything to the strong tier.
  const always = compileRouter({
    tiers: TIERS,
    classifier: { kind: "complexity", thresholds: [0.5], weights: { bias: 10 } },
  });
  assert.equal(always.pick(input("hi")).tier.name, "strong");
});

test("trained: the most probable tier, or the stronger one past a calibrated threshold", () => {
  const { model } = trainHashedLogistic(
    [
      { text: "opening hours", label: "cheap" },
      { text: "where is my parcel", label: "cheap" },
      { text: "prove the theorem and derive the bound", label: "strong" },
      { text: "design a distributed lock and prove it correct", label: "strong" },
    ],
    { l2: 0.1 },
  );
  const r = compileRouter({ tiers: TIERS, classifier: { kind: "trained", model } });
  assert.equal(r.pick(input("prove the bound")).tier.name, "strong");
  assert.equal(r.pick(input("opening hours today")).tier.name, "cheap");
  assert.match(r.pick(input("prove the bound")).reason, /^trained:strong p=0\.\d{3}$/);
  // A threshold of 0 sends everything to the stronger tier; 1, nothing.
  assert.equal(
    compileRouter({ tiers: TIERS, classifier: { kind: "trained", model, threshold: 0 } }).pick(
      input("opening hours"),
    ).tier.name,
    "strong",
  );
  assert.equal(
    compileRouter({ tiers: TIERS, classifier: { kind: "trained", model, threshold: 1 } }).pick(
      input("prove the bound"),
    ).tier.name,
    "cheap",
  );
});

test("cascades and ensembles keep their tiers in order", () => {
  const c = compileRouter({ strategy: "cascade", tiers: TIERS, escalateWhen: { refusal: true } });
  assert.deepEqual(c.tiers, TIERS);
  assert.deepEqual(c.policy.escalateWhen, {
    refusal: true,
    invalidJson: true,
    finishReasons: ["length", "content_filter"],
    error: true,
  });
  const e = compileRouter({
    strategy: "ensemble",
    tiers: TIERS,
    combine: { by: "majority", field: "/label" },
  });
  assert.equal(e.policy.combine?.by, "majority");
});

test("a bad policy is refused naming the field and the reason", () => {
  const refused = (policy: unknown, path: string, why: RegExp) => {
    const r = RouterPolicySchema.safeParse(policy);
    assert.equal(r.success, false, JSON.stringify(policy));
    const issue = r.error!.issues.find((i) => i.path.join(".") === path);
    assert.ok(issue, `${path} in ${JSON.stringify(r.error!.issues)}`);
    assert.match(issue.message, why);
  };
  refused({ tiers: TIERS }, "classifier", /route needs a classifier/);
  refused(
    { tiers: [...TIERS, TIERS[0]], classifier: { kind: "complexity", thresholds: [0.3, 0.6] } },
    "tiers.2.name",
    /named twice/,
  );
  refused(
    { tiers: TIERS, classifier: { kind: "complexity", thresholds: [0.3, 0.6] } },
    "classifier.thresholds",
    /2 tiers need 1 threshold/,
  );
  refused(
    {
      tiers: [...TIERS, { name: "x", target: "x" }],
      classifier: { kind: "complexity", thresholds: [0.6, 0.3] },
    },
    "classifier.thresholds.1",
    /ascend/,
  );
  refused(
    { tiers: TIERS, classifier: { kind: "rules", rules: [{ when: {}, tier: "nope" }], default: "cheap" } },
    "classifier.rules.0.tier",
    /no tier named "nope"/,
  );
  refused(
    {
      tiers: TIERS,
      classifier: { kind: "rules", rules: [{ when: { "user.x": 1 }, tier: "cheap" }], default: "cheap" },
    },
    "classifier.rules.0.when.user.x",
    /starts with metadata/,
  );
  refused({ strategy: "cascade", tiers: [TIERS[0]] }, "tiers", /at least two tiers/);
  refused(
    { strategy: "cascade", tiers: TIERS, classifier: { kind: "complexity", thresholds: [0.5] } },
    "classifier",
    /no classifier/,
  );
  refused({ strategy: "ensemble", tiers: TIERS }, "combine", /needs combine/);
  refused(
    { tiers: TIERS, classifier: { kind: "complexity", thresholds: [0.5] }, escalateWhen: {} },
    "escalateWhen",
    /cascade/,
  );
  refused(
    { tiers: [{ name: "Cheap", target: "a" }], classifier: { kind: "complexity", thresholds: [] } },
    "tiers.0.name",
    /lowercase/,
  );
  refused(
    {
      tiers: [{ name: "a", target: "bad model!" }, TIERS[1]],
      classifier: { kind: "complexity", thresholds: [0.5] },
    },
    "tiers.0.target",
    /model name/,
  );
  refused(
    { strategy: "ensemble", tiers: TIERS, combine: { by: "majority", field: "label" } },
    "combine.field",
    /JSON pointer/,
  );
  // The parts that call a model: an LLM classifier, judges, a JSON schema, a cost cap.
  const llm = { kind: "llm", target: "grader@1.0.0", rubric: "Hard ones to strong.", default: "cheap" };
  refused(
    { tiers: TIERS, classifier: { ...llm, default: "medium" } },
    "classifier.default",
    /no tier named "medium"/,
  );
  refused({ tiers: TIERS, classifier: { ...llm, target: "Grader!" } }, "classifier.target", /model name/);
  refused(
    { tiers: TIERS, classifier: { ...llm, rubric: "" } },
    "classifier.rubric",
    /too_small|at least|>=1/i,
  );
  refused(
    { tiers: TIERS, classifier: { ...llm, maxLatencyMs: 0 } },
    "classifier.maxLatencyMs",
    />=1|at least|too small/i,
  );
  refused({ strategy: "ensemble", tiers: TIERS, combine: { by: "judge" } }, "combine.judge", /needs a judge/);
  refused(
    { strategy: "ensemble", tiers: TIERS, combine: { by: "majority", judge: "grader" } },
    "combine.judge",
    /applies to by: judge/,
  );
  refused(
    {
      strategy: "cascade",
      tiers: TIERS,
      escalateWhen: { judge: { target: "grader", rubric: "x", below: 1.5 } },
    },
    "escalateWhen.judge.below",
    /1|too big|<=/,
  );
  refused(
    { strategy: "cascade", tiers: TIERS, escalateWhen: { jsonSchema: { type: "object", oneOf: [] } } },
    "escalateWhen.jsonSchema",
    /oneOf/,
  );
  refused(
    { strategy: "cascade", tiers: TIERS, escalateWhen: { jsonSchema: { type: "string", format: "zip" } } },
    "escalateWhen.jsonSchema",
    /unknown format "zip"/,
  );
  refused(
    { tiers: TIERS, classifier: { kind: "complexity", thresholds: [0.5] }, maxCostUsd: 0.01 },
    "maxCostUsd",
    /cascade or an ensemble/,
  );
  refused({ strategy: "cascade", tiers: TIERS, maxCostUsd: 0 }, "maxCostUsd", />0|positive|too small/i);
  const ok = RouterPolicySchema.parse({ tiers: TIERS, classifier: llm });
  assert.deepEqual(ok.classifier, { ...llm, maxLatencyMs: 2000, maxInputChars: 2000 }, "defaults filled in");
  assert.throws(
    () => compileRouter({ tiers: TIERS }),
    (e: unknown) => e instanceof RouterPolicyError && /classifier/.test(e.message),
  );
});
