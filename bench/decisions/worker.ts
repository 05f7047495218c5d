// A benchmark worker: runs the simulated rollouts or experiments it is sent and posts back one
// compact result per run. Bundled by the main script (see decisions.bench.ts) and run as plain
// JavaScript on a worker thread.

import { parentPort } from "node:worker_threads";
import { BUILT_IN_PLANS } from "../../src/engines/rollout/index.ts";
import { EXPERIMENT_DESIGN, simulateExperiment } from "./experiment-run.ts";
import { createRandom } from "./random.ts";
import { simulateRollout } from "./rollout-run.ts";
import { experimentScenarios, rolloutScenarios } from "./scenarios.ts";
import { BASELINE } from "./traffic.ts";

export interface Task {
  key: string;
  seeds: number[];
}

export interface RunResult {
  outcome: string;
  seconds: number;
  candidateRequests: number;
  decidedBy: string;
  fixedPShownSignificant?: boolean;
}

const scenarios = new Map<
  string,
  ReturnType<typeof rolloutScenarios>[number] | ReturnType<typeof experimentScenarios>[number]
>();
for (const s of [...rolloutScenarios(), ...experimentScenarios()])
  scenarios.set(`${s.kind}:${s.plan}:${s.id}:${s.rps}`, s);

parentPort!.on("message", (task: Task | null) => {
  if (task === null) {
    process.exit(0);
  }
  const s = scenarios.get(task.key);
  if (!s) throw new Error(`unknown scenario ${task.key}`);
  const results: RunResult[] = task.seeds.map((seed) => {
    const random = createRandom(seed);
    if (s.kind === "rollout") {
      const r = simulateRollout(BUILT_IN_PLANS[s.plan]!(), s.rps, BASELINE, s.candidate, random);
      return {
        outcome: r.outcome,
        seconds: r.seconds,
        candidateRequests: r.candidateRequests,
        decidedBy: r.decidedBy,
      };
    }
    const r = simulateExperiment(EXPERIMENT_DESIGN, s.rps, BASELINE, s.treatment, random);
    return {
      outcome: r.outcome,
      seconds: r.seconds,
      candidateRequests: r.treatmentRequests,
      decidedBy: r.decidedBy,
      fixedPShownSignificant: r.fixedPShownSignificant,
    };
  });
  parentPort!.postMessage({ key: task.key, results });
});
