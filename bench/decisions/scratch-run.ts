import { BUILT_IN_PLANS } from "../../src/engines/rollout/index.ts";
import { simulateRollout } from "./rollout-run.ts";
import { createRandom } from "./random.ts";
import { rolloutScenarios } from "./scenarios.ts";
import { BASELINE } from "./traffic.ts";
const [plan, id, rps, runs] = process.argv.slice(2);
for (const s of rolloutScenarios().filter(s => s.plan === plan && (id === "all" || s.id === id) && (rps === "all" || s.rps === Number(rps)))) {
  const t0 = performance.now();
  const res = [];
  for (let r = 0; r < Number(runs); r++) res.push(simulateRollout(BUILT_IN_PLANS[s.plan]!(), s.rps, BASELINE, s.candidate, createRandom(r * 7919 + 17)));
  const c: Record<string, number> = {};
  for (const x of res) c[x.outcome] = (c[x.outcome] ?? 0) + 1;
  const by: Record<string, number> = {};
  for (const x of res) by[x.decidedBy] = (by[x.decidedBy] ?? 0) + 1;
  const secs = res.map(x => x.seconds).sort((a,b)=>a-b); const reqs = res.map(x=>x.candidateRequests).sort((a,b)=>a-b);
  console.log(s.plan, s.rps, s.id, JSON.stringify(c), JSON.stringify(by), "median s", secs[secs.length>>1], "req", reqs[reqs.length>>1], `${((performance.now()-t0)/Number(runs)).toFixed(1)} ms/run`);
}
