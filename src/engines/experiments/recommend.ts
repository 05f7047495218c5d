// The recommendation, in order: a breached guardrail stops; a sample ratio mismatch withholds
// any call; below the minimum keep running; a significant primary ships the winner (cost
// permitting); at the planned horizon without a winner, no difference (cheapest arm named).

import { fmtP, num, pct, signedPct, usd } from "../rollout/index.ts";
import type {
  ArmResult,
  ExperimentInput,
  GuardrailResult,
  PrimaryComparison,
  Recommendation,
  SrmCheck,
} from "./types.ts";

export interface RecommendInput {
  input: ExperimentInput;
  alpha: number;
  arms: ArmResult[];
  primary: PrimaryComparison[];
  guardrails: GuardrailResult[];
  srm: SrmCheck;
  /** Unmet minimums in words; empty when met. */
  shortfalls: string[];
}

const METRIC_WORDS = { success_rate: "success rate", score_mean: "mean score" } as const;

/** E.g. "B beats A on success rate: +4.1% relative (95% CI +1.2% to +7.0%), always-valid p = 0.003, …". */
export function describeComparison(c: PrimaryComparison, control: string, alpha: number): string {
  const verb = { better: `${c.arm} beats`, worse: `${c.arm} is worse than`, none: `${c.arm} vs` }[
    c.direction
  ];
  const lift = c.lift
    ? `${signedPct(c.lift.estimate)} relative (${pct(1 - alpha, 0)} CI ${signedPct(c.lift.ci[0])} to ${signedPct(c.lift.ci[1])})`
    : "lift undefined";
  const p = c.adjustedP === null ? "" : `, always-valid p = ${fmtP(c.adjustedP)}`;
  const bayes =
    c.chanceToBeatControl === null ? "" : `, chance to beat ${control} ${pct(c.chanceToBeatControl)}`;
  return `${verb} ${control} on ${METRIC_WORDS[c.metric as keyof typeof METRIC_WORDS] ?? c.metric}: ${lift}${p}${bayes}`;
}

function costText(arm: ArmResult, control: ArmResult): string | null {
  if (arm.costPerSuccessUsd === null || control.costPerSuccessUsd === null || control.costPerSuccessUsd === 0)
    return null;
  const change = arm.costPerSuccessUsd / control.costPerSuccessUsd - 1;
  return `cost per successful outcome ${usd(arm.costPerSuccessUsd)} vs ${usd(control.costPerSuccessUsd)} (${signedPct(change)})`;
}

function context(r: RecommendInput): string[] {
  const held = r.guardrails.length === 0 ? "no guardrails set" : "guardrails hold";
  const srm = r.srm.p === null ? "SRM not checked (no traffic)" : `SRM p = ${fmtP(r.srm.p)}`;
  return [held, srm];
}

export function recommend(r: RecommendInput): Recommendation {
  const { arms, alpha } = r;
  const control = arms[0]!;
  const byName = new Map(arms.map((a) => [a.name, a]));
  const breached = r.guardrails.filter((g) => g.status === "breached");
  if (breached.length > 0)
    return {
      decision: "stopped_by_guardrail",
      arm: breached[0]!.arm,
      reasons: [`stop the experiment: ${breached.map((g) => g.reason).join("; ")}`],
    };
  if (r.srm.status === "mismatch") {
    const split = r.srm.observed.map(
      (o, i) => `${arms[i]!.name} ${num(o, 0)} (expected ${num(r.srm.expected[i]!, 0)})`,
    );
    return {
      decision: "sample_ratio_mismatch",
      arm: null,
      reasons: [
        `sample ratio mismatch: ${r.srm.unit} ${split.join(", ")}; chi-square ${num(r.srm.chiSquare!, 2)}, p = ${fmtP(r.srm.p!)} < ${r.srm.threshold}`,
        "the results are untrustworthy until the assignment is fixed; no arm should be shipped on them",
      ],
    };
  }
  const status = r.primary.map((c) => describeComparison(c, control.name, alpha));
  if (r.shortfalls.length > 0)
    return { decision: "keep_running", arm: null, reasons: [...r.shortfalls, ...status] };

  const winners = r.primary.filter((c) => c.direction === "better");
  if (winners.length > 0) {
    const best = winners.reduce((a, b) => ((b.lift?.estimate ?? 0) > (a.lift?.estimate ?? 0) ? b : a));
    const arm = byName.get(best.arm)!;
    const cost = costText(arm, control);
    const max = r.input.maxCostIncrease;
    if (
      max !== undefined &&
      arm.costPerSuccessUsd !== null &&
      control.costPerSuccessUsd !== null &&
      arm.costPerSuccessUsd > control.costPerSuccessUsd * (1 + max)
    )
      return {
        decision: "ship",
        arm: control.name,
        reasons: [
          describeComparison(best, control.name, alpha),
          `but its ${cost} is above the ${signedPct(max, 0)} allowed; keep ${control.name}`,
          ...context(r),
        ],
      };
    return {
      decision: "ship",
      arm: best.arm,
      reasons: [describeComparison(best, control.name, alpha), ...context(r), ...(cost ? [cost] : [])],
    };
  }
  if (r.primary.length > 0 && r.primary.every((c) => c.direction === "worse"))
    return { decision: "ship", arm: control.name, reasons: [...status, ...context(r)] };

  const horizon = r.input.plan.samplePerArm;
  const observed = (a: ArmResult) =>
    r.input.primary === "success_rate"
      ? a.feedbackCount
      : (r.input.arms.find((x) => x.name === a.name)!.scoreCount ?? 0);
  const least = Math.min(...arms.map(observed));
  if (least < horizon)
    return {
      decision: "keep_running",
      arm: null,
      reasons: [
        `no significant difference yet; ${num(least, 0)} of the ${num(horizon, 0)} planned per arm`,
        ...status,
      ],
    };
  // At the horizon: among the arms not shown worse than the control, the cheapest per success.
  const worse = new Set(r.primary.filter((c) => c.direction === "worse").map((c) => c.arm));
  const candidates = arms.filter((a) => !worse.has(a.name));
  const priced = candidates.filter((a) => a.costPerSuccessUsd !== null);
  const cheapest =
    priced.length > 0 ? priced.reduce((a, b) => (b.costPerSuccessUsd! < a.costPerSuccessUsd! ? b : a)) : null;
  const cost = cheapest && cheapest !== control ? costText(cheapest, control) : null;
  return {
    decision: "no_difference",
    arm: cheapest?.name ?? control.name,
    reasons: [
      `no significant difference on ${METRIC_WORDS[r.input.primary]} at the planned ${num(horizon, 0)} per arm`,
      ...status,
      ...(cheapest
        ? [`${cheapest.name} is the cheapest per successful outcome${cost ? `: ${cost}` : ""}`]
        : []),
      ...context(r),
    ],
  };
}
