import assert from "node:assert/strict";
import { test } from "node:test";
import { type Routing, routingSeries, thresholdLabel } from "./routing-series.ts";

const figures = (cases: number, passed: number, cost: number) => ({
  cases,
  passed,
  successRate: passed / cases,
  costUsd: cost * cases,
  costPerCaseUsd: cost,
  costPerSuccessUsd: (cost * cases) / passed,
});

/** A two-tier router's section as the API gives it (modules/evals/routing.ts). */
const ROUTING: Routing = {
  strategy: "route",
  classifier: "complexity",
  threshold: 0.3,
  tiers: [
    { tier: "cheap", target: "desk@1.0.0", versionIds: ["ver_a"], calls: 3, ...figures(3, 3, 0.05) },
    { tier: "strong", target: "desk@2.0.0", versionIds: ["ver_b"], calls: 1, ...figures(1, 1, 1) },
  ],
  unanswered: 0,
  overall: figures(4, 4, 0.2875),
  baselines: [
    { tier: "cheap", version: "desk@1.0.0", versionId: "ver_a", runId: "evr_1", ...figures(4, 3, 0.05) },
    { tier: "strong", version: "desk@2.0.0", versionId: "ver_b", runId: "evr_2", ...figures(4, 4, 1) },
  ],
  versusStrong: { successShare: 1, costShare: 0.2875 },
  curve: {
    cases: 4,
    points: [
      { threshold: null, strongShare: 0, successRate: 0.75, costPerCaseUsd: 0.05 },
      { threshold: 0.61, strongShare: 0.25, successRate: 1, costPerCaseUsd: 0.2875 },
      { threshold: null, strongShare: 1, successRate: 1, costPerCaseUsd: 1 },
    ],
    current: { threshold: 0.3, strongShare: 0.25, successRate: 1, costPerCaseUsd: 0.2875 },
  },
  notes: [],
};

test("the curve runs from all-cheap to all-strong with the API's numbers; the marks name each point", () => {
  const s = routingSeries(ROUTING);
  assert.deepEqual(
    s.curve.map((p) => [p.cost, p.success, p.threshold]),
    [
      [0.05, 0.75, "none (all cheap)"],
      [0.2875, 1, "0.610"],
      [1, 1, "0 (all strong)"],
    ],
  );
  assert.deepEqual(
    s.marks.map((m) => [m.kind, m.name, m.cost, m.success]),
    [
      ["current", "threshold 0.300 (on the curve)", 0.2875, 1],
      ["measured", "the router, as run", 0.2875, 1],
      ["tier", "always-cheap (desk@1.0.0)", 0.05, 0.75],
      ["tier", "always-strong (desk@2.0.0)", 1, 1],
    ],
  );
});

test("without tier runs there is no curve and no tier mark; a missing baseline is left out", () => {
  const s = routingSeries({
    ...ROUTING,
    curve: null,
    baselines: [
      { ...ROUTING.baselines[0]!, runId: null, missing: "no completed run" },
      ROUTING.baselines[1]!,
    ],
  });
  assert.deepEqual(s.curve, []);
  assert.deepEqual(
    s.marks.map((m) => m.kind),
    ["measured", "tier"],
  );
  assert.equal(thresholdLabel({ threshold: 0.25, strongShare: 0.5 }), "0.250");
});
