// Distribution functions: normal, Student t, chi-square, beta, binomial. Each upper tail
// ("sf", the survival function) is computed directly, never as 1 - cdf.

import { betaDensity, betaTails, gammaTails, inverseBeta, logBeta } from "./special-functions.ts";
import { requireCount, requireFinite, requirePositive, requireProbability } from "./validate.ts";

const INV_SQRT_TWO_PI = 0.3989422804014327;

/** Density of the standard normal at z. */
export function normalPdf(z: number): number {
  return INV_SQRT_TWO_PI * Math.exp(-0.5 * z * z);
}

/** P(Z <= z) for the standard normal. */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  // erfc(t) = Q(1/2, t^2): the incomplete gamma keeps relative precision far into the tail.
  const half = 0.5 * gammaTails(0.5, 0.5 * z * z).upper;
  return z < 0 ? half : 1 - half;
}

/** P(Z > z) for the standard normal. */
export function normalSf(z: number): number {
  return normalCdf(-z);
}

// Acklam's rational approximation (relative error < 1.2e-9), then refined below.
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function acklam(p: number): number {
  const [a0, a1, a2, a3, a4, a5] = A as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = B as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = C as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = D as [number, number, number, number];
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) /
      ((((d0 * q + d1) * q + d2) * q + d3) * q + 1)
    );
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) /
    (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1)
  );
}

/** The z with P(Z <= z) = p, for p in (0, 1). */
export function normalQuantile(p: number): number {
  requireProbability("normalQuantile", "p", p);
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p > 0.5) return -lowerNormalQuantile(1 - p);
  return lowerNormalQuantile(p);
}

// Quantile for p <= 0.5 (z <= 0), where the cdf is computed without cancellation.
function lowerNormalQuantile(p: number): number {
  let x = acklam(p);
  // Two Halley steps on the exact cdf take Acklam's 1e-9 to full double precision.
  for (let i = 0; i < 2; i++) {
    const e = normalCdf(x) - p;
    const u = (e * Math.sqrt(2 * Math.PI)) / Math.exp(-0.5 * x * x);
    x -= u / (1 + 0.5 * x * u);
  }
  return x;
}

function requireDf(fn: string, df: number): void {
  requirePositive(fn, "df", df);
}

/** P(T <= t) for Student's t with `df` degrees of freedom (df > 0, need not be an integer). */
export function studentTCdf(t: number, df: number): number {
  requireDf("studentTCdf", df);
  if (Number.isNaN(t)) return Number.NaN;
  const t2 = t * t;
  // P(|T| > |t|) = I_{df/(df+t^2)}(df/2, 1/2); both x and 1-x computed directly.
  const tails = betaTails(df / 2, 0.5, df / (df + t2), t2 / (df + t2));
  const half = 0.5 * tails.lower;
  return t < 0 ? half : 1 - half;
}

/** P(T > t) for Student's t. */
export function studentTSf(t: number, df: number): number {
  requireDf("studentTSf", df);
  return studentTCdf(-t, df);
}

/** The t with P(T <= t) = p, for Student's t with `df` degrees of freedom. */
export function studentTQuantile(p: number, df: number): number {
  requireProbability("studentTQuantile", "p", p);
  requireDf("studentTQuantile", df);
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  if (p === 0.5) return 0;
  const tail = p < 0.5 ? p : 1 - p;
  const magnitude = upperTQuantile(tail, df);
  return p < 0.5 ? -magnitude : magnitude;
}

// The t > 0 with P(T > t) = q, for q < 0.5.
function upperTQuantile(q: number, df: number): number {
  const twoSided = 2 * q;
  if (twoSided <= 0.5) {
    // Small two-sided tail: x = df/(df+t^2) is small, so solve for it directly.
    const x = inverseBeta(twoSided, df / 2, 0.5);
    return Math.sqrt((df * (1 - x)) / x);
  }
  // Large tail: t is small; y = t^2/(df+t^2) is the precise unknown.
  const y = inverseBeta(1 - twoSided, 0.5, df / 2);
  return Math.sqrt((df * y) / (1 - y));
}

/** P(X <= x) for chi-square with `df` degrees of freedom. */
export function chiSquareCdf(x: number, df: number): number {
  requirePositive("chiSquareCdf", "df", df);
  if (x <= 0) return 0;
  return gammaTails(df / 2, x / 2).lower;
}

/** P(X > x) for chi-square with `df` degrees of freedom (the p-value of a chi-square statistic). */
export function chiSquareSf(x: number, df: number): number {
  requirePositive("chiSquareSf", "df", df);
  if (x <= 0) return 1;
  return gammaTails(df / 2, x / 2).upper;
}

function requireBetaParams(fn: string, a: number, b: number): void {
  requirePositive(fn, "alpha", a);
  requirePositive(fn, "beta", b);
}

/** Density of Beta(alpha, beta) at x. */
export function betaPdf(x: number, alpha: number, beta: number): number {
  requireBetaParams("betaPdf", alpha, beta);
  return betaDensity(alpha, beta, x);
}

/** P(X <= x) for Beta(alpha, beta): the regularized incomplete beta I_x(alpha, beta). */
export function betaCdf(x: number, alpha: number, beta: number): number {
  requireBetaParams("betaCdf", alpha, beta);
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return betaTails(alpha, beta, x).lower;
}

/** P(X > x) for Beta(alpha, beta). */
export function betaSf(x: number, alpha: number, beta: number): number {
  requireBetaParams("betaSf", alpha, beta);
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  return betaTails(alpha, beta, x).upper;
}

/** The x with P(X <= x) = p for Beta(alpha, beta). */
export function betaQuantile(p: number, alpha: number, beta: number): number {
  requireProbability("betaQuantile", "p", p);
  requireBetaParams("betaQuantile", alpha, beta);
  // Solve on the smaller tail so extreme quantiles keep their precision.
  return p <= 0.5 ? inverseBeta(p, alpha, beta, "lower") : inverseBeta(1 - p, alpha, beta, "upper");
}

function requireBinomial(fn: string, k: number, n: number, p: number): void {
  requireFinite(fn, "k", k);
  requireCount(fn, "n", n);
  requireProbability(fn, "p", p);
}

/** P(X = k) for X ~ Binomial(n, p). */
export function binomialPmf(k: number, n: number, p: number): number {
  requireBinomial("binomialPmf", k, n, p);
  if (!Number.isInteger(k) || k < 0 || k > n) return 0;
  if (p === 0) return k === 0 ? 1 : 0;
  if (p === 1) return k === n ? 1 : 0;
  return Math.exp(-Math.log(n + 1) - logBeta(k + 1, n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/** P(X <= k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  requireBinomial("binomialCdf", k, n, p);
  const j = Math.floor(k);
  if (j < 0) return 0;
  if (j >= n) return 1;
  // P(X <= j) = I_{1-p}(n - j, j + 1)
  return betaTails(n - j, j + 1, 1 - p, p).lower;
}

/** P(X > k) for X ~ Binomial(n, p). */
export function binomialSf(k: number, n: number, p: number): number {
  requireBinomial("binomialSf", k, n, p);
  const j = Math.floor(k);
  if (j < 0) return 1;
  if (j >= n) return 0;
  return betaTails(n - j, j + 1, 1 - p, p).upper;
}
