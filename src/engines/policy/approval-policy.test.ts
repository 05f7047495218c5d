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
    [rule({ name: "r", roles: { engineering: 2 }, evidence: ["card", "benchmark"], signoffTtlDays: 10 })],
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
    signoffTtlDays: 90,
    allowSameSignerForMultipleRoles: false,
  };
  assert.deepEqual(strictestOf(madeUnder, now), {
    rules: ["high-risk", "security-review"],
    roles: { engineering: 2, compliance: 1, security: 1 },
    evidence: ["card", "benchmark", "benchmark-passed"],
    gates: ["support-release"],
    gatesHash: "sha256:gates",
    signoffTtlDays: 30,
    allowSameSignerForMultipleRoles: false,
  });
  // Nothing adopted since: the request's own requirements, unchanged.
  assert.deepEqual(strictestOf(madeUnder, madeUnder), madeUnder);
});
