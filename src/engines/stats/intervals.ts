// Score intervals for proportions that behave at small counts, and their combination into
// intervals for differences (Newcombe 1998) and any linear combination (Zou & Donner's
// MOVER, 2008). The critical value is a parameter, so a caller can pass an always-valid one.

import { fail, requireCount, requirePositive } from "./validate.ts";

export interface Interval {
  estimate: number;
  lower: number;
  upper: number;
}

/** Wilson's score interval for `successes` of `n` at critical value z (1.96 for 95%). */
export function wilsonInterval(successes: number, n: number, z: number): Interval {
  const fn = "wilsonInterval";
  requireCount(fn, "successes", successes);
  requireCount(fn, "n", n);
  if (n < 1) fail(fn, "n", "must be >= 1");
  if (successes > n) fail(fn, "successes", `must not exceed n (${successes} > ${n})`);
  requirePositive(fn, "z", z);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Exactly 0 and 1 at the ends (the formula leaves rounding dust there).
  return {
    estimate: p,
    lower: successes === 0 ? 0 : Math.max(0, centre - half),
    upper: successes === n ? 1 : Math.min(1, centre + half),
  };
}

export interface LinearTerm {
  /** The coefficient of this proportion in the combination. */
  coef: number;
  successes: number;
  n: number;
}

/**
 * MOVER interval for sum(coef_k p_k) over independent proportions: each proportion's Wilson
 * limits at z, recovered into the combination's limits. For p1 - p2 it is Newcombe's hybrid
 * score interval (his method 10).
 */
export function moverInterval(terms: readonly LinearTerm[], z: number): Interval {
  if (!Array.isArray(terms) || terms.length === 0) fail("moverInterval", "terms", "must not be empty");
  let estimate = 0;
  let down = 0;
  let up = 0;
  for (const t of terms) {
    const w = wilsonInterval(t.successes, t.n, z);
    const e = t.coef * w.estimate;
    const a = t.coef * w.lower;
    const b = t.coef * w.upper;
    estimate += e;
    down += (e - Math.min(a, b)) ** 2;
    up += (Math.max(a, b) - e) ** 2;
  }
  return { estimate, lower: estimate - Math.sqrt(down), upper: estimate + Math.sqrt(up) };
}

/** Newcombe's hybrid score interval for p1 - p2 (method 10 of Newcombe 1998). */
export function newcombeInterval(
  a: { successes: number; n: number },
  b: { successes: number; n: number },
  z: number,
) {
  return moverInterval(
    [
      { coef: 1, ...a },
      { coef: -1, ...b },
    ],
    z,
  );
}
