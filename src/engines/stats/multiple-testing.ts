// Adjusted p-values for families of tests (the definitions of statsmodels' multipletests).

import { requireMinLength, requireProbability } from "./validate.ts";

export type AdjustMethod = "bonferroni" | "holm" | "benjamini-hochberg";

function check(fn: string, p: readonly number[]): void {
  requireMinLength(fn, "p", p, 1);
  for (let i = 0; i < p.length; i++) requireProbability(fn, `p[${i}]`, p[i]!);
}

// Indices of p in ascending order of p (stable, so ties keep their input order).
function ascending(p: readonly number[]): number[] {
  return p.map((_, i) => i).sort((i, j) => p[i]! - p[j]! || i - j);
}

/** Bonferroni: min(1, m p_i). Controls the family-wise error rate. */
export function bonferroni(p: readonly number[]): number[] {
  check("bonferroni", p);
  return p.map((x) => Math.min(1, p.length * x));
}

/** Holm step-down: p_(i) (m - i + 1), made non-decreasing, capped at 1. Controls the family-wise error rate. */
export function holm(p: readonly number[]): number[] {
  check("holm", p);
  const m = p.length;
  const out = new Array<number>(m);
  let running = 0;
  ascending(p).forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[idx]!));
    out[idx] = running;
  });
  return out;
}

/** Benjamini–Hochberg step-up: p_(i) m / i, made non-increasing from the top, capped at 1. Controls the false discovery rate. */
export function benjaminiHochberg(p: readonly number[]): number[] {
  check("benjaminiHochberg", p);
  const m = p.length;
  const order = ascending(p);
  const out = new Array<number>(m);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const idx = order[rank]!;
    running = Math.min(running, (m * p[idx]!) / (rank + 1));
    out[idx] = running;
  }
  return out;
}

/** Adjusted p-values by the named method, in the input order. */
export function adjustPValues(p: readonly number[], method: AdjustMethod): number[] {
  switch (method) {
    case "bonferroni":
      return bonferroni(p);
    case "holm":
      return holm(p);
    case "benjamini-hochberg":
      return benjaminiHochberg(p);
    default:
      throw new RangeError(
        `adjustPValues: method must be bonferroni, holm or benjamini-hochberg (got ${method})`,
      );
  }
}
