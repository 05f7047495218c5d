// Calibrating a two-tier router: each case has the router's score and what each tier did on
// it (success, cost). A threshold t sends the cases scoring at or above t to the strong tier
// and the rest to the cheap one. Over every threshold that changes anything, the curve gives
// the mix's success rate and cost; calibration picks the cheapest threshold whose success
// meets the target (RouteLLM's "calibrate to a quality level", FrugalGPT's budget search).
// The cases are the ones a suite evaluated on both tiers, so the curve is exact on them and as
// uncertain as the suite is small.

export interface CalibrationCase {
  /** The router's score: higher means more likely to need the strong tier. */
  score: number;
  cheap: { success: number; costUsd: number };
  strong: { success: number; costUsd: number };
}

export interface CurvePoint {
  /** Cases scoring at or above it go to the strong tier (Infinity: none; -Infinity: all). */
  threshold: number;
  strongShare: number;
  successRate: number;
  costPerCaseUsd: number;
}

export class CalibrationError extends Error {}

function check(cases: readonly CalibrationCase[]) {
  if (cases.length === 0) throw new CalibrationError("calibration needs at least one case run on both tiers");
  for (const [i, c] of cases.entries())
    if (
      !Number.isFinite(c.score) ||
      !(c.cheap.success >= 0 && c.cheap.success <= 1 && c.strong.success >= 0 && c.strong.success <= 1) ||
      !(c.cheap.costUsd >= 0 && c.strong.costUsd >= 0)
    )
      throw new CalibrationError(`case ${i}: a finite score, successes in [0, 1] and costs of at least 0`);
}

/**
 * The cost-quality curve, from all-cheap (threshold +Infinity) to all-strong (-Infinity):
 * one point per distinct score, thresholds descending, so the strong share rises along it.
 */
export function costQualityCurve(cases: readonly CalibrationCase[]): CurvePoint[] {
  check(cases);
  const n = cases.length;
  const sorted = [...cases].sort((a, b) => b.score - a.score);
  let success = cases.reduce((s, c) => s + c.cheap.success, 0);
  let cost = cases.reduce((s, c) => s + c.cheap.costUsd, 0);
  const points: CurvePoint[] = [
    {
      threshold: Number.POSITIVE_INFINITY,
      strongShare: 0,
      successRate: success / n,
      costPerCaseUsd: cost / n,
    },
  ];
  let i = 0;
  while (i < n) {
    const t = sorted[i]!.score;
    // Every case with this score moves together.
    for (; i < n && sorted[i]!.score === t; i++) {
      const c = sorted[i]!;
      success += c.strong.success - c.cheap.success;
      cost += c.strong.costUsd - c.cheap.costUsd;
    }
    points.push({ threshold: t, strongShare: i / n, successRate: success / n, costPerCaseUsd: cost / n });
  }
  points.at(-1)!.threshold = Number.NEGATIVE_INFINITY;
  return points;
}

export interface Calibration {
  threshold: number;
  point: CurvePoint;
  /** Always-cheap and always-strong, for comparison. */
  cheapOnly: CurvePoint;
  strongOnly: CurvePoint;
  /** The target the point meets: a success rate. */
  target: number;
  curve: CurvePoint[];
}

/**
 * The cheapest point whose success rate is at least `target`; `target` as a share of the
 * strong tier's own success when `relativeToStrong` (0.95: 95% of always-strong). When no
 * point reaches it, the error says the best that can be had.
 */
export function calibrateThreshold(
  cases: readonly CalibrationCase[],
  opts: { target: number; relativeToStrong?: boolean },
): Calibration {
  if (!(opts.target > 0 && opts.target <= 1))
    throw new CalibrationError("the target is a success rate (or a share of the strong tier's) in (0, 1]");
  const curve = costQualityCurve(cases);
  const cheapOnly = curve[0]!;
  const strongOnly = curve.at(-1)!;
  const target = opts.relativeToStrong ? opts.target * strongOnly.successRate : opts.target;
  let best: CurvePoint | null = null;
  // A tiny tolerance: the success rates are sums of the same numbers in different orders.
  for (const p of curve)
    if (p.successRate >= target - 1e-12 && (best === null || p.costPerCaseUsd < best.costPerCaseUsd - 1e-15))
      best = p;
  if (!best) {
    const top = curve.reduce((a, b) => (b.successRate > a.successRate ? b : a));
    throw new CalibrationError(
      `no threshold reaches a success rate of ${target.toFixed(4)}; the best is ${top.successRate.toFixed(4)} (threshold ${top.threshold})`,
    );
  }
  return { threshold: best.threshold, point: best, cheapOnly, strongOnly, target, curve };
}
