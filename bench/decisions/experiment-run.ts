// One simulated A/B experiment, looked at the way the watcher looks: every `lookEveryS`
// seconds the engine's results over every arm's totals so far, the previous look's
// always-valid state carried as the service carries it (only once the minimum is met). A
// guardrail breach stops the run; a "ship" recommendation at any look counts as shipped (a
// person reading the results page then would ship). At the planned horizon the run ends with
// the engine's last recommendation.

import { type ExperimentInput, experimentResults } from "../../src/engines/experiments/index.ts";
import type { Guardrail } from "../../src/engines/experiments/types.ts";
import type { SequentialResult } from "../../src/engines/stats/index.ts";
import type { Random } from "./random.ts";
import { addTraffic, type Behaviour, bucketProbabilities, emptyWindow } from "./traffic.ts";

export type ExperimentOutcome = "stopped" | "shipped" | "no_difference" | "stuck";

export interface ExperimentRunResult {
  outcome: ExperimentOutcome;
  seconds: number;
  treatmentRequests: number;
  decidedBy: string;
  /** A fixed-horizon p below alpha was shown at some look. */
  fixedPShownSignificant: boolean;
}

export interface ExperimentDesign {
  guardrails: Guardrail[];
  samplePerArm: number;
  baselineRate: number;
  minSamplePerArm: number;
  lookEveryS: number;
}

export const EXPERIMENT_DESIGN: ExperimentDesign = {
  guardrails: [
    { metric: "error_rate", max: 0.01 },
    { metric: "latency_p95_ms", maxRelativeIncrease: 0.2 },
    { metric: "cost_per_request_usd", maxRelativeIncrease: 0.1 },
  ],
  samplePerArm: 10_000,
  baselineRate: 0.9,
  minSamplePerArm: 100,
  lookEveryS: 2,
};

export function simulateExperiment(
  design: ExperimentDesign,
  rps: number,
  control: Behaviour,
  treatment: Behaviour,
  random: Random,
): ExperimentRunResult {
  const arms = [
    { name: "control", behaviour: control, probs: bucketProbabilities(control), w: emptyWindow() },
    { name: "b", behaviour: treatment, probs: bucketProbabilities(treatment), w: emptyWindow() },
  ];
  let previous: Record<string, SequentialResult> = {};
  let fixedShown = false;
  // Far past the horizon: a run that never gets there is stuck.
  const horizonS = (4 * design.samplePerArm) / (rps * 0.5) + 60;
  let t = 0;
  while (t < horizonS) {
    for (const a of arms) {
      const n = random.poisson(rps * 0.5 * design.lookEveryS);
      addTraffic(a.w, a.behaviour, a.probs, n, random.binomial(n, a.behaviour.errorRate), random);
    }
    t += design.lookEveryS;
    const input: ExperimentInput = {
      arms: arms.map((a) => ({
        name: a.name,
        version: a.name === "control" ? "1.0.0" : "1.1.0",
        weight: 50,
        requests: a.w.requests,
        errors: a.w.errors,
        feedbackCount: a.w.feedbackCount,
        successes: a.w.successes,
        costUsd: a.w.costUsd,
        costSumSquares: a.w.costSumSquares,
        latencyP95Ms: null,
        latencyHistogram: a.w.latencyHistogram,
      })),
      primary: "success_rate",
      secondary: ["error_rate"],
      guardrails: design.guardrails,
      minSamplePerArm: design.minSamplePerArm,
      plan: { samplePerArm: design.samplePerArm, baselineRate: design.baselineRate },
      previousLooks: previous,
    };
    const r = experimentResults(input);
    if (r.primary.some((c) => c.pValue !== null && c.pValue < 0.05)) fixedShown = true;
    const treatmentRequests = arms[1]!.w.requests;
    const rec = r.recommendation;
    const out = (outcome: ExperimentOutcome, decidedBy: string): ExperimentRunResult => ({
      outcome,
      seconds: t,
      treatmentRequests,
      decidedBy,
      fixedPShownSignificant: fixedShown,
    });
    if (rec.decision === "stopped_by_guardrail")
      return out(
        "stopped",
        r.guardrails
          .filter((g) => g.status === "breached")
          .map((g) => g.metric)
          .join("+"),
      );
    if (rec.decision === "ship") return out("shipped", `ship ${rec.arm}`);
    if (rec.decision === "no_difference") return out("no_difference", "horizon");
    previous = {};
    if (r.minimumMet)
      for (const c of r.primary) if (c.sequential && c.sequential.se > 0) previous[c.arm] = c.sequential;
  }
  return {
    outcome: "stuck",
    seconds: t,
    treatmentRequests: arms[1]!.w.requests,
    decidedBy: "horizon",
    fixedPShownSignificant: fixedShown,
  };
}
