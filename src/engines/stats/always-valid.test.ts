import assert from "node:assert/strict";
import { test } from "node:test";
import { within } from "../../test-support/approx.ts";
import {
  bernoulliSprt,
  logNormalCdf,
  logOneSidedMixture,
  normalMixtureOneSided,
  oneSidedCriticalZ,
  rateAlternatives,
} from "./always-valid.ts";
import { normalCdf } from "./distributions.ts";
import { alwaysValidTest } from "./sequential.ts";

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

test("Wald's SPRT: the log likelihood ratio of 5 errors in 100 at p0 = 1% against p1 = 3%, by hand", () => {
  // 5 ln(0.03/0.01) + 95 ln(0.97/0.99) = 5.493061 - 1.938843 = 3.554219 (Wald 1945)
  const r = bernoulliSprt(5, 100, 0.01, [{ p1: 0.03, weight: 1 }], 0.05);
  within(r.logLikelihoodRatio, 3.554219, 1e-6, "ln LR");
  within(r.logThreshold, Math.log(20), 1e-12, "ln(1/alpha)");
  assert.equal(r.rejects, true);
  // Wald's rejection line: reject once x >= (ln(1/alpha) - n ln((1-p1)/(1-p0))) / ln(p1(1-p0)/(p0(1-p1))).
  // At n = 100 that is (2.995732 + 1.999833... ) / 1.119... = 4.46: 4 errors do not reject, 5 do.
  assert.equal(bernoulliSprt(4, 100, 0.01, [{ p1: 0.03, weight: 1 }], 0.05).rejects, false);
});

test("the SPRT mixture is the weighted mean of its components' ratios", () => {
  const one = (p1: number) => Math.exp(bernoulliSprt(7, 300, 0.01, [{ p1, weight: 1 }]).logLikelihoodRatio);
  const mixed = bernoulliSprt(7, 300, 0.01, [
    { p1: 0.02, weight: 1 },
    { p1: 0.03, weight: 3 },
  ]);
  within(Math.exp(mixed.logLikelihoodRatio), 0.25 * one(0.02) + 0.75 * one(0.03), 1e-9, "mixture");
  assert.deepEqual(
    rateAlternatives(0.01).map((a) => a.p1),
    [0.015, 0.02, 0.03, 0.05],
  );
  // Capped below 1 for a large p0.
  assert.ok(rateAlternatives(0.4).every((a) => a.p1 < 1 && a.p1 > 0.4));
});

test("the SPRT mixture stays within alpha over every look at the null, and catches 3x the limit", () => {
  const random = rng(11);
  const runs = 2000;
  let falseAlarms = 0;
  // The ratio rises only at an event, so looking right after each event sees every crossing
  // that looking after every trial would.
  for (let r = 0; r < runs; r++) {
    let x = 0;
    for (let n = 1; n <= 5000; n++) {
      if (random() >= 0.01) continue;
      x++;
      if (bernoulliSprt(x, n, 0.01, rateAlternatives(0.01), 0.05).rejects) {
        falseAlarms++;
        break;
      }
    }
  }
  // Ville: at most 5% over all 5,000 looks; the binomial 99.9% upper limit of 5% of 2,000 runs is 6.3%.
  assert.ok(falseAlarms / runs <= 0.063, `false alarms ${falseAlarms} of ${runs}`);
  const caught: number[] = [];
  for (let r = 0; r < 200; r++) {
    let x = 0;
    for (let n = 1; n <= 5000; n++) {
      if (random() >= 0.03) continue;
      x++;
      if (bernoulliSprt(x, n, 0.01, rateAlternatives(0.01), 0.05).rejects) {
        caught.push(n);
        break;
      }
    }
  }
  caught.sort((a, b) => a - b);
  assert.equal(caught.length, 200);
  assert.ok(caught[100]! < 300, `median ${caught[100]} trials to catch 3% against 1%`);
});

test("bernoulliSprt refuses malformed input, naming the argument", () => {
  assert.throws(() => bernoulliSprt(3, 2, 0.01, rateAlternatives(0.01)), /bernoulliSprt: events/);
  assert.throws(() => bernoulliSprt(1, 2, 0, rateAlternatives(0.01)), /bernoulliSprt: p0/);
  assert.throws(() => bernoulliSprt(1, 2, 0.1, [{ p1: 0.05, weight: 1 }]), /alternatives\[0\]\.p1/);
  assert.throws(() => bernoulliSprt(1, 2, 0.1, []), /alternatives/);
});

test("ln Phi is continuous where it switches to the tail series, and exact above it", () => {
  within(logNormalCdf(-1.959963984540054), Math.log(0.025), 1e-9, "ln Phi(-1.96)");
  within(logNormalCdf(-29.999999), logNormalCdf(-30.000001), 1e-3, "switch point");
  // ln Phi(-40) = -804.608442013754 (mpmath: log(ncdf(-40)); R: pnorm(-40, log.p = TRUE))
  within(logNormalCdf(-40), -804.608442013754, 1e-9, "ln Phi(-40)");
});

test("one-sided normal mixture: equals its defining integral, and the two sides add up to the two-sided mixture", () => {
  // Lambda+ = integral over theta >= 0 of exp(theta S - theta^2 V / 2) times the half-normal
  // density 2 phi(theta / tau) / tau, by the trapezoid rule.
  for (const [s, v, tau] of [
    [3, 4, 0.5],
    [-2, 10, 1],
    [40, 900, 0.05],
  ] as const) {
    let integral = 0;
    const h = tau / 4000;
    for (let i = 0; i <= 80_000; i++) {
      const th = i * h;
      const f =
        Math.exp(th * s - (th * th * v) / 2) *
        ((2 * Math.exp(-(th * th) / (2 * tau * tau))) / (tau * Math.sqrt(2 * Math.PI)));
      integral += (i === 0 || i === 80_000 ? 0.5 : 1) * f * h;
    }
    within(logOneSidedMixture(s, v, 1 / (tau * tau)), Math.log(integral), 1e-6, `S=${s} V=${v} tau=${tau}`);
  }
  // Lambda+(S) + Lambda+(-S) = 2 Lambda(S), Lambda the two-sided mixture of Johari et al.
  const control = { mean: 0.5, variance: 0.25, n: 900 };
  const treatment = { mean: 0.54, variance: 0.2484, n: 880 };
  const tau2 = 0.0009;
  const two = alwaysValidTest(control, treatment, { mixingVariance: tau2 });
  const se = two.se;
  const v = 1 / (se * se);
  const s = two.estimate * v;
  const sum = Math.exp(logOneSidedMixture(s, v, 1 / tau2)) + Math.exp(logOneSidedMixture(-s, v, 1 / tau2));
  within(Math.log(sum / 2), two.logLikelihoodRatio, 1e-10, "sides add up");
});

test("the always-valid critical value: solves Lambda = 1/alpha, and sits above the fixed z", () => {
  for (const [v, tau] of [
    [100, 0.1],
    [1e4, 0.05],
    [1e7, 0.01],
  ] as const) {
    const c = oneSidedCriticalZ(v, tau, 0.05);
    // Solved at v tau^2 rounded to 1/500 of its log: within 3e-3 of the exact boundary.
    within(logOneSidedMixture(c * Math.sqrt(v), v, 1 / (tau * tau)), Math.log(20), 3e-3, `v=${v}`);
    assert.ok(c > 1.6449, `above z(0.95) at v=${v}: ${c}`);
  }
  // Grows like sqrt(ln(v tau^2)) with information: slowly.
  assert.ok(oneSidedCriticalZ(1e8, 0.1, 0.05) < 5.2);
  const r = normalMixtureOneSided(-0.06, 0.01, -0.045, { tau: 0.045, alpha: 0.05, side: "less" });
  within(r.z, 1.5, 1e-12, "z toward the alternative");
  within(r.bound, -0.06 + r.criticalZ * 0.01, 1e-12, "upper bound");
  assert.equal(r.rejects, false);
  assert.equal(normalMixtureOneSided(-0.09, 0.01, -0.045, { tau: 0.045 }).rejects, true);
});

test("the one-sided mixture stays within alpha on a random walk looked at every step, and has power", () => {
  const random = rng(5);
  const gauss = () => {
    const u = random() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  let alarms = 0;
  const runs = 1000;
  for (let r = 0; r < runs; r++) {
    let sum = 0;
    for (let n = 1; n <= 1000; n++) {
      sum += gauss();
      // estimate = mean, se = 1/sqrt(n), H0: mean >= 0, evidence for "less".
      if (normalMixtureOneSided(sum / n, 1 / Math.sqrt(n), 0, { tau: 0.1 }).rejects) {
        alarms++;
        break;
      }
    }
  }
  // At most 5%; the binomial 99.9% upper limit of 5% of 1,000 runs is 7.3%.
  assert.ok(alarms / runs <= 0.073, `false alarms ${alarms} of ${runs}`);
  let caught = 0;
  for (let r = 0; r < 100; r++) {
    let sum = 0;
    for (let n = 1; n <= 1000; n++) {
      sum += gauss() - 0.2;
      if (normalMixtureOneSided(sum / n, 1 / Math.sqrt(n), 0, { tau: 0.1 }).rejects) {
        caught++;
        break;
      }
    }
  }
  assert.ok(caught >= 99, `caught ${caught} of 100 at a 0.2 sd shift`);
  assert.ok(normalCdf(0) === 0.5);
});
