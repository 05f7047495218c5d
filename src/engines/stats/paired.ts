// McNemar's test: two versions scored on the same cases. Only the discordant pairs (cases
// exactly one version got right) carry information about which is better.

import { binomialCdf, chiSquareSf } from "./distributions.ts";
import { requireCount } from "./validate.ts";

export interface McNemarInput {
  /** Pairs where only A succeeded (A right, B wrong). */
  onlyA: number;
  /** Pairs where only B succeeded (B right, A wrong). */
  onlyB: number;
}

export interface McNemarResult {
  /** Number of discordant pairs, onlyA + onlyB. */
  discordant: number;
  /** Exact two-sided p: 2 P(X <= min(onlyA, onlyB)) for X ~ Binomial(discordant, 1/2), capped at 1. */
  exactPTwoSided: number;
  /** (onlyA - onlyB)^2 / (onlyA + onlyB). */
  chiSquare: number;
  p: number;
  /** Edwards' continuity correction: max(0, |onlyA - onlyB| - 1)^2 / (onlyA + onlyB). */
  chiSquareContinuityCorrected: number;
  pContinuityCorrected: number;
}

/**
 * McNemar's test of H0: A and B succeed equally often. With no discordant pairs there is no
 * evidence either way: the statistics are 0 and every p-value is 1.
 */
export function mcNemarTest(input: McNemarInput): McNemarResult {
  const fn = "mcNemarTest";
  if (typeof input !== "object" || input === null) {
    throw new RangeError(`${fn}: input must be an object { onlyA, onlyB }`);
  }
  requireCount(fn, "onlyA", input.onlyA);
  requireCount(fn, "onlyB", input.onlyB);
  const { onlyA: b, onlyB: c } = input;
  const n = b + c;
  if (n === 0) {
    return {
      discordant: 0,
      exactPTwoSided: 1,
      chiSquare: 0,
      p: 1,
      chiSquareContinuityCorrected: 0,
      pContinuityCorrected: 1,
    };
  }
  const chiSquare = (b - c) ** 2 / n;
  const chiSquareContinuityCorrected = Math.max(0, Math.abs(b - c) - 1) ** 2 / n;
  return {
    discordant: n,
    exactPTwoSided: Math.min(1, 2 * binomialCdf(Math.min(b, c), n, 0.5)),
    chiSquare,
    p: chiSquareSf(chiSquare, 1),
    chiSquareContinuityCorrected,
    pContinuityCorrected: chiSquareSf(chiSquareContinuityCorrected, 1),
  };
}
