// Treatment against control: fixed-horizon tests and lift for every metric, and for the
// primary the always-valid sequential test and the Bayesian chance to beat control.

import type { SequentialResult } from "../stats/index.ts";
import {
  adjustPValues,
  alwaysValidTest,
  betaBinomialTest,
  frequentistLift,
  holm,
  mixingVarianceForHorizon,
  type ProportionSummary,
  type SumSummary,
  twoProportionZTest,
  welchTTestFromSummary,
} from "../stats/index.ts";
import type {
  ArmInput,
  Comparison,
  Direction,
  ExperimentInput,
  ExperimentMetric,
  PrimaryComparison,
} from "./types.ts";

type Data = { kind: "proportion"; s: ProportionSummary } | { kind: "sum"; s: SumSummary };

export const HIGHER_IS_BETTER: Record<ExperimentMetric, boolean> = {
  success_rate: true,
  error_rate: false,
  score_mean: true,
};

/** The observations an arm has for a metric: feedback, requests or scores. */
export function dataOf(metric: ExperimentMetric, a: ArmInput): Data {
  if (metric === "success_rate")
    return { kind: "proportion", s: { successes: a.successes, n: a.feedbackCount } };
  if (metric === "error_rate") return { kind: "proportion", s: { successes: a.errors, n: a.requests } };
  return {
    kind: "sum",
    s: { sum: a.scoreSum ?? 0, sumSquares: a.scoreSumSquares ?? 0, n: a.scoreCount ?? 0 },
  };
}

const meanOf = (d: Data): number | null =>
  d.s.n === 0 ? null : d.kind === "proportion" ? d.s.successes / d.s.n : d.s.sum / d.s.n;

function attempt<T>(f: () => T, notes: string[]): T | null {
  try {
    return f();
  } catch (e) {
    // The inputs are checked; what the stats engine still refuses is an undefined statistic
    // (a zero control mean, or no variance in either arm).
    notes.push((e as Error).message);
    return null;
  }
}

export interface CompareOptions {
  /** The planned horizon is reached: the fixed-horizon p and interval are valid to read. */
  horizonReached: boolean;
  /** The mixing variance of the always-valid test. */
  mixingVariance: number;
  previous?: SequentialResult;
}

/**
 * One treatment against the control: the always-valid (mSPRT) test, valid at every look, and
 * the fixed-horizon p-value and interval, shown only once the planned horizon is reached.
 * adjustedP and significance come later, from the always-valid p.
 */
export function compare(
  metric: ExperimentMetric,
  control: ArmInput,
  treatment: ArmInput,
  alpha: number,
  opts: CompareOptions,
): Comparison & { sequential: SequentialResult | null } {
  const c = dataOf(metric, control);
  const t = dataOf(metric, treatment);
  const out: Comparison & { sequential: SequentialResult | null } = {
    arm: treatment.name,
    metric,
    control: meanOf(c),
    treatment: meanOf(t),
    lift: null,
    pValue: null,
    sequentialP: null,
    adjustedP: null,
    significant: false,
    direction: "none",
    note: null,
    sequential: null,
  };
  if (c.s.n < 2 || t.s.n < 2) return { ...out, note: "fewer than 2 observations in an arm" };
  const notes: string[] = [];
  out.sequential = attempt(
    () => alwaysValidTest(c.s, t.s, { mixingVariance: opts.mixingVariance, alpha, previous: opts.previous }),
    notes,
  );
  out.sequentialP = out.sequential?.pValue ?? null;
  if (opts.horizonReached)
    out.pValue =
      c.kind === "proportion" && t.kind === "proportion"
        ? twoProportionZTest(t.s, c.s).pTwoSided
        : attempt(() => welchTTestFromSummary(t.s as SumSummary, c.s as SumSummary).pTwoSided, notes);
  const lift = attempt(() => frequentistLift(c.s, t.s, { alpha }), notes);
  if (lift) {
    if (opts.horizonReached || !out.sequential || out.sequential.se === 0)
      out.lift = { estimate: lift.estimate, ci: lift.ci, se: lift.se, ciKind: "fixed_horizon" };
    else {
      // The always-valid interval's width in standard errors, applied to the relative lift.
      const s = out.sequential;
      const k = (s.ci[1] - s.ci[0]) / (2 * s.se);
      out.lift = {
        estimate: lift.estimate,
        ci: [lift.estimate - k * lift.se, lift.estimate + k * lift.se],
        se: lift.se,
        ciKind: "always_valid",
      };
    }
  }
  out.note = notes.length > 0 ? notes.join("; ") : null;
  return out;
}

/** Sets adjustedP, significance and direction from p-values adjusted together. */
function settle<T extends Comparison>(
  list: T[],
  adjusted: (p: number[]) => number[],
  alpha: number,
  p: (c: T) => number | null,
): T[] {
  const tested = list.filter((c) => p(c) !== null);
  const adj = tested.length > 0 ? adjusted(tested.map((c) => p(c)!)) : [];
  return list.map((c) => {
    const i = tested.indexOf(c);
    const adjustedP = i >= 0 ? adj[i]! : null;
    const significant = adjustedP !== null && adjustedP < alpha;
    const up = (c.treatment ?? 0) > (c.control ?? 0);
    const direction: Direction = !significant
      ? "none"
      : up === HIGHER_IS_BETTER[c.metric]
        ? "better"
        : "worse";
    return { ...c, adjustedP, significant, direction };
  });
}

/**
 * The per-unit variance a metric is expected to have, fixed before the experiment: the
 * planned baseline rate (success), 1% errors, or the planned score variance.
 */
function unitVariance(input: ExperimentInput, metric: ExperimentMetric): number {
  if (metric === "score_mean") return input.plan.scoreVariance ?? 1;
  const p = metric === "error_rate" ? 0.01 : (input.plan.baselineRate ?? 0.5);
  return p * (1 - p);
}

/** The mixing variance from the planned horizon: per-unit variance × 2 / samplePerArm, tuned by the stats engine. */
export function mixingVariance(
  input: ExperimentInput,
  alpha: number,
  metric: ExperimentMetric = input.primary,
): number {
  return mixingVarianceForHorizon((2 * unitVariance(input, metric)) / input.plan.samplePerArm, alpha);
}

/** Whether every arm has reached the planned horizon on the primary metric. */
export function horizonReached(input: ExperimentInput): boolean {
  return input.arms.every((a) => dataOf(input.primary, a).s.n >= input.plan.samplePerArm);
}

/** Every treatment against the control on the primary metric; Holm across treatments on the always-valid p. */
export function primaryComparisons(input: ExperimentInput, alpha: number): PrimaryComparison[] {
  const [control, ...treatments] = input.arms as [ArmInput, ...ArmInput[]];
  const tau2 = mixingVariance(input, alpha);
  const reached = horizonReached(input);
  const list = treatments.map((t): PrimaryComparison => {
    const base = compare(input.primary, control, t, alpha, {
      horizonReached: reached,
      mixingVariance: tau2,
      previous: input.previousLooks?.[t.name],
    });
    const c = dataOf(input.primary, control);
    const d = dataOf(input.primary, t);
    const chanceToBeatControl =
      c.kind === "proportion" && d.kind === "proportion"
        ? betaBinomialTest(c.s, d.s).chanceToBeatControl
        : null;
    return { ...base, chanceToBeatControl };
  });
  return settle(list, holm, alpha, (c) => c.sequential?.pValue ?? null);
}

/**
 * Every secondary metric for every treatment: always-valid p-values corrected together (Holm
 * by default), so a significant secondary is safe to read at any look.
 */
export function secondaryComparisons(input: ExperimentInput, alpha: number): Comparison[] {
  const [control, ...treatments] = input.arms as [ArmInput, ...ArmInput[]];
  const metrics = [...new Set(input.secondary ?? [])].filter((m) => m !== input.primary);
  const reached = horizonReached(input);
  const list = metrics.flatMap((m) =>
    treatments.map((t) => {
      const { sequential: _, ...c } = compare(m, control, t, alpha, {
        horizonReached: reached,
        mixingVariance: mixingVariance(input, alpha, m),
      });
      return c;
    }),
  );
  const method = input.multipleTesting ?? "holm";
  return settle(
    list,
    (p) => adjustPValues(p, method),
    alpha,
    (c) => c.sequentialP,
  );
}
