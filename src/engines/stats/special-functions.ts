// Special functions behind every distribution in this engine. Tail probabilities are
// computed directly (upper regularized gamma/beta by continued fraction), never as
// 1 - cdf, so p-values like 3e-22 keep their relative precision.

const EPS = 1e-16;
const TINY = 1e-300;
const MAX_ITER = 100_000;

// Lanczos approximation, g = 7, n = 9: about 15 significant digits for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.9189385332046728;

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x < 0.5) {
    // Reflection keeps the series in its accurate range.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < 9; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return HALF_LOG_TWO_PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

// lnΓ(x) - [(x - 1/2) ln x - x + ln √(2π)], the Stirling series, for x >= 10 (error < 2e-14).
function stirlingCorrection(x: number): number {
  const x2 = 1 / (x * x);
  return (1 / 12 - x2 * (1 / 360 - x2 * (1 / 1260 - x2 * (1 / 1680 - x2 / 1188)))) / x;
}

/**
 * ln B(a, b). For large arguments lnΓ(a) + lnΓ(b) - lnΓ(a + b) would cancel digits away
 * (lnΓ(1e6) ≈ 1.3e7), so the Stirling terms are combined first, as R's lbeta does.
 */
export function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (p >= 10) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(p + q);
    return (
      -0.5 * Math.log(q) +
      HALF_LOG_TWO_PI +
      corr +
      (p - 0.5) * Math.log(p / (p + q)) +
      q * Math.log1p(-p / (p + q))
    );
  }
  if (q >= 10) {
    const corr = stirlingCorrection(q) - stirlingCorrection(p + q);
    return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

export interface Tails {
  /** The lower tail (the regularized P or I). */
  lower: number;
  /** The upper tail (1 - lower), computed without cancellation where it is the small one. */
  upper: number;
}

/** Regularized incomplete gamma P(a, x) and Q(a, x) = 1 - P(a, x), for a > 0, x >= 0. */
export function gammaTails(a: number, x: number): Tails {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (x === Number.POSITIVE_INFINITY) return { lower: 1, upper: 0 };
  const logPrefactor = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // Series for P converges fast below the mode.
    let ap = a;
    let term = 1 / a;
    let sum = term;
    for (let i = 0; i < MAX_ITER; i++) {
      ap += 1;
      term *= x / ap;
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) {
        const lower = Math.min(1, sum * Math.exp(logPrefactor));
        return { lower, upper: 1 - lower };
      }
    }
    throw new Error(`gammaTails: series did not converge (a=${a}, x=${x})`);
  }
  // Continued fraction for Q (modified Lentz).
  let b = x + 1 - a;
  let c = 1 / TINY;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < TINY) d = TINY;
    c = b + an / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) {
      const upper = Math.min(1, Math.exp(logPrefactor) * h);
      return { lower: 1 - upper, upper };
    }
  }
  throw new Error(`gammaTails: continued fraction did not converge (a=${a}, x=${x})`);
}

// Continued fraction for the incomplete beta (Numerical Recipes betacf, modified Lentz).
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m < MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) return h;
  }
  throw new Error(`betaTails: continued fraction did not converge (a=${a}, b=${b}, x=${x})`);
}

/**
 * Regularized incomplete beta I_x(a, b) and its complement, for a, b > 0 and x in [0, 1].
 * `y` is 1 - x; pass it when the caller knows it more precisely than 1 - x.
 */
export function betaTails(a: number, b: number, x: number, y = 1 - x): Tails {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (y <= 0) return { lower: 1, upper: 0 };
  const logFront = a * Math.log(x) + b * Math.log(y) - logBeta(a, b);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = Math.min(1, (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a);
    return { lower, upper: 1 - lower };
  }
  const upper = Math.min(1, (Math.exp(logFront) * betaContinuedFraction(b, a, y)) / b);
  return { lower: 1 - upper, upper };
}

/** Density of Beta(a, b) at x. */
export function betaDensity(a: number, b: number, x: number): number {
  if (x < 0 || x > 1) return 0;
  if (x === 0) return a < 1 ? Number.POSITIVE_INFINITY : a === 1 ? b : 0;
  if (x === 1) return b < 1 ? Number.POSITIVE_INFINITY : b === 1 ? a : 0;
  return Math.exp((a - 1) * Math.log(x) + (b - 1) * Math.log1p(-x) - logBeta(a, b));
}

/**
 * Inverse of the regularized incomplete beta: the x with I_x(a, b) = p (tail "lower") or
 * 1 - I_x(a, b) = p (tail "upper"). Newton steps inside a shrinking bisection bracket, so
 * it converges for any a, b > 0 and keeps relative precision for tiny tail probabilities.
 */
export function inverseBeta(p: number, a: number, b: number, tail: "lower" | "upper" = "lower"): number {
  if (p <= 0) return tail === "lower" ? 0 : 1;
  if (p >= 1) return tail === "lower" ? 1 : 0;
  // Solve on the side whose tail is small, so the target keeps its precision.
  if (tail === "upper") {
    // 1 - I_x(a, b) = I_{1-x}(b, a)
    return 1 - inverseBetaLower(p, b, a);
  }
  return inverseBetaLower(p, a, b);
}

function inverseBetaLower(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  // Start at the mean; the bracket makes a poor start cost iterations, not correctness.
  let x = a / (a + b);
  for (let i = 0; i < 1000; i++) {
    const f = betaTails(a, b, x).lower - p;
    if (f === 0) return x;
    if (f < 0) lo = x;
    else hi = x;
    const density = betaDensity(a, b, x);
    let next = density > 0 && Number.isFinite(density) ? x - f / density : Number.NaN;
    if (!(next > lo && next < hi)) next = lo === 0 && hi < 1e-3 ? hi / 16 : (lo + hi) / 2;
    if (Math.abs(next - x) <= 4 * Number.EPSILON * Math.max(x, next) || hi - lo <= Number.MIN_VALUE) {
      return next;
    }
    x = next;
  }
  return x;
}
