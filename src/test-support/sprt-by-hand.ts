// Wald's SPRT mixture likelihood ratio written out by hand, independently of the stats engine,
// for tests that pin the rollout judge's and the guardrails' decisions to it.

/** The mixture the judge uses: rates 1.5, 2, 3 and 5 times the null, weighted 0.1, 0.1, 0.7, 0.1. */
export const MIXTURE: readonly (readonly [ratio: number, weight: number])[] = [
  [1.5, 0.1],
  [2, 0.1],
  [3, 0.7],
  [5, 0.1],
];

/**
 * sum over the mixture of w (p1/p0)^x ((1 - p1)/(1 - p0))^(n - x), with p1 = `alternative(ratio)`
 * (default ratio x p0).
 */
export function mixtureLR(
  x: number,
  n: number,
  p0: number,
  alternative = (ratio: number) => ratio * p0,
): number {
  return MIXTURE.reduce((s, [ratio, w]) => {
    const p1 = alternative(ratio);
    return s + w * (p1 / p0) ** x * ((1 - p1) / (1 - p0)) ** (n - x);
  }, 0);
}
