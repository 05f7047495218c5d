// One-sided tests that stay valid however often they are looked at: the rollout judge and
// the experiment guardrails ask "is this worse than the limit?" every second or minute, and
// each look must not be another chance of a false alarm.
//
// Both are likelihood-ratio martingales under the null, so by Ville's inequality the
// probability that they ever reach 1/alpha, over any number of looks, is at most alpha.
//
// 1. bernoulliSprt: Wald's sequential probability ratio test of a rate, H0: p <= p0, with
//    the alternative a weighted mixture of rates p1 > p0 (a mixture of martingales is one).
//    Used for error rates and shares of slow requests, where events are rare and a normal
//    approximation is poor.
// 2. normalMixtureOneSided: the one-sided normal-mixture boundary (Robbins 1970; Howard,
//    Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence
//    sequences", one-sided normal mixture) for an asymptotically normal estimate: H0:
//    theta <= theta0 (or >=), mixing over effects on the alternative side with a half-normal
//    of scale tau. Used for differences in success rate, score, cost and group gaps.

import { normalCdf } from "./distributions.ts";
import { fail, requireNonNegative, requirePositive, requireProbability } from "./validate.ts";

const LN2 = Math.LN2;
const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln Phi(x), accurate in the far lower tail where Phi underflows. */
export function logNormalCdf(x: number): number {
  if (x > -30) return Math.log(normalCdf(x));
  // Mills-ratio series: Phi(x) ~ phi(x)/|x| (1 - 1/x^2 + 3/x^4 - 15/x^6).
  const x2 = x * x;
  return -x2 / 2 - HALF_LN_2PI - Math.log(-x) + Math.log1p(-1 / x2 + 3 / (x2 * x2) - 15 / (x2 * x2 * x2));
}

function logSumExp(xs: number[]): number {
  const m = Math.max(...xs);
  if (m === Number.NEGATIVE_INFINITY || m === Number.POSITIVE_INFINITY) return m;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

export interface SprtAlternative {
  /** The alternative rate, in (p0, 1). */
  p1: number;
  /** Its weight in the mixture; the weights are normalised. */
  weight: number;
}

export interface SprtResult {
  /** ln of the mixture likelihood ratio against p0. */
  logLikelihoodRatio: number;
  /** ln(1/alpha): the boundary. */
  logThreshold: number;
  /** The ratio has reached 1/alpha: reject H0 (p <= p0). */
  rejects: boolean;
  /** min(1, 1/ratio): an always-valid p-value at this look (not carried over earlier looks). */
  pValue: number;
}

/**
 * Wald's SPRT of H0: p <= p0 on `events` out of `n` trials, with a mixture of alternatives.
 * The ratio depends on the counts only, so it is the same whichever order they came in.
 * Counts may be fractional (an interpolated share), never negative, events <= n.
 */
export function bernoulliSprt(
  events: number,
  n: number,
  p0: number,
  alternatives: readonly SprtAlternative[],
  alpha = 0.05,
): SprtResult {
  const fn = "bernoulliSprt";
  requireNonNegative(fn, "n", n);
  requireNonNegative(fn, "events", events);
  if (events > n + 1e-9) fail(fn, "events", `must not exceed n (${events} > ${n})`);
  requireProbability(fn, "p0", p0, true);
  requireProbability(fn, "alpha", alpha, true);
  if (!Array.isArray(alternatives) || alternatives.length === 0)
    fail(fn, "alternatives", "must list at least one alternative");
  // Plain loops: this runs every second per rollout and millions of times in the benchmark.
  let total = 0;
  for (let i = 0; i < alternatives.length; i++) {
    const a = alternatives[i]!;
    if (!(a.p1 > p0 && a.p1 < 1)) fail(fn, `alternatives[${i}].p1`, `must be in (p0, 1) (got ${a.p1})`);
    requirePositive(fn, `alternatives[${i}].weight`, a.weight);
    total += a.weight;
  }
  const terms: number[] = new Array(alternatives.length);
  const fail0 = Math.log1p(-p0);
  for (let i = 0; i < alternatives.length; i++) {
    const a = alternatives[i]!;
    terms[i] =
      Math.log(a.weight / total) + events * Math.log(a.p1 / p0) + (n - events) * (Math.log1p(-a.p1) - fail0);
  }
  const logLikelihoodRatio = logSumExp(terms);
  const logThreshold = -Math.log(alpha);
  return {
    logLikelihoodRatio,
    logThreshold,
    rejects: logLikelihoodRatio >= logThreshold,
    pValue: Math.min(1, Math.exp(-logLikelihoodRatio)),
  };
}

/**
 * The mixture weights the rollout judge and the guardrails use for a rate limit p0:
 * alternatives at 1.5, 2, 3 and 5 times p0 (capped below 1), most weight on 3x, so that a
 * rate three times the limit is caught almost as fast as by a test built for it alone, and
 * any rate above about 1.25x the limit is caught eventually.
 */
export function rateAlternatives(p0: number): SprtAlternative[] {
  const hit = alternativesCache.get(p0);
  if (hit) return hit;
  const cap = (p: number) => Math.min(p, p0 + (1 - p0) * 0.9);
  const out = RATE_RATIOS.map((r) => ({ p1: cap(r.ratio * p0), weight: r.weight }));
  if (alternativesCache.size > 10_000) alternativesCache.clear();
  alternativesCache.set(p0, out);
  return out;
}

/** The rate ratios of `rateAlternatives` and their weights. */
export const RATE_RATIOS: readonly { ratio: number; weight: number }[] = [
  { ratio: 1.5, weight: 0.1 },
  { ratio: 2, weight: 0.1 },
  { ratio: 3, weight: 0.7 },
  { ratio: 5, weight: 0.1 },
];
const alternativesCache = new Map<number, SprtAlternative[]>();

export interface OneSidedMixtureOptions {
  /** Scale of the half-normal mixing distribution over the effect, in the estimate's units. */
  tau: number;
  /** Error rate (default 0.05). */
  alpha?: number;
  /** "less": evidence that theta < theta0 (default); "greater": theta > theta0. */
  side?: "less" | "greater";
}

export interface OneSidedMixtureResult {
  /** (estimate - theta0) / se, signed so that positive points to the alternative side. */
  z: number;
  /** ln of the one-sided mixture likelihood ratio. */
  logLikelihoodRatio: number;
  /** The z the mixture needs at this amount of information to reject: its always-valid critical value. */
  criticalZ: number;
  /** The always-valid one-sided confidence bound: upper bound for "less", lower for "greater". */
  bound: number;
  rejects: boolean;
  pValue: number;
}

/**
 * ln of the one-sided normal mixture likelihood ratio for a sum S with intrinsic time V
 * (S = (estimate - theta0) / se^2, V = 1 / se^2) and mixing precision rho = 1 / tau^2:
 *
 *   Lambda = 2 sqrt(rho / (V + rho)) exp(S^2 / (2 (V + rho))) Phi(S / sqrt(V + rho)),
 *
 * the integral of exp(theta S - theta^2 V / 2) over a half-normal theta >= 0 of scale tau.
 */
export function logOneSidedMixture(s: number, v: number, rho: number): number {
  const w = v + rho;
  return LN2 + 0.5 * Math.log(rho / w) + (s * s) / (2 * w) + logNormalCdf(s / Math.sqrt(w));
}

const criticalCache = new Map<number, number>();

/**
 * The z at which the one-sided mixture reaches 1/alpha for information `v` = 1/se^2 and
 * mixing scale tau: the always-valid replacement of the fixed z(1 - alpha). It grows slowly
 * (as sqrt(ln(v tau^2))) with the information; bisection to 1e-9.
 */
export function oneSidedCriticalZ(v: number, tau: number, alpha: number): number {
  const fn = "oneSidedCriticalZ";
  requirePositive(fn, "v", v);
  requirePositive(fn, "tau", tau);
  requireProbability(fn, "alpha", alpha, true);
  // The boundary depends on v tau^2 and alpha only, and slowly: it is solved at v tau^2
  // rounded to a 1/500 step of its logarithm and cached (over one step the boundary moves by
  // less than 3e-4 of itself), so most looks cost a map lookup.
  const step = Math.round(Math.log(v * tau * tau) * 500);
  const key = step * 1e7 + Math.round(alpha * 1e7);
  const hit = criticalCache.get(key);
  if (hit !== undefined) return hit;
  const vt = Math.exp(step / 500);
  const target = -Math.log(alpha);
  // With tau = 1 the information is v tau^2 itself: f(z) = ln Lambda(z) - ln(1/alpha), which
  // rises with z. Newton's method from the two-sided boundary, safeguarded by a bracket.
  const w = vt + 1;
  const r = Math.sqrt(vt / w);
  const f = (z: number) => logOneSidedMixture(z * Math.sqrt(vt), vt, 1) - target;
  const slope = (z: number) => {
    const u = z * r;
    // d/dz ln Phi(u) = r phi(u) / Phi(u), by the Mills ratio for a far negative u.
    const mills = u < -30 ? -u : Math.exp(-0.5 * u * u - logNormalCdf(u)) / Math.sqrt(2 * Math.PI);
    return (z * vt) / w + r * mills;
  };
  let lo = 0;
  let hi = Math.max(1, Math.sqrt((w / vt) * (2 * target + Math.log(w))));
  while (f(hi) < 0) hi *= 2;
  let z = hi;
  for (let i = 0; i < 100; i++) {
    const fz = f(z);
    if (Math.abs(fz) < 1e-12) break;
    if (fz < 0) lo = z;
    else hi = z;
    let next = z - fz / slope(z);
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - z) < 1e-12 * Math.max(1, z)) {
      z = next;
      break;
    }
    z = next;
  }
  // The smallest z that rejects, so a z at the boundary rejects.
  if (f(z) < 0) z = z + 1e-12 * Math.max(1, z);
  const result = z;
  if (criticalCache.size > 50_000) criticalCache.clear();
  criticalCache.set(key, result);
  return result;
}

/**
 * One look of the one-sided always-valid test of an asymptotically normal estimate against
 * theta0. Rejecting whenever `rejects` is true, at every look, keeps the error rate at or
 * below alpha for as long as one looks.
 */
export function normalMixtureOneSided(
  estimate: number,
  se: number,
  theta0: number,
  options: OneSidedMixtureOptions,
): OneSidedMixtureResult {
  const fn = "normalMixtureOneSided";
  if (!Number.isFinite(estimate)) fail(fn, "estimate", `must be finite (got ${estimate})`);
  if (!Number.isFinite(theta0)) fail(fn, "theta0", `must be finite (got ${theta0})`);
  requirePositive(fn, "se", se);
  const { tau, alpha = 0.05, side = "less" } = options ?? ({} as OneSidedMixtureOptions);
  requirePositive(fn, "options.tau", tau);
  requireProbability(fn, "options.alpha", alpha, true);
  const sign = side === "less" ? -1 : 1;
  const z = (sign * (estimate - theta0)) / se;
  const v = 1 / (se * se);
  const logLikelihoodRatio = logOneSidedMixture(z * Math.sqrt(v), v, 1 / (tau * tau));
  const criticalZ = oneSidedCriticalZ(v, tau, alpha);
  return {
    z,
    logLikelihoodRatio,
    criticalZ,
    bound: estimate - sign * criticalZ * se,
    rejects: z >= criticalZ,
    pValue: Math.min(1, Math.exp(-logLikelihoodRatio)),
  };
}
