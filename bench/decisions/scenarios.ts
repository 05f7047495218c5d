// The decision benchmark's scenarios: what the candidate does differently from the baseline,
// under which plan and at which traffic. Margins are read from the plan itself, so "exactly at
// the margin" stays exact when a plan changes.

import { BUILT_IN_PLANS } from "../../src/engines/rollout/index.ts";
import type { Plan } from "../../src/engines/rollout/types.ts";
import { BASELINE, type Behaviour } from "./traffic.ts";

export interface RolloutScenario {
  kind: "rollout";
  id: string;
  plan: string;
  rps: number;
  describe: string;
  candidate: Behaviour;
}

const metric = <K extends Plan["metrics"][number]["kind"]>(plan: Plan, kind: K) =>
  plan.metrics.find((m) => m.kind === kind) as Extract<Plan["metrics"][number], { kind: K }> | undefined;

const withSuccess = (f: (p: number, group: string) => number): Behaviour => ({
  ...BASELINE,
  success: Object.fromEntries(Object.entries(BASELINE.success).map(([g, p]) => [g, f(p, g)])),
});

/** The candidates of every rollout scenario under one plan. */
export function rolloutCandidates(plan: Plan): { id: string; describe: string; candidate: Behaviour }[] {
  const success = metric(plan, "success_rate");
  const errors = metric(plan, "error_rate");
  const latency = metric(plan, "latency_p95_ms");
  const gap = metric(plan, "group_success_gap");
  const atMargin = (p: number) =>
    success?.maxRelativeDrop !== undefined
      ? p * (1 - success.maxRelativeDrop)
      : p - (success?.maxDropPoints ?? 0) / 100;
  const out = [
    { id: "aa", describe: "identical candidate", candidate: { ...BASELINE } },
    {
      id: "margin",
      describe: "success rate exactly at the non-inferiority margin",
      candidate: withSuccess((p) => atMargin(p)),
    },
    {
      id: "margin-errors",
      describe: `error rate exactly at the ${(errors?.max ?? 0) * 100}% limit`,
      candidate: { ...BASELINE, errorRate: errors?.max ?? BASELINE.errorRate },
    },
    {
      id: "margin-latency",
      describe: `latency exactly at +${(latency?.maxRelativeIncrease ?? 0) * 100}%`,
      candidate: {
        ...BASELINE,
        latencyMedianMs: BASELINE.latencyMedianMs * (1 + (latency?.maxRelativeIncrease ?? 0)),
      },
    },
    {
      id: "margin-group",
      describe: `10% group exactly ${gap?.maxGapPoints ?? 0} points worse`,
      candidate: withSuccess((p, g) => (g === "a" ? p - (gap?.maxGapPoints ?? 0) / 100 : p)),
    },
    { id: "errors-3pct", describe: "errors 0.5% -> 3%", candidate: { ...BASELINE, errorRate: 0.03 } },
    { id: "success-minus-5", describe: "success -5 points", candidate: withSuccess((p) => p - 0.05) },
    { id: "success-minus-10", describe: "success -10 points", candidate: withSuccess((p) => p - 0.1) },
    {
      id: "group-minus-15",
      describe: "10% group 15 points worse",
      candidate: withSuccess((p, g) => (g === "a" ? p - 0.15 : p)),
    },
    {
      id: "latency-plus-50",
      describe: "latency +50%",
      candidate: { ...BASELINE, latencyMedianMs: BASELINE.latencyMedianMs * 1.5 },
    },
  ];
  return out;
}

export interface ExperimentScenario {
  kind: "experiment";
  id: string;
  plan: string;
  rps: number;
  describe: string;
  treatment: Behaviour;
}

export const RATES = [1, 10, 100, 1000] as const;

/** Experiment scenarios: identical arms (the false-alarm rate), and three real differences. */
export function experimentScenarios(): ExperimentScenario[] {
  const out: ExperimentScenario[] = [];
  const add = (id: string, describe: string, treatment: Behaviour, rates: readonly number[]) => {
    for (const rps of rates) out.push({ kind: "experiment", id, plan: "ab", rps, describe, treatment });
  };
  add("experiment-aa", "identical arms, guardrails on, a look every 2 s", { ...BASELINE }, [10, 100, 1000]);
  add(
    "experiment-better-3",
    "treatment success +3 points",
    withSuccess((p) => p + 0.03),
    [100],
  );
  add("experiment-errors-3pct", "treatment errors 0.5% -> 3%", { ...BASELINE, errorRate: 0.03 }, [100]);
  add(
    "experiment-latency-plus-50",
    "treatment latency +50%",
    { ...BASELINE, latencyMedianMs: BASELINE.latencyMedianMs * 1.5 },
    [100],
  );
  return out;
}

export function rolloutScenarios(): RolloutScenario[] {
  const out: RolloutScenario[] = [];
  for (const planName of ["default", "demo"]) {
    const plan = BUILT_IN_PLANS[planName]!();
    const candidates = rolloutCandidates(plan);
    // What `modelgov demo rollout` rolls out: fine overall, much worse for one large group.
    if (planName === "demo")
      candidates.push({
        id: "demo-degraded",
        describe: "45% group at 45% success, the rest +2 points (the demo's degraded candidate)",
        candidate: withSuccess((p, g) => (g === "b" ? 0.45 : p + 0.02)),
      });
    // The demo's candidate also at 30 req/s: a busy machine's demo traffic.
    for (const c of candidates)
      for (const rps of c.id === "demo-degraded" ? [1, 10, 30, 100, 1000] : RATES)
        out.push({
          kind: "rollout",
          id: c.id,
          plan: planName,
          rps,
          describe: c.describe,
          candidate: c.candidate,
        });
  }
  return out;
}
