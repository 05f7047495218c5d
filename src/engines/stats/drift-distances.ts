// Distances and two-sample tests between a reference window and a current one, for input,
// output and metric drift: Jensen-Shannon, Hellinger and L-infinity over binned or categorical
// distributions; the two-sample Kolmogorov-Smirnov test (exact p-value for small samples) and
// the Wasserstein-1 distance over numeric values or histograms. Pinned to scipy 1.17 and
// Evidently's tests (see drift-distances.test.ts).

import { fail, requireFinite, requireMinLength, requireNonNegative, requireSameLength } from "./validate.ts";

function shares(fn: string, arg: string, xs: readonly number[]): number[] {
  let total = 0;
  for (let i = 0; i < xs.length; i++) {
    requireNonNegative(fn, `${arg}[${i}]`, xs[i]!);
    total += xs[i]!;
  }
  if (!(total > 0)) fail(fn, arg, "must not be all zero");
  return xs.map((x) => x / total);
}

function pairOfShares(fn: string, p: readonly number[], q: readonly number[]): [number[], number[]] {
  requireMinLength(fn, "reference", p, 1);
  requireMinLength(fn, "current", q, 1);
  requireSameLength(fn, "reference", p, "current", q);
  return [shares(fn, "reference", p), shares(fn, "current", q)];
}

export interface JensenShannonOptions {
  /** Logarithm base: e (default, as scipy) or 2 (the distance then lies in [0, 1]). */
  base?: number;
}

/**
 * Jensen-Shannon distance (the square root of the divergence) between two distributions given
 * as counts or shares over the same bins; each side is normalised to sum to 1, as scipy's
 * `jensenshannon` does. Empty bins need no fill: 0 ln 0 counts as 0.
 */
export function jensenShannonDistance(
  reference: readonly number[],
  current: readonly number[],
  options: JensenShannonOptions = {},
): number {
  const fn = "jensenShannonDistance";
  const { base = Math.E } = options;
  requireFinite(fn, "options.base", base);
  if (!(base > 1)) fail(fn, "options.base", "must be greater than 1");
  const [p, q] = pairOfShares(fn, reference, current);
  const relEntr = (x: number, y: number) => (x === 0 ? 0 : x * Math.log(x / y));
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    divergence += (relEntr(p[i]!, m) + relEntr(q[i]!, m)) / 2;
  }
  return Math.sqrt(Math.max(0, divergence) / Math.log(base));
}

/**
 * Hellinger distance, sqrt(sum (sqrt p - sqrt q)^2) / sqrt 2, in [0, 1], over counts or shares
 * normalised per side (as Evidently's `hellinger` test).
 */
export function hellingerDistance(reference: readonly number[], current: readonly number[]): number {
  const [p, q] = pairOfShares("hellingerDistance", reference, current);
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += (Math.sqrt(p[i]!) - Math.sqrt(q[i]!)) ** 2;
  return Math.sqrt(sum) / Math.SQRT2;
}

/** L-infinity distance: the largest difference of any one bin's share (Evidently's `linf`). */
export function lInfinityDistance(reference: readonly number[], current: readonly number[]): number {
  const [p, q] = pairOfShares("lInfinityDistance", reference, current);
  let max = 0;
  for (let i = 0; i < p.length; i++) max = Math.max(max, Math.abs(p[i]! - q[i]!));
  return max;
}

// --- Kolmogorov-Smirnov -----------------------------------------------------------------

export interface KsOptions {
  /**
   * `exact` counts the lattice paths (as scipy's `method="exact"`), `asymptotic` uses the
   * Kolmogorov limit at n = n1 n2 / (n1 + n2); `auto` (default) is exact while n1 x n2 is at
   * most `exactMaxCells` (default 25,000,000: well under a second).
   */
  method?: "auto" | "exact" | "asymptotic";
  exactMaxCells?: number;
}

export interface KsResult {
  /** sup |F_reference - F_current|. */
  statistic: number;
  /** Two-sided p-value. */
  p: number;
  method: "exact" | "asymptotic";
  n1: number;
  n2: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Kolmogorov's limiting distribution: P(K > x), K = sup of the Brownian bridge's |B(t)|. */
export function kolmogorovSf(x: number): number {
  if (!(x > 0)) return 1;
  if (x < 1.18) {
    // 1 - sqrt(2 pi)/x sum exp(-(2k-1)^2 pi^2 / (8 x^2)): converges fast for small x.
    const w = (Math.PI * Math.PI) / (8 * x * x);
    let s = 0;
    for (let k = 1; k <= 6; k++) s += Math.exp(-((2 * k - 1) ** 2) * w);
    return 1 - (Math.sqrt(2 * Math.PI) / x) * s;
  }
  let s = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    s += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-300) break;
  }
  return Math.min(1, 2 * s);
}

/**
 * P(max |i/n1 - j/n2| >= h / L) over the uniformly random interleavings of two samples (no
 * ties), i.e. the exact two-sided p-value of D = h / L, L = lcm(n1, n2). Adds up the mass of
 * the paths where they first step outside, so small p-values keep their relative precision.
 */
function exactOutside(n1: number, n2: number, h: number): number {
  if (h <= 0) return 1;
  const g = gcd(n1, n2);
  const a = n2 / g;
  const b = n1 / g;
  let prev = new Float64Array(n2 + 1);
  let cur = new Float64Array(n2 + 1);
  let outside = 0;
  for (let i = 0; i <= n1; i++) {
    for (let j = 0; j <= n2; j++) {
      let mass: number;
      if (i === 0 && j === 0) mass = 1;
      else {
        mass = 0;
        // From (i - 1, j): one more of sample 1, with probability (n1 - i + 1) / (remaining).
        if (i > 0) mass += (prev[j]! * (n1 - i + 1)) / (n1 - i + 1 + n2 - j);
        if (j > 0) mass += (cur[j - 1]! * (n2 - j + 1)) / (n1 - i + n2 - j + 1);
      }
      if (Math.abs(i * a - j * b) >= h) {
        outside += mass;
        mass = 0;
      }
      cur[j] = mass;
    }
    [prev, cur] = [cur, prev];
  }
  return Math.min(1, outside);
}

function ksResult(fn: string, n1: number, n2: number, h: number, options: KsOptions): KsResult {
  const { method = "auto", exactMaxCells = 25_000_000 } = options;
  if (!["auto", "exact", "asymptotic"].includes(method))
    fail(fn, "options.method", "must be auto, exact or asymptotic");
  requireNonNegative(fn, "options.exactMaxCells", exactMaxCells);
  const L = (n1 / gcd(n1, n2)) * n2;
  const statistic = h / L;
  const exact = method === "exact" || (method === "auto" && n1 * n2 <= exactMaxCells);
  const p = exact ? exactOutside(n1, n2, h) : kolmogorovSf(Math.sqrt((n1 * n2) / (n1 + n2)) * statistic);
  return { statistic, p, method: exact ? "exact" : "asymptotic", n1, n2 };
}

/**
 * Two-sample Kolmogorov-Smirnov test (two-sided). Ties are handled in the statistic as scipy
 * does; the p-value is the no-ties distribution's, which is conservative when values tie.
 */
export function ksTwoSample(
  reference: readonly number[],
  current: readonly number[],
  options: KsOptions = {},
): KsResult {
  const fn = "ksTwoSample";
  requireMinLength(fn, "reference", reference, 1);
  requireMinLength(fn, "current", current, 1);
  reference.forEach((x, i) => {
    requireFinite(fn, `reference[${i}]`, x);
  });
  current.forEach((x, i) => {
    requireFinite(fn, `current[${i}]`, x);
  });
  const x = [...reference].sort((u, v) => u - v);
  const y = [...current].sort((u, v) => u - v);
  const n1 = x.length;
  const n2 = y.length;
  const g = gcd(n1, n2);
  // i / n1 - j / n2 in units of 1 / lcm: i (n2 / g) - j (n1 / g), an integer.
  let i = 0;
  let j = 0;
  let h = 0;
  while (i < n1 || j < n2) {
    const v = Math.min(i < n1 ? x[i]! : Infinity, j < n2 ? y[j]! : Infinity);
    while (i < n1 && x[i] === v) i++;
    while (j < n2 && y[j] === v) j++;
    h = Math.max(h, Math.abs(i * (n2 / g) - j * (n1 / g)));
  }
  return ksResult(fn, n1, n2, h, options);
}

/**
 * The same test over two histograms on the same ordered bins (counts): the statistic is read
 * at the bin edges, which is the samples' statistic when their values are the bins. The
 * p-value is the no-ties one, conservative for binned data.
 */
export function ksFromCounts(
  referenceCounts: readonly number[],
  currentCounts: readonly number[],
  options: KsOptions = {},
): KsResult {
  const fn = "ksFromCounts";
  requireMinLength(fn, "referenceCounts", referenceCounts, 1);
  requireSameLength(fn, "referenceCounts", referenceCounts, "currentCounts", currentCounts);
  const whole = (arg: string, xs: readonly number[]) => {
    xs.forEach((c, k) => {
      if (!Number.isInteger(c) || c < 0) fail(fn, `${arg}[${k}]`, "must be a whole number of at least 0");
    });
    const n = xs.reduce((s, c) => s + c, 0);
    if (n === 0) fail(fn, arg, "must not be all zero");
    return n;
  };
  const n1 = whole("referenceCounts", referenceCounts);
  const n2 = whole("currentCounts", currentCounts);
  const g = gcd(n1, n2);
  let i = 0;
  let j = 0;
  let h = 0;
  for (let k = 0; k < referenceCounts.length; k++) {
    i += referenceCounts[k]!;
    j += currentCounts[k]!;
    h = Math.max(h, Math.abs(i * (n2 / g) - j * (n1 / g)));
  }
  return ksResult(fn, n1, n2, h, options);
}

// --- Wasserstein ------------------------------------------------------------------------

export interface WassersteinOptions {
  /** Weights of the reference values (e.g. histogram counts); default 1 each. */
  referenceWeights?: readonly number[];
  currentWeights?: readonly number[];
}

function weights(
  fn: string,
  side: "reference" | "current",
  values: readonly number[],
  w: readonly number[] | undefined,
): number[] {
  if (w === undefined) return values.map(() => 1);
  const arg = `${side}Weights`;
  requireSameLength(fn, side, values, `options.${arg}`, w);
  const out = w.map((x, k) => {
    requireNonNegative(fn, `options.${arg}[${k}]`, x);
    return x;
  });
  if (!(out.reduce((s, x) => s + x, 0) > 0)) fail(fn, `options.${arg}`, "must not be all zero");
  return out;
}

/**
 * Wasserstein-1 (earth mover's) distance between two samples, optionally weighted: the area
 * between their cumulative distribution functions (scipy's `wasserstein_distance`).
 */
export function wassersteinDistance(
  reference: readonly number[],
  current: readonly number[],
  options: WassersteinOptions = {},
): number {
  const fn = "wassersteinDistance";
  requireMinLength(fn, "reference", reference, 1);
  requireMinLength(fn, "current", current, 1);
  reference.forEach((x, k) => {
    requireFinite(fn, `reference[${k}]`, x);
  });
  current.forEach((x, k) => {
    requireFinite(fn, `current[${k}]`, x);
  });
  const wr = weights(fn, "reference", reference, options.referenceWeights);
  const wc = weights(fn, "current", current, options.currentWeights);
  const totalR = wr.reduce((s, x) => s + x, 0);
  const totalC = wc.reduce((s, x) => s + x, 0);
  const points = [
    ...reference.map((v, k) => ({ v, r: wr[k]! / totalR, c: 0 })),
    ...current.map((v, k) => ({ v, r: 0, c: wc[k]! / totalC })),
  ].sort((a, b) => a.v - b.v);
  let fr = 0;
  let fc = 0;
  let area = 0;
  for (let k = 0; k < points.length - 1; k++) {
    fr += points[k]!.r;
    fc += points[k]!.c;
    area += Math.abs(fr - fc) * (points[k + 1]!.v - points[k]!.v);
  }
  return area;
}

/**
 * Wasserstein-1 divided by the reference's standard deviation (population, weighted when
 * weights are given; at least 0.001), as Evidently's `wasserstein` test: scale-free, so one
 * threshold (Evidently's default 0.1) serves every feature.
 */
export function normalizedWasserstein(
  reference: readonly number[],
  current: readonly number[],
  options: WassersteinOptions = {},
): number {
  const distance = wassersteinDistance(reference, current, options);
  const w = weights("normalizedWasserstein", "reference", reference, options.referenceWeights);
  const total = w.reduce((s, x) => s + x, 0);
  const mean = reference.reduce((s, x, k) => s + x * w[k]!, 0) / total;
  const variance = reference.reduce((s, x, k) => s + w[k]! * (x - mean) ** 2, 0) / total;
  return distance / Math.max(Math.sqrt(variance), 0.001);
}
