import { judge, defaultPlan, decide } from "../../src/engines/rollout/index.ts";
import { createRandom } from "./random.ts";
import { addTraffic, BASELINE, bucketProbabilities, emptyWindow } from "./traffic.ts";
const r = createRandom(1);
const probs = bucketProbabilities(BASELINE);
const b = emptyWindow(); const c = emptyWindow();
addTraffic(b, BASELINE, probs, 50000, 250, r); addTraffic(c, BASELINE, probs, 3000, 15, r);
const plan = defaultPlan();
let t0 = performance.now();
for (let i = 0; i < 5000; i++) judge(plan, b, c, { stepIndex: 0 });
console.log("judge µs", ((performance.now() - t0) / 5000) * 1000);
const j = judge(plan, b, c);
t0 = performance.now();
for (let i = 0; i < 5000; i++) decide({ plan, stepIndex: 0, stepStartedAt: 0, consecutiveFailures: 0 }, j, 1000);
console.log("decide µs", ((performance.now() - t0) / 5000) * 1000);
t0 = performance.now();
for (let i = 0; i < 5000; i++) { const b2 = emptyWindow(); addTraffic(b2, BASELINE, probs, 3000, 15, r); }
console.log("addTraffic 3000 µs", ((performance.now() - t0) / 5000) * 1000);
t0 = performance.now();
for (let i = 0; i < 5000; i++) { const b2 = emptyWindow(); addTraffic(b2, BASELINE, probs, 60, 1, r); }
console.log("addTraffic 60 µs", ((performance.now() - t0) / 5000) * 1000);
for (const m of j.metrics) { const t1 = performance.now(); for (let i = 0; i < 2000; i++) judge({ ...plan, metrics: [m.metric === "success_rate" ? plan.metrics[0]! : m.metric === "error_rate" ? plan.metrics[1]! : m.metric === "latency_p95_ms" ? plan.metrics[2]! : plan.metrics[3]!] }, b, c); console.log(m.metric, ((performance.now() - t1) / 2000) * 1000); }
