import assert from "node:assert/strict";
import { test } from "node:test";
import { near } from "../../test-support/approx.ts";
import { normalSf } from "./distributions.ts";
import { twoProportionZTest } from "./proportions.ts";
import { alwaysValidTest, mixingVarianceForHorizon, type SequentialResult } from "./sequential.ts";

// mulberry32: a small seeded generator, so every simulation below is reproducible.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function binomial(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

test("Johari et al. mixture likelihood ratio and the Howard / Waudby-Smith confidence sequence", () => {
  const control = { mean: 10, variance: 4, n: 400 };
  const treatment = { mean: 10.3, variance: 5, n: 380 };
  const tau2 = 0.02;
  const r = alwaysValidTest(control, treatment, { mixingVariance: tau2 });
  const v = 4 / 400 + 5 / 380;
  const d = 0.3;
  // Lambda = sqrt(V/(V + tau^2)) exp(tau^2 d^2 / (2 V (V + tau^2))), Johari et al. (2017) eq. 11
  const lambda = Math.sqrt(v / (v + tau2)) * Math.exp((tau2 * d * d) / (2 * v * (v + tau2)));
  near(r.logLikelihoodRatio, Math.log(lambda), 1e-12, "log Lambda");
  near(r.pValue, 1 / lambda, 1e-12, "p = 1/Lambda");
  // Waudby-Smith et al. (2023) eq. 9 / GrowthBook's sequential halfwidth, written with the
  // per-observation variance s2 = V n and rho^2 = tau^2 / s2, for any n.
  for (const n of [1, 780, 1e6]) {
    const s2 = v * n;
    const rho2 = tau2 / s2;
    const half =
      Math.sqrt(s2) *
      Math.sqrt((2 * (n * rho2 + 1) * Math.log(Math.sqrt(n * rho2 + 1) / 0.05)) / (n * n * rho2));
    near(r.ci[1] - d, half, 1e-12, `halfwidth, n=${n}`);
    near(d - r.ci[0], half, 1e-12, `halfwidth, n=${n}`);
  }
  assert.equal(r.looks, 1);
  near(r.estimate, d, 1e-12, "estimate");
});

test("the always-valid p is never below the fixed-horizon z-test p on the same data", () => {
  for (const z of [0, 0.5, 1, 1.96, 2.5, 3, 4, 6, 9]) {
    for (const ratio of [1e-3, 0.1, 1, 10, 1000]) {
      const v = 0.01;
      const r = alwaysValidTest(
        { mean: 0, variance: v / 2, n: 1 },
        { mean: z * Math.sqrt(v), variance: v / 2, n: 1 },
        { mixingVariance: ratio * v },
      );
      const fixed = 2 * normalSf(z);
      assert.ok(r.pValue >= fixed, `z=${z}, tau2/V=${ratio}: ${r.pValue} < ${fixed}`);
    }
  }
});

test("p <= alpha exactly when the interval excludes 0 (the test and the confidence sequence agree)", () => {
  const random = rng(7);
  const tau2 = mixingVarianceForHorizon(0.32 / 2000);
  for (let i = 0; i < 300; i++) {
    const n = 200 + Math.floor(random() * 3000);
    const r = alwaysValidTest(
      { successes: binomial(random, n, 0.2), n },
      { successes: binomial(random, n, 0.2 + 0.04 * random()), n },
      { mixingVariance: tau2 },
    );
    const excludesZero = r.ci[0] > 0 || r.ci[1] < 0;
    assert.equal(r.pValue <= 0.05, excludesZero, `look ${i}: p=${r.pValue}, ci=${r.ci}`);
  }
});

test("type-I error under peeking every 100 units stays below alpha; the naive z-test's does not", () => {
  // 1000 A/A experiments of 5000 units per arm at a 20% rate, looked at 50 times each.
  const random = rng(20260101);
  const perArm = 5000;
  const step = 100;
  const tau2 = mixingVarianceForHorizon((2 * 0.2 * 0.8) / perArm);
  let sequentialRejections = 0;
  let naiveRejections = 0;
  const runs = 1000;
  for (let run = 0; run < runs; run++) {
    let a = 0;
    let b = 0;
    let previous: SequentialResult | undefined;
    let naive = false;
    for (let n = step; n <= perArm; n += step) {
      a += binomial(random, step, 0.2);
      b += binomial(random, step, 0.2);
      previous = alwaysValidTest(
        { successes: a, n },
        { successes: b, n },
        { mixingVariance: tau2, previous },
      );
      if (twoProportionZTest({ successes: a, n }, { successes: b, n }).pTwoSided <= 0.05) naive = true;
    }
    if (previous!.pValue <= 0.05) sequentialRejections++;
    if (naive) naiveRejections++;
  }
  const sequentialRate = sequentialRejections / runs;
  const naiveRate = naiveRejections / runs;
  assert.ok(sequentialRate <= 0.05, `always-valid type-I error ${sequentialRate}`);
  // Peeking at a fixed-horizon test inflates its error several-fold; if this ever fails the
  // simulation has lost its power to tell the two apart.
  assert.ok(naiveRate >= 0.15, `naive type-I error ${naiveRate}`);
});

test("with a real effect the running p falls to ~0 and the interval narrows around the truth", () => {
  const random = rng(42);
  const tau2 = mixingVarianceForHorizon((0.1 * 0.9 + 0.13 * 0.87) / 10_000);
  let a = 0;
  let b = 0;
  let previous: SequentialResult | undefined;
  const ps: number[] = [];
  const widths: number[] = [];
  for (let n = 500; n <= 20_000; n += 500) {
    a += binomial(random, 500, 0.1);
    b += binomial(random, 500, 0.13);
    previous = alwaysValidTest({ successes: a, n }, { successes: b, n }, { mixingVariance: tau2, previous });
    ps.push(previous.pValue);
    widths.push(previous.ci[1] - previous.ci[0]);
    assert.ok(
      previous.ci[0] <= 0.03 && 0.03 <= previous.ci[1],
      `look ${previous.looks}: ${previous.ci} misses 0.03`,
    );
  }
  for (let i = 1; i < ps.length; i++) {
    assert.ok(ps[i]! <= ps[i - 1]!, "running p never rises");
    assert.ok(widths[i]! <= widths[i - 1]!, "running interval never widens");
  }
  assert.ok(ps.at(-1)! < 1e-6, `final p ${ps.at(-1)}`);
  assert.equal(previous!.looks, 40);
});

test("mixingVarianceForHorizon gives the narrowest interval at the horizon; GrowthBook's N* is one step of it", () => {
  const vh = 1e-4;
  const alpha = 0.05;
  const tau2 = mixingVarianceForHorizon(vh, alpha);
  const halfWidth = (t2: number): number => {
    const r = alwaysValidTest(
      { mean: 0, variance: vh / 2, n: 1 },
      { mean: 0, variance: vh / 2, n: 1 },
      { mixingVariance: t2 },
    );
    return r.ci[1];
  };
  assert.ok(halfWidth(tau2) < halfWidth(tau2 * 1.05));
  assert.ok(halfWidth(tau2) < halfWidth(tau2 / 1.05));
  // r = tau^2 / V solves r = 2 ln(1/alpha) + ln(1 + r)
  const r = tau2 / vh;
  near(r, -2 * Math.log(alpha) + Math.log1p(r), 1e-14, "fixed point");
  // Waudby-Smith et al. eq. 161 (GrowthBook): rho^2 N* = -2 ln(alpha) + ln(1 - 2 ln(alpha))
  const oneStep = -2 * Math.log(alpha) + Math.log(1 - 2 * Math.log(alpha));
  near(r, oneStep, 0.05, "close to GrowthBook's tuning");
});

test("zero variance: equal rates are no evidence, different rates are certain", () => {
  const tau2 = 1e-4;
  const same = alwaysValidTest({ successes: 0, n: 300 }, { successes: 0, n: 200 }, { mixingVariance: tau2 });
  assert.equal(same.pValue, 1);
  assert.deepEqual(same.ci, [0, 0]);
  const apart = alwaysValidTest({ successes: 0, n: 30 }, { successes: 30, n: 30 }, { mixingVariance: tau2 });
  assert.equal(apart.pValue, 0);
});

test("invalid options are RangeErrors naming the argument", () => {
  const arm = { successes: 10, n: 100 };
  assert.throws(() => alwaysValidTest(arm, arm, { mixingVariance: 0 }), {
    name: "RangeError",
    message: /alwaysValidTest: options\.mixingVariance must be > 0/,
  });
  const first = alwaysValidTest(arm, arm, { mixingVariance: 1e-3 });
  assert.throws(() => alwaysValidTest(arm, arm, { mixingVariance: 2e-3, previous: first }), {
    name: "RangeError",
    message: /options\.previous was computed with a different mixingVariance or alpha/,
  });
  assert.throws(() => alwaysValidTest(arm, { successes: 101, n: 100 }, { mixingVariance: 1e-3 }), {
    name: "RangeError",
    message: /treatment\.successes must not exceed treatment\.n/,
  });
  assert.throws(() => mixingVarianceForHorizon(-1), {
    name: "RangeError",
    message: /varianceAtHorizon must be > 0/,
  });
});
