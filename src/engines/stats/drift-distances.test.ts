import assert from "node:assert/strict";
import { test } from "node:test";
import {
  hellingerDistance,
  jensenShannonDistance,
  kolmogorovSf,
  ksFromCounts,
  ksTwoSample,
  lInfinityDistance,
  normalizedWasserstein,
  wassersteinDistance,
} from "./drift-distances.ts";

// Reference values: Evidently's tests/stattests/test_stattests.py where it has them, else
// recomputed with scipy 1.17.1 (scipy.spatial.distance.jensenshannon, scipy.stats.ks_2samp,
// scipy.stats.wasserstein_distance, scipy.stats.kstwobign) as noted on each case.

const close = (actual: number, expected: number, rel = 1e-4, what = "") =>
  assert.ok(
    Math.abs(actual - expected) <= rel * Math.abs(expected) + 1e-15,
    `${what} ${actual} is not within ${rel} (relative) of ${expected}`,
  );

// Evidently's chi-square / Hellinger case: counts of six categories.
const REF = [16, 18, 16, 14, 12, 12];
const CUR = [16, 16, 16, 16, 16, 8];

test("Hellinger: Evidently's test_freq_obs_eq_freq_exp (0.06812), and the same with the reference doubled", () => {
  close(hellingerDistance(REF, CUR), 0.06812774370983354, 1e-9);
  assert.ok(Math.abs(hellingerDistance(REF, CUR) - 0.06812) <= 1e-5, "Evidently: approx(0.06812, abs=1e-5)");
  close(
    hellingerDistance(
      REF.map((x) => 2 * x),
      CUR,
    ),
    0.06812774370983354,
    1e-9,
  );
  assert.equal(hellingerDistance([10, 10, 10], [10, 10, 10]), 0);
  assert.equal(hellingerDistance([1, 0], [0, 1]), 1, "disjoint supports are at the maximum, 1");
});

test("Jensen-Shannon distance, base e and base 2 (scipy jensenshannon)", () => {
  close(jensenShannonDistance(REF, CUR), 0.06804819617703854);
  close(jensenShannonDistance(REF, CUR, { base: 2 }), 0.08173421330573742);
  close(jensenShannonDistance([0.4, 0.3, 0.3], [0.35, 0.25, 0.4]), 0.07453564476824072);
  close(jensenShannonDistance([0.4, 0.3, 0.3], [0.35, 0.25, 0.4], { base: 2 }), 0.08952643318448043);
  close(jensenShannonDistance([1, 0], [0, 1], { base: 2 }), 1, 1e-12, "disjoint, base 2");
  assert.equal(jensenShannonDistance([3, 1], [6, 2]), 0);
});

test("L-infinity: the largest difference of one bin's share", () => {
  close(lInfinityDistance(REF, CUR), 0.04545454545454547, 1e-12);
  assert.equal(lInfinityDistance([1, 1], [1, 1]), 0);
});

test("bad input names the function and the argument", () => {
  assert.throws(() => hellingerDistance([1, 2], [1]), /hellingerDistance: reference and current/);
  assert.throws(
    () => jensenShannonDistance([0, 0], [1, 1]),
    /jensenShannonDistance: reference must not be all zero/,
  );
  assert.throws(() => lInfinityDistance([1, -1], [1, 1]), /lInfinityDistance: reference\[1\]/);
  assert.throws(() => jensenShannonDistance([1], [1], { base: 1 }), /options.base/);
  assert.throws(() => ksTwoSample([], [1]), /ksTwoSample: reference/);
  assert.throws(() => ksTwoSample([1, Number.NaN], [1]), /ksTwoSample: reference\[1\]/);
  assert.throws(() => ksFromCounts([1, 2.5], [1, 1]), /ksFromCounts: referenceCounts\[1\]/);
  assert.throws(() => wassersteinDistance([1, 2], [1], { referenceWeights: [1] }), /referenceWeights/);
  assert.throws(
    () => wassersteinDistance([1, 2], [1], { currentWeights: [0] }),
    /currentWeights must not be all zero/,
  );
});

// Evidently's Anderson-Darling samples, used here for KS and Wasserstein.
const X8 = [38.7, 41.5, 43.8, 44.5, 45.5, 46.0, 47.7, 58.0];
const Y8 = [39.2, 39.3, 39.7, 41.4, 41.8, 42.9, 43.3, 45.8];

test("KS, equal sizes: exact p (scipy ks_2samp method=exact: D 0.625, p 0.087024)", () => {
  const r = ksTwoSample(X8, Y8);
  assert.equal(r.method, "exact");
  assert.equal(r.statistic, 0.625);
  close(r.p, 0.08702408702408701, 1e-9);
  assert.deepEqual([r.n1, r.n2], [8, 8]);
});

test("KS, unequal sizes with the exact p (scipy: D 5/7, p 0.013986)", () => {
  const r = ksTwoSample([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2.5, 3.5, 11, 12, 13, 14, 15]);
  close(r.statistic, 0.7142857142857143, 1e-12);
  close(r.p, 0.013986013986013983, 1e-9);
});

test("KS: a tiny p keeps its relative precision (2 / C(40, 20) = 1.4509e-11, scipy)", () => {
  const a = Array.from({ length: 20 }, (_, i) => i + 1);
  const r = ksTwoSample(
    a,
    a.map((x) => x + 30),
  );
  assert.equal(r.statistic, 1);
  close(r.p, 1.4508889103849681e-11, 1e-9);
});

test("KS: ties are stepped over together, as scipy does (identical samples: D 0, p 1)", () => {
  const r = ksTwoSample([1, 1, 2, 2, 3], [1, 2, 2, 3, 3]);
  assert.equal(r.p, 1, "scipy: p 1.0");
  assert.equal(r.statistic, 0.2);
  const same = ksTwoSample([5, 5, 5], [5, 5]);
  assert.deepEqual([same.statistic, same.p], [0, 1]);
});

// Deterministic samples both here and in the scipy script (no ties).
const frac = (x: number) => x - Math.floor(x);
const spread = (n: number, step: number, scale: number, shift: number) =>
  Array.from({ length: n }, (_, k) => frac((k + 1) * step) * scale + shift);

test("KS at 500 x 700: exact (scipy 0.150468) and asymptotic (Kolmogorov limit, scipy kstwobign 0.157498)", () => {
  const x = spread(500, 0.618034, 1, 0);
  const y = spread(700, 0.7548777, 1.05, 0.02);
  const exact = ksTwoSample(x, y);
  close(exact.statistic, 0.066, 1e-9);
  assert.equal(exact.method, "exact");
  close(exact.p, 0.15046797567480721, 1e-6);
  const asymptotic = ksTwoSample(x, y, { method: "asymptotic" });
  assert.equal(asymptotic.method, "asymptotic");
  close(asymptotic.p, 0.15749808019949119, 1e-6);
  assert.equal(
    ksTwoSample(x, y, { exactMaxCells: 1000 }).method,
    "asymptotic",
    "auto switches past the cells",
  );
});

test("KS at 4,000 x 5,000 is still exact under auto (scipy 0.0022580)", () => {
  const x = spread(4000, 0.618034, 1, 0);
  const y = spread(5000, 0.7548777, 1.03, 0.01);
  const r = ksTwoSample(x, y);
  assert.equal(r.method, "exact");
  close(r.statistic, 0.039, 1e-9);
  close(r.p, 0.0022580325766138123, 1e-5);
});

test("Kolmogorov limit: both series agree where they meet, and the known quantiles (1.3581 -> 0.05, 1.6276 -> 0.01)", () => {
  close(kolmogorovSf(1.3580986393225505), 0.05, 1e-6);
  close(kolmogorovSf(1.6276236115189502), 0.01, 1e-6);
  close(kolmogorovSf(1.1799999), kolmogorovSf(1.1800001), 1e-6, "at the switch");
  assert.equal(kolmogorovSf(0), 1);
});

test("KS from histograms equals KS on the samples the histograms count", () => {
  const bins = [0, 1, 2, 3, 4];
  const ref = [5, 9, 3, 0, 2];
  const cur = [1, 4, 6, 7, 3];
  const expand = (counts: number[]) => counts.flatMap((c, k) => Array<number>(c).fill(bins[k]!));
  const fromSamples = ksTwoSample(expand(ref), expand(cur));
  const fromCounts = ksFromCounts(ref, cur);
  assert.equal(fromCounts.statistic, fromSamples.statistic);
  assert.equal(fromCounts.p, fromSamples.p);
  assert.ok(fromCounts.p < 0.05 && fromCounts.p > 0, `a clear shift is significant: ${fromCounts.p}`);
});

test("Wasserstein-1: scipy's values, weighted and not; normalised by the reference's population sd", () => {
  close(wassersteinDistance([0, 1, 3], [5, 6, 8]), 5, 1e-12);
  close(
    wassersteinDistance([0, 1], [0, 1], { referenceWeights: [3, 1], currentWeights: [2, 2] }),
    0.25,
    1e-12,
  );
  close(
    wassersteinDistance([3.4, 3.9, 7.5, 7.8], [4.5, 1.4], {
      referenceWeights: [1.4, 0.9, 3.1, 7.2],
      currentWeights: [3.2, 3.5],
    }),
    4.078133143804785,
    1e-12,
  );
  close(wassersteinDistance(X8, Y8), 4.1625, 1e-12);
  close(normalizedWasserstein(X8, Y8), 0.781236105789365, 1e-9);
  const x = spread(4000, 0.618034, 1, 0);
  const y = spread(5000, 0.7548777, 1.03, 0.01);
  close(wassersteinDistance(x, y), 0.024868515500016373, 1e-8);
  close(normalizedWasserstein(x, y), 0.08615683239631759, 1e-8);
  assert.equal(normalizedWasserstein([2, 2], [3]), 1 / 0.001, "a constant reference uses the 0.001 floor");
});
