/**
 * Does a retrained candidate beat production on the metric that degraded? Both versions ran
 * the same suite; their cases are paired by id and compared with a paired test: McNemar's
 * exact test on pass/fail, Student's paired t on a measurement (score, latency, cost). Pure:
 * case results in, a verdict with its numbers and reasons out.
 *
 * The bar is "significantly better", not "not worse by a margin": the task exists because
 * production degraded on this metric, so a candidate that is merely as good has not fixed
 * anything, and a non-inferiority margin would let a no-op retraining through. Everything
 * else about the candidate (benchmark gates, fairness, the card) is the approval's business.
 */
import type { CaseResult } from "../../engines/evaluation/index.ts";
import { mcNemarTest, pairedTTest } from "../../engines/stats/index.ts";

export type Basis = "pass_rate" | "score" | "latency_ms" | "cost_usd";
export type Direction = "higher_is_better" | "lower_is_better";

/**
 * What of each case stands for the task's metric. Live metrics have no case-level twin of
 * their own: success and error rates map to each case's pass/fail, quality and ratings to its
 * score, latency and cost to the call's. Anything else is compared on pass/fail, and the
 * verdict says so.
 */
export function basisOf(metric: string): { basis: Basis; direction: Direction; note?: string } {
  if (/latency|ttft|duration/i.test(metric)) return { basis: "latency_ms", direction: "lower_is_better" };
  if (/cost|price|spend/i.test(metric)) return { basis: "cost_usd", direction: "lower_is_better" };
  if (/score|quality|rating|judge/i.test(metric)) return { basis: "score", direction: "higher_is_better" };
  if (/success|accuracy|pass|error|correct|resolution|refusal|validity/i.test(metric))
    return { basis: "pass_rate", direction: "higher_is_better" };
  return {
    basis: "pass_rate",
    direction: "higher_is_better",
    note: `metric '${metric}' has no case-level counterpart: compared on each case's pass/fail`,
  };
}

export interface Judged {
  passed: boolean;
  basis: Basis;
  test: "mcnemar_exact" | "paired_t";
  direction: Direction;
  pairs: number;
  unpaired: number;
  candidateValue: number | null;
  productionValue: number | null;
  difference: number | null;
  p: number | null;
  details: Record<string, unknown>;
  reasons: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fmtP = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const fmt = (basis: Basis, x: number) =>
  basis === "latency_ms" ? `${x.toFixed(1)} ms` : basis === "cost_usd" ? `$${x.toFixed(6)}` : x.toFixed(3);

export function judgeCandidate(input: {
  metric: string;
  alpha: number;
  candidate: readonly CaseResult[];
  production: readonly CaseResult[];
}): Judged {
  const { basis, direction, note } = basisOf(input.metric);
  const byId = new Map(input.production.map((r) => [r.caseId, r]));
  const pairs: [CaseResult, CaseResult][] = [];
  for (const c of input.candidate) {
    const p = byId.get(c.caseId);
    if (p) pairs.push([c, p]);
  }
  const unpaired = input.candidate.length + input.production.length - 2 * pairs.length;
  const reasons = note ? [note] : [];
  const base = { basis, direction, unpaired, reasons };

  if (basis === "pass_rate") {
    const onlyCandidate = pairs.filter(([c, p]) => c.passed && !p.passed).length;
    const onlyProduction = pairs.filter(([c, p]) => !c.passed && p.passed).length;
    const n = pairs.length;
    const cRate = n ? pairs.filter(([c]) => c.passed).length / n : null;
    const pRate = n ? pairs.filter(([, p]) => p.passed).length / n : null;
    const m = mcNemarTest({ onlyA: onlyCandidate, onlyB: onlyProduction });
    const better = onlyCandidate > onlyProduction;
    const significant = m.exactPTwoSided < input.alpha;
    const passed = n > 0 && better && significant;
    if (n === 0) reasons.push("the runs have no case in common: nothing to compare");
    else
      reasons.push(
        `pass rate ${pct(cRate!)} (candidate) vs ${pct(pRate!)} (production) on ${n} paired cases: ${onlyCandidate} only the candidate passed, ${onlyProduction} only production passed; exact McNemar p = ${fmtP(m.exactPTwoSided)}`,
        passed
          ? `the candidate is significantly better (p < ${input.alpha})`
          : !better
            ? "the candidate does not pass more cases than production"
            : `the difference is not significant (p ≥ ${input.alpha}): the candidate must beat production significantly on ${input.metric}`,
      );
    return {
      ...base,
      passed,
      test: "mcnemar_exact",
      pairs: n,
      candidateValue: cRate,
      productionValue: pRate,
      difference: cRate === null || pRate === null ? null : cRate - pRate,
      p: m.exactPTwoSided,
      details: { onlyCandidate, onlyProduction, discordant: m.discordant },
    };
  }

  // A measurement: latency and cost only of calls that answered (a failed call has neither).
  const value = (r: CaseResult) =>
    basis === "score" ? r.score : basis === "latency_ms" ? r.latencyMs : r.costUsd;
  const usable = basis === "score" ? pairs : pairs.filter(([c, p]) => !c.error && !p.error);
  const n = usable.length;
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const cValues = usable.map(([c]) => value(c));
  const pValues = usable.map(([, p]) => value(p));
  const common = {
    ...base,
    test: "paired_t" as const,
    pairs: n,
    candidateValue: n ? mean(cValues) : null,
    productionValue: n ? mean(pValues) : null,
  };
  if (n < 2) {
    reasons.push(`${n} paired case${n === 1 ? "" : "s"} with a ${basis}: a paired t-test needs at least 2`);
    return { ...common, passed: false, difference: null, p: null, details: {} };
  }
  const t = pairedTTest(cValues, pValues, { confidence: 1 - input.alpha });
  const better = direction === "higher_is_better" ? t.meanDifference > 0 : t.meanDifference < 0;
  const passed = better && t.pTwoSided < input.alpha;
  reasons.push(
    `mean ${basis} ${fmt(basis, common.candidateValue!)} (candidate) vs ${fmt(basis, common.productionValue!)} (production) on ${n} paired cases; paired t = ${Number.isFinite(t.t) ? t.t.toFixed(3) : String(t.t)}, df ${t.df}, p = ${fmtP(t.pTwoSided)}`,
    passed
      ? `the candidate is significantly better (p < ${input.alpha}, ${direction.replaceAll("_", " ")})`
      : !better
        ? `the candidate is not better (${direction.replaceAll("_", " ")})`
        : `the difference is not significant (p ≥ ${input.alpha}): the candidate must beat production significantly on ${input.metric}`,
  );
  return {
    ...common,
    passed,
    difference: t.meanDifference,
    p: t.pTwoSided,
    details: { t: t.t, df: t.df, ci: t.ci, sdDifference: t.sdDifference },
  };
}
