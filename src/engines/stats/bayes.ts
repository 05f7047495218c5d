// Beta-binomial comparison of two rates: chance to beat control and credible intervals.
// P(B > A) is computed by adaptive Gauss–Legendre quadrature of exact beta tails, with no
// Monte Carlo, so it is deterministic and accurate to about 1e-11 relative.

import { betaQuantile } from "./distributions.ts";
import { betaDensity, betaTails, inverseBeta, logBeta } from "./special-functions.ts";
import { checkProportion, type ProportionSummary } from "./summary.ts";
import { fail, requirePositive, requireProbability } from "./validate.ts";

/** Parameters of a Beta(alpha, beta) distribution. */
export interface BetaParams {
  alpha: number;
  beta: number;
}

// 20-point Gauss–Legendre nodes and weights on [-1, 1], by Newton on the Legendre recurrence.
const GL_N = 20;
const GL_X: number[] = [];
const GL_W: number[] = [];
for (let i = 1; i <= GL_N; i++) {
  let x = Math.cos((Math.PI * (i - 0.25)) / (GL_N + 0.5));
  let dp = 0;
  for (let iter = 0; iter < 100; iter++) {
    let p0 = 1;
    let p1 = x;
    for (let k = 2; k <= GL_N; k++) {
      const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
      p0 = p1;
      p1 = p2;
    }
    dp = (GL_N * (x * p1 - p0)) / (x * x - 1);
    const dx = p1 / dp;
    x -= dx;
    if (Math.abs(dx) < 1e-16) break;
  }
  GL_X.push(x);
  GL_W.push(2 / ((1 - x * x) * dp * dp));
}

type Pair = [number, number];

function gaussLegendre(f: (x: number) => Pair, a: number, b: number): Pair {
  const half = (b - a) / 2;
  const mid = (a + b) / 2;
  let s0 = 0;
  let s1 = 0;
  for (let i = 0; i < GL_N; i++) {
    const [f0, f1] = f(mid + half * GL_X[i]!);
    s0 += GL_W[i]! * f0;
    s1 += GL_W[i]! * f1;
  }
  return [s0 * half, s1 * half];
}

// Adaptive bisection: a panel is accepted when its halves agree with it to the panel's share
// of `tol`, or to the noise floor of the integrand; `budget` bounds the total work.
function adaptive(
  f: (x: number) => Pair,
  a: number,
  b: number,
  whole: Pair,
  tol: number,
  depth: number,
  budget: { panels: number },
): Pair {
  const m = (a + b) / 2;
  const left = gaussLegendre(f, a, m);
  const right = gaussLegendre(f, m, b);
  const sum: Pair = [left[0] + right[0], left[1] + right[1]];
  const err = Math.max(Math.abs(sum[0] - whole[0]), Math.abs(sum[1] - whole[1]));
  // Beta tails with large parameters carry ~1e-12 relative noise; asking the quadrature for
  // more than 1e-11 of a panel's value would split it until its width is below rounding.
  const floor = 1e-11 * (Math.abs(sum[0]) + Math.abs(sum[1]));
  budget.panels -= 1;
  if (depth === 0 || budget.panels <= 0 || err <= tol || err <= floor) return sum;
  const l = adaptive(f, a, m, left, tol / 2, depth - 1, budget);
  const r = adaptive(f, m, b, right, tol / 2, depth - 1, budget);
  return [l[0] + r[0], l[1] + r[1]];
}

function variance({ alpha: a, beta: b }: BetaParams): number {
  return (a * b) / ((a + b) ** 2 * (a + b + 1));
}

function checkBeta(fn: string, arg: string, p: BetaParams): void {
  if (typeof p !== "object" || p === null) fail(fn, arg, "must be an object { alpha, beta }");
  requirePositive(fn, `${arg}.alpha`, p.alpha);
  requirePositive(fn, `${arg}.beta`, p.beta);
}

/**
 * P(Y > X) for independent X ~ Beta(a) and Y ~ Beta(b). Integrates the density of the
 * narrower of the two against the other's exact tail, split at its median. A density that
 * is infinite at an end (parameter < 1) is integrated in t = x^alpha (or (1 - x)^beta),
 * where it is smooth; an end where it vanishes is cut at the 1e-17 quantile.
 */
export function probabilityBetaGreater(a: BetaParams, b: BetaParams): number {
  const fn = "probabilityBetaGreater";
  checkBeta(fn, "a", a);
  checkBeta(fn, "b", b);
  // Integrating over the narrower density keeps the other's cdf smooth on each panel.
  const aIsNarrow = variance(a) <= variance(b);
  const { alpha: na, beta: nb } = aIsNarrow ? a : b;
  const wide = aIsNarrow ? b : a;
  const logB = logBeta(na, nb);
  // [weight * P(wide > x), weight * P(wide < x)]; y = 1 - x, passed exactly where known.
  const tails = (weight: number, x: number, y: number): Pair => {
    const t = betaTails(wide.alpha, wide.beta, x, y);
    return [weight * t.upper, weight * t.lower];
  };
  const median = inverseBeta(0.5, na, nb);
  const parts: Pair[] = [];
  const budget = { panels: 20_000 };
  const integrate = (f: (u: number) => Pair, u0: number, u1: number): void => {
    parts.push(adaptive(f, u0, u1, gaussLegendre(f, u0, u1), 1e-14, 50, budget));
  };
  if (na < 1) {
    // x = u^(1/na): density * dx/du = (1 - x)^(nb - 1) / (na B)
    integrate(
      (u) => {
        const x = u ** (1 / na);
        return tails(Math.exp((nb - 1) * Math.log1p(-x) - logB) / na, x, 1 - x);
      },
      0,
      median ** na,
    );
  } else {
    const lo = inverseBeta(1e-17, na, nb, "lower");
    integrate((x) => tails(betaDensity(na, nb, x), x, 1 - x), lo, median);
  }
  if (nb < 1) {
    // 1 - x = u^(1/nb): density * |dx/du| = x^(na - 1) / (nb B)
    integrate(
      (u) => {
        const y = u ** (1 / nb);
        const x = 1 - y;
        return tails(Math.exp((na - 1) * Math.log(x) - logB) / nb, x, y);
      },
      0,
      (1 - median) ** nb,
    );
  } else {
    const hi = inverseBeta(1e-17, na, nb, "upper");
    integrate((x) => tails(betaDensity(na, nb, x), x, 1 - x), median, hi);
  }
  const wideAbove = parts.reduce((s, p) => s + p[0], 0);
  const wideBelow = parts.reduce((s, p) => s + p[1], 0);
  // Normalising by the total removes the truncated mass and the quadrature's scale error.
  const pWideGreater = wideAbove / (wideAbove + wideBelow);
  return aIsNarrow ? pWideGreater : 1 - pWideGreater;
}

/** Equal-tailed credible interval [Q(alpha/2), Q(1 - alpha/2)] of Beta(params). */
export function betaCredibleInterval(params: BetaParams, alpha = 0.05): [number, number] {
  const fn = "betaCredibleInterval";
  checkBeta(fn, "params", params);
  requireProbability(fn, "alpha", alpha, true);
  return [
    betaQuantile(alpha / 2, params.alpha, params.beta),
    betaQuantile(1 - alpha / 2, params.alpha, params.beta),
  ];
}

export interface BetaBinomialOptions {
  /** Beta prior shared by both arms (default Beta(1, 1), uniform). */
  prior?: BetaParams;
  /** 1 - credibility of the intervals (default 0.05). */
  alpha?: number;
}

export interface BetaPosterior extends BetaParams {
  mean: number;
  /** Equal-tailed credible interval of the rate. */
  ci: [number, number];
}

export interface BetaBinomialResult {
  control: BetaPosterior;
  treatment: BetaPosterior;
  /** P(treatment rate > control rate) under the posteriors. */
  chanceToBeatControl: number;
}

/** Bayesian comparison of two rates with conjugate Beta posteriors. */
export function betaBinomialTest(
  control: ProportionSummary,
  treatment: ProportionSummary,
  options: BetaBinomialOptions = {},
): BetaBinomialResult {
  const fn = "betaBinomialTest";
  checkProportion(fn, "control", control, 0);
  checkProportion(fn, "treatment", treatment, 0);
  const { prior = { alpha: 1, beta: 1 }, alpha = 0.05 } = options;
  checkBeta(fn, "options.prior", prior);
  requireProbability(fn, "options.alpha", alpha, true);
  const posterior = (s: ProportionSummary): BetaPosterior => {
    const params = { alpha: prior.alpha + s.successes, beta: prior.beta + s.n - s.successes };
    return {
      ...params,
      mean: params.alpha / (params.alpha + params.beta),
      ci: betaCredibleInterval(params, alpha),
    };
  };
  const c = posterior(control);
  const t = posterior(treatment);
  return {
    control: c,
    treatment: t,
    chanceToBeatControl: probabilityBetaGreater(
      { alpha: c.alpha, beta: c.beta },
      { alpha: t.alpha, beta: t.beta },
    ),
  };
}
