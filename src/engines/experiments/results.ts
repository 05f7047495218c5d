// experimentResults: the whole A/B analysis of one look, from arm totals to a recommendation.

import { fmtDuration, num } from "../rollout/index.ts";
import { armResult, checkGuardrail, checkInput, srmCheck } from "./arms.ts";
import { dataOf, horizonReached, primaryComparisons, secondaryComparisons } from "./compare.ts";
import { recommend } from "./recommend.ts";
import type { ExperimentInput, ExperimentResults } from "./types.ts";

export const DEFAULT_MIN_SAMPLE_PER_ARM = 100;

/**
 * Per-arm counts, rates and cost per successful outcome; each treatment against the control
 * (arms[0]) on the primary metric with relative lift and CI, fixed-horizon and always-valid
 * p-values and, for rates, the chance to beat control; the secondaries with corrected p-values;
 * guardrails on the treatments; the SRM check; and a recommendation with its reasons. Throws a
 * RangeError naming the field on malformed input.
 */
export function experimentResults(input: ExperimentInput): ExperimentResults {
  checkInput(input);
  const alpha = input.alpha ?? 0.05;
  const totalWeight = input.arms.reduce((s, a) => s + a.weight, 0);
  const arms = input.arms.map((a) => armResult(a, totalWeight));
  const control = arms[0]!;
  const guardrails = (input.guardrails ?? []).flatMap((g) =>
    input.arms.slice(1).map((t) => checkGuardrail(g, t, input.arms[0]!)),
  );
  const srm = srmCheck(input, arms);
  const primary = primaryComparisons(input, alpha);
  const secondary = secondaryComparisons(input, alpha);

  const minSample = input.minSamplePerArm ?? DEFAULT_MIN_SAMPLE_PER_ARM;
  const shortfalls: string[] = [];
  for (const a of input.arms) {
    const n = dataOf(input.primary, a).s.n;
    if (n < minSample)
      shortfalls.push(`${a.name} has ${num(n, 0)} of the ${num(minSample, 0)} observations per arm needed`);
  }
  if (input.minDurationMs !== undefined && (input.elapsedMs ?? 0) < input.minDurationMs)
    shortfalls.push(
      `running for ${fmtDuration(input.elapsedMs ?? 0)} of the ${fmtDuration(input.minDurationMs)} minimum`,
    );
  const recommendation = recommend({ input, alpha, arms, primary, guardrails, srm, shortfalls });
  const observedPerArm = Math.min(...input.arms.map((a) => dataOf(input.primary, a).s.n));
  const reached = horizonReached(input);
  const planned = num(input.plan.samplePerArm, 0);
  const horizon = {
    samplePerArm: input.plan.samplePerArm,
    observedPerArm,
    reached,
    note: reached
      ? `the planned ${planned} per arm is reached: fixed-horizon p-values and intervals are shown beside the always-valid ones`
      : `always-valid p-values and intervals are safe to read at every look; fixed-horizon p-values are shown from the planned ${planned} per arm on (${num(observedPerArm, 0)} now)`,
  };
  return {
    control: control.name,
    arms,
    primary,
    secondary,
    guardrails,
    srm,
    trustworthy: srm.status !== "mismatch",
    minimumMet: shortfalls.length === 0,
    horizon,
    recommendation,
  };
}
