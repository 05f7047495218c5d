import assert from "node:assert/strict";
import { test } from "node:test";
import { BUILTIN_SCORERS, expectProblem, scoreCase, scorerNamed } from "./registry.ts";

test("scorerNamed knows the nine built-ins and nothing else", () => {
  assert.deepEqual(BUILTIN_SCORERS, [
    "exact_match",
    "contains",
    "regex",
    "json_valid",
    "json_schema",
    "numeric",
    "label",
    "refusal",
    "safety",
  ]);
  assert.equal(scorerNamed("contains")?.score({ text: "ab" }, { contains: "b" }, {}).passed, true);
  assert.equal(scorerNamed("llm_judge"), undefined);
  assert.equal(scorerNamed("toString"), undefined);
});

test("scoreCase: passed only when all pass, score is the mean, reason names the failures", () => {
  const r = scoreCase(
    [{ kind: "contains", require: "all" }, { kind: "safety" }, { kind: "regex", pattern: "^Hallo" }],
    { text: "Hello, your refund is on its way." },
    { contains: ["refund", "invoice"] },
  );
  assert.equal(r.passed, false);
  assert.ok(Math.abs(r.score - (0.5 + 1 + 0) / 3) < 1e-12);
  assert.deepEqual(
    r.results.map((x) => [x.kind, x.passed]),
    [
      ["contains", false],
      ["safety", true],
      ["regex", false],
    ],
  );
  assert.match(r.reason, /^contains: missing "invoice"; regex: does not match/);
  const ok = scoreCase([{ kind: "exact_match", caseInsensitive: true }], { text: "YES" }, { equals: "yes" });
  assert.deepEqual([ok.passed, ok.score, ok.reason], [true, 1, "all 1 scorers passed"]);
});

test("scoreCase and expectProblem refuse empty lists and unknown kinds", () => {
  assert.throws(() => scoreCase([], { text: "" }, {}), /scorers is empty/);
  assert.throws(() => scoreCase([{ kind: "nope" } as never], { text: "" }, {}), /unknown scorer kind "nope"/);
  assert.equal(expectProblem({ kind: "numeric" }, { number: 3 }), undefined);
  assert.match(expectProblem({ kind: "numeric" }, { equals: "3" }) ?? "", /needs expect\.number/);
});
