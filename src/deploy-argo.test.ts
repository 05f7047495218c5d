// deploy/argo checked offline: the AnalysisTemplates' outcome for each verdict, and the example
// Rollout's references (templates, args, Services, secrets).

import assert from "node:assert/strict";
import path from "node:path";
import { describe, test } from "node:test";
import { type Loose, readYamlDocuments } from "./test-support/kustomize.ts";
import { deploy, exampleSecrets, secretRefs, validate } from "./test-support/manifests.ts";

/** The result a metric's conditions give a verdict: Argo's successCondition first, then failureCondition. */
function outcome(metric: { successCondition?: string; failureCondition?: string }, verdict: string) {
  const holds = (condition: string | undefined) => {
    if (condition === undefined) return false;
    const m = /^result (==|!=) "(\w+)"$/.exec(condition);
    assert.ok(m, `a condition this test can read: ${condition}`);
    return m[1] === "==" ? verdict === m[2] : verdict !== m[2];
  };
  const success = holds(metric.successCondition);
  const failure = holds(metric.failureCondition);
  assert.ok(!(success && failure), `${verdict} is both a success and a failure`);
  return success ? "Successful" : failure ? "Failed" : "Inconclusive";
}

describe("deploy/argo: AnalysisTemplates and the example Rollout", () => {
  const templates = readYamlDocuments(path.join(deploy, "argo", "analysis-templates.yaml")) as Loose[];
  const gate = templates.find((t) => t.metadata.name === "modelgov-verdict");
  const guard = templates.find((t) => t.metadata.name === "modelgov-guard");

  test("the gate: promote succeeds, rollback fails, hold is inconclusive (the Rollout pauses for a person)", () => {
    const m = gate.spec.metrics[0];
    assert.equal(outcome(m, "promote"), "Successful");
    assert.equal(outcome(m, "rollback"), "Failed");
    assert.equal(outcome(m, "hold"), "Inconclusive");
    assert.equal(m.count, 1, "one measurement: a gate");
    assert.equal(m.failureLimit, 0, "one rollback fails the run");
    assert.equal(m.inconclusiveLimit, 0, "one hold makes the run inconclusive");
  });

  test("the guard: only rollback fails it, at the first one, for the whole canary", () => {
    const m = guard.spec.metrics[0];
    assert.equal(outcome(m, "rollback"), "Failed");
    assert.equal(outcome(m, "hold"), "Successful");
    assert.equal(outcome(m, "promote"), "Successful");
    assert.equal(m.failureLimit, 0);
    assert.equal(m.count, undefined, "runs until the Rollout ends");
    assert.match(m.interval, /^\d+s$/);
  });

  test("the example Rollout validates, and names templates, args and Services that exist", () => {
    const docs = readYamlDocuments(path.join(deploy, "argo", "rollout.example.yaml")) as Loose[];
    const rollout = docs.find((d) => d.kind === "Rollout");
    validate(rollout, "argo/rollout.example.yaml");
    const canary = rollout.spec.strategy.canary;
    const services = new Set(docs.filter((d) => d.kind === "Service").map((d) => d.metadata.name));
    assert.ok(services.has(canary.canaryService) && services.has(canary.stableService));
    const uses = [
      canary.analysis,
      ...canary.steps.filter((s: Loose) => s.analysis).map((s: Loose) => s.analysis),
    ];
    assert.ok(uses.length >= 2, "a background guard and at least one gate");
    for (const use of uses)
      for (const ref of use.templates) {
        const t = templates.find((x) => x.metadata.name === ref.templateName);
        assert.ok(t, `template ${ref.templateName}`);
        const given = new Set(use.args.map((a: { name: string }) => a.name));
        const required = t.spec.args.filter((a: Loose) => a.value === undefined && a.valueFrom === undefined);
        for (const a of required) assert.ok(given.has(a.name), `${ref.templateName} needs ${a.name}`);
        assert.match(use.args.find((a: Loose) => a.name === "candidate").value, /^\d+\.\d+\.\d+/);
      }
    assert.ok(canary.analysis.templates.some((t: Loose) => t.templateName === "modelgov-guard"));
  });

  test("the templates' token comes from a secret the example shows", () => {
    for (const t of templates)
      for (const [name, key] of secretRefs(t)) {
        const s = exampleSecrets.find((x) => x.metadata.name === name);
        assert.ok(s && key && key in s.stringData, `${name}/${key}`);
      }
  });
});
