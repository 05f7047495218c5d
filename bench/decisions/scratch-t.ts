import { createRandom } from "./random.ts";
import { addTraffic, BASELINE, bucketProbabilities, emptyWindow } from "./traffic.ts";
const r = createRandom(1);
const probs = bucketProbabilities(BASELINE);
let t0 = performance.now();
for (let i = 0; i < 100000; i++) { const b2 = emptyWindow(); addTraffic(b2, BASELINE, probs, 60, 1, r); }
console.log("addTraffic 60 µs", ((performance.now() - t0) / 100000) * 1000);
t0 = performance.now();
for (let i = 0; i < 100000; i++) r.multinomial(60, probs);
console.log("multinomial 60 µs", ((performance.now() - t0) / 100000) * 1000);
t0 = performance.now();
for (let i = 0; i < 100000; i++) r.multinomial(3000, probs);
console.log("multinomial 3000 µs", ((performance.now() - t0) / 100000) * 1000);
t0 = performance.now();
for (let i = 0; i < 100000; i++) emptyWindow();
console.log("emptyWindow µs", ((performance.now() - t0) / 100000) * 1000);
