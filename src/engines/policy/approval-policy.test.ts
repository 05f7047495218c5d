import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ApprovalRule,
  DEFAULT_RULE,
  evaluate,
  requirementsFor,
  strictestOf,
} from "./approval-policy.ts";

const rule = (over: Partial<ApprovalRule>): ApprovalRule => ({ ...DEFAULT_RULE, ...over });
const model = { name: "bot", riskTier: "high", useCases: ["support", "sales"] };

test("matching rules combine: strictest quorum, union of evidence, shortest lifetime", () => {
  const req = requirementsFor(
    [
      rule({ name: "all", roles: { engineering: 1 }, evidence: ["card"], signoffTtlDays: 90 }),
      rule({
        name: "high",
        match: { riskTiers: ["high"] },
        roles: { engineering: 2, compliance: 1 },
        evidence: ["fairness"],
        signoffTtlDays: 30,
      }),
      rule({ name: "other-model", match: { models: ["x"] }, roles: { executive: 1 } }),
      rule({ name: "support", match: { useCases: ["support"], riskTiers: ["low"] }, roles: { security: 1 } }),
    ],
    model,
  );
  assert.deepEqual(req, {
    rules: ["all", "high"],
    roles: { engineering: 2, compliance: 1 },
    evidence: ["card", "fairness"],
    gates: [],
    gatesHash: null,
    acceptAttested: ["benchmark"],
    signoffTtlDays: 30,
    allowSameSignerForMultipleRoles: false,
  });
});

test("no matching rule falls back to the default rule", () => {
  assert.deepEqual(requirementsFor([rule({ name: "x", match: { models: ["x"] } })], model).rules, [
    "default",
  ]);
});

test("quorum counts distinct unexpired approvals; card and evidence must be unchanged", () => {
  const req = requirementsFor(
    [
      rule({
        name: "r",
        roles: { engineering: 2 },
        evidence: ["card", "benchmark"],
        acceptAttested: ["benchmark"],
        signoffTtlDays: 10,
      }),
    ],
    model,
  );
  const at = new Date("2026-01-20T00:00:00Z");
  const ev = { kind: "benchmark", contentHash: "h1", passed: true };
  const facts = {
    status: "pending" as const,
    cardHash: "c1",
    evidence: [ev],
    signoffs: [
      { signer: "a", role: "engineering", decision: "approve" as const, signedAt: "2026-01-19T00:00:00Z" },
      { signer: "b", role: "engineering", decision: "approve" as const, signedAt: "2026-01-01T00:00:00Z" },
    ],
  };
  const current = { cardHash: "c1", cardComplete: true, cardMissing: [], evidence: [ev] };
  const v = evaluate(req, facts, current, at);
  assert.equal(v.satisfied, false);
  assert.deepEqual(v.unmet, [
    { requirement: "role:engineering", reason: "1 of 2 engineering sign-off(s); expired: b" },
  ]);
  const fresh = {
    ...facts,
    signoffs: [facts.signoffs[0]!, { ...facts.signoffs[1]!, signedAt: "2026-01-15T00:00:00Z" }],
  };
  assert.equal(evaluate(req, fresh, current, at).satisfied, true);
  assert.match(
    JSON.stringify(evaluate(req, fresh, { ...current, cardHash: "c2" }, at).unmet),
    /card changed/,
  );
  assert.match(
    JSON.stringify(evaluate(req, fresh, { ...current, evidence: [{ ...ev, contentHash: "h2" }] }, at).unmet),
    /benchmark evidence changed/,
  );
  assert.match(
    JSON.stringify(evaluate(req, fresh, { ...current, evidence: [{ ...ev, passed: false }] }, at).unmet),
    /did not pass/,
  );
  assert.match(
    JSON.stringify(
      evaluate(req, fresh, { ...current, cardComplete: false, cardMissing: ["metrics"] }, at).unmet,
    ),
    /incomplete: metrics/,
  );
  assert.match(
    JSON.stringify(evaluate(req, { ...fresh, status: "rejected" }, current, at).unmet),
    /rejected/,
  );
});

test("strictestOf: both sets of requirements at once, the gate content of the one in force", () => {
  const madeUnder = {
    rules: ["high-risk"],
    roles: { engineering: 1, compliance: 1 },
    evidence: ["card" as const, "benchmark" as const],
    gates: [],
    gatesHash: null,
    signoffTtlDays: 30,
    allowSameSignerForMultipleRoles: true,
  };
  const now = {
    rules: ["high-risk", "security-review"],
    roles: { engineering: 2, security: 1 },
    evidence: ["card" as const, "benchmark-passed" as const],
    gates: ["support-release"],
    gatesHash: "sha256:gates",
    acceptAttested: ["fairness" as const],
    signoffTtlDays: 90,
    allowSameSignerForMultipleRoles: false,
  };
  assert.deepEqual(strictestOf(madeUnder, now), {
    rules: ["high-risk", "security-review"],
    roles: { engineering: 2, compliance: 1, security: 1 },
    evidence: ["card", "benchmark", "benchmark-passed"],
    gates: ["support-release"],
    gatesHash: "sha256:gates",
    // A request made before provenance was recorded accepted attested reports; the policy in
    // force now accepts them for fairness only.
    acceptAttested: ["fairness"],
    signoffTtlDays: 30,
    allowSameSignerForMultipleRoles: false,
  });
  // Nothing adopted since: the request's own requirements (with what it accepted spelled out).
  assert.deepEqual(strictestOf(madeUnder, madeUnder), {
    ...madeUnder,
    acceptAttested: ["benchmark", "fairness"],
  });
});

test("attested evidence counts only where the rule accepts it; computed evidence stands in for it", () => {
  const at = new Date("2026-01-20T00:00:00Z");
  const signoffs = [
    { signer: "a", role: "engineering", decision: "approve" as const, signedAt: "2026-01-19T00:00:00Z" },
  ];
  const attested = {
    kind: "fairness",
    contentHash: "h1",
    passed: true,
    provenance: "attested" as const,
    attachedBy: "frank",
  };
  const request = { status: "pending" as const, cardHash: "c1", evidence: [attested], signoffs };
  const current = { cardHash: "c1", cardComplete: true, cardMissing: [], evidence: [attested] };
  const strict = requirementsFor([rule({ name: "r", evidence: ["card", "fairness"] })], model);
  // Kinds no rule asks for are vacuously accepted (so that strictestOf can intersect).
  assert.deepEqual(strict.acceptAttested, ["benchmark"]);
  const v = evaluate(strict, request, current, at);
  assert.equal(v.satisfied, false);
  assert.deepEqual(
    v.unmet.map((u) => u.requirement),
    ["evidence:fairness"],
  );
  assert.match(v.unmet[0]!.reason, /attached by frank is attested, not computed/);
  assert.match(
    v.unmet[0]!.reason,
    /add a release gate with fairness, or list fairness under the rule's acceptAttested/,
  );

  // The rule accepts attested fairness reports: the same evidence meets it.
  const lenient = requirementsFor(
    [rule({ name: "r", evidence: ["card", "fairness"], acceptAttested: ["fairness"] })],
    model,
  );
  assert.equal(evaluate(lenient, request, current, at).satisfied, true);
  // Two rules ask for fairness; one accepts attested reports and one does not: not accepted.
  const both = requirementsFor(
    [
      rule({ name: "r", evidence: ["card", "fairness"], acceptAttested: ["fairness"] }),
      rule({ name: "s", evidence: ["fairness"] }),
    ],
    model,
  );
  assert.deepEqual(both.acceptAttested, ["benchmark"]);
  assert.equal(evaluate(both, request, current, at).satisfied, false);

  // A release gate judging fairness applies: the computed run stands for the fairness requirement.
  const gate = { name: "g", match: {}, fairness: { maxGapPoints: 10 } };
  const gated = requirementsFor([rule({ name: "r", evidence: ["card", "fairness"] })], model, [gate]);
  assert.deepEqual(gated.evidence, ["card", "fairness", "benchmark-passed", "fairness-passed"]);
  const run = (kind: string) => ({
    kind,
    contentHash: "run1",
    passed: true,
    provenance: "computed" as const,
    details: { runId: "run_1", gatesHash: gated.gatesHash },
  });
  const computed = [run("benchmark-passed"), run("fairness-passed")];
  const ok = evaluate(gated, { ...request, evidence: computed }, { ...current, evidence: computed }, at);
  assert.deepEqual(ok.unmet, []);
  // The attested report alone does not meet it, under the gate either.
  const notOk = evaluate(gated, request, current, at);
  assert.deepEqual(
    notOk.unmet.map((u) => u.requirement),
    ["evidence:benchmark-passed", "evidence:fairness-passed"],
  );
});
