// How a plan's alpha is spent across its steps. Each step's tests restart on the step's own
// window, so each step is another chance of a false alarm: the shares sum to 1 and the whole
// rollout stays within alpha. Most goes to the first step, where a bad candidate is caught
// on the least traffic and speed matters most.

import type { Plan } from "./types.ts";

export const FIRST_STEP_ALPHA_SHARE = 0.8;

/** The default split: 80% to the first step, the rest evenly; a single step takes it all. */
export function defaultAlphaByStep(steps: number): number[] {
  if (steps <= 1) return [1];
  const rest = (1 - FIRST_STEP_ALPHA_SHARE) / (steps - 1);
  return [FIRST_STEP_ALPHA_SHARE, ...Array.from({ length: steps - 1 }, () => rest)];
}

/** The share of every metric's alpha that step `stepIndex` may spend. */
export function stepAlphaShare(plan: Plan, stepIndex: number): number {
  if (plan.alphaByStep) return plan.alphaByStep[stepIndex] ?? 0;
  const n = plan.steps.length;
  if (n <= 1) return stepIndex === 0 ? 1 : 0;
  if (stepIndex === 0) return FIRST_STEP_ALPHA_SHARE;
  return stepIndex < n ? (1 - FIRST_STEP_ALPHA_SHARE) / (n - 1) : 0;
}
