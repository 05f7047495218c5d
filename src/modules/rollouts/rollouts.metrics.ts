import { Counter, Gauge, type Registry } from "prom-client";
import type { StepVerdict } from "../../engines/rollout/types.ts";
import { scrapeRead } from "../../lib/scrape-read.ts";
import type { RolloutRow } from "./rollouts.store.ts";

/**
 * What decided a rollout move: the analysis' verdict (pass, fail, inconclusive,
 * insufficient_data), `fast_path` (the fast path rolled back) or `kill_switch`.
 */
export type DecisionVerdict = StepVerdict | "fast_path" | "kill_switch";

/** Counts one controller decision; `action`: advance, hold, paused, promote, rollback or pause. */
export type CountRolloutDecision = (action: string, verdict: DecisionVerdict) => void;

/**
 * The active rollouts as gauges, read from the database at scrape time (one indexed query
 * over the running and paused rollouts, a handful of rows; every replica reports the same,
 * shared state), labelled by model and candidate version:
 * `modelgov_rollout_weight` (percent of traffic the candidate serves; 0 in blue-green until the switch),
 * `modelgov_rollout_step` (1-based) and `modelgov_rollout_steps`, `modelgov_rollout_paused`.
 * `modelgov_rollout_decisions_total{action, verdict}` counts the decisions this replica's
 * controller made (only the leader decides: sum over replicas).
 */
export function registerRolloutMetrics(
  registry: Registry,
  rollouts: { active(): Promise<RolloutRow[]> },
): CountRolloutDecision {
  const registers = [registry];
  const labelNames = ["model", "version", "baseline", "mode"] as const;
  const read = scrapeRead(() => rollouts.active());
  const labelsOf = (r: RolloutRow) => ({
    model: r.model,
    version: r.candidate,
    baseline: r.baseline,
    mode: r.mode,
  });
  const gauge = (name: string, help: string, value: (r: RolloutRow) => number) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      async collect() {
        const rows = await read();
        if (!rows) return;
        this.reset();
        for (const r of rows) this.set(labelsOf(r), value(r));
      },
    });
  gauge(
    "modelgov_rollout_weight",
    "Active rollout's candidate weight: percent of traffic it serves (blue-green: 0 until the switch)",
    (r) => r.weight,
  );
  gauge(
    "modelgov_rollout_step",
    "Active rollout's current step, 1-based, by model and candidate version",
    (r) => r.stepIndex + 1,
  );
  gauge("modelgov_rollout_steps", "Active rollout's number of steps in its plan", (r) => r.plan.steps.length);
  gauge(
    "modelgov_rollout_paused",
    "1 while the active rollout is paused (a manual gate, an operator, a kill switch on the baseline)",
    (r) => (r.status === "paused" ? 1 : 0),
  );
  const decisions = new Counter({
    name: "modelgov_rollout_decisions_total",
    help: "Rollout decisions this replica's controller made, by action and by what decided it (the verdict, fast_path or kill_switch)",
    labelNames: ["action", "verdict"] as const,
    registers,
  });
  return (action, verdict) => decisions.inc({ action, verdict });
}
