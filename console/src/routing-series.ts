/**
 * A router evaluation's routing section as chart series: the cost-quality curve over the
 * threshold (cost per case against success, from all-cheap to all-strong) and the marked
 * points (the router's own threshold on the curve, the router as measured, each tier alone).
 * Pure, so the chart shows exactly the API's numbers and the mapping is unit-tested.
 */
import type { EvalRunView } from "../../src/client/index.ts";

export type Routing = NonNullable<EvalRunView["routing"]>;

export interface CurveDatum {
  /** Dollars per case. */
  cost: number;
  success: number;
  strongShare: number;
  /** The threshold in words: "0.412", "none (all cheap)", "0 (all strong)". */
  threshold: string;
}

export interface Mark {
  name: string;
  cost: number;
  success: number;
  kind: "current" | "measured" | "tier";
}

export interface RoutingSeries {
  curve: CurveDatum[];
  marks: Mark[];
}

export function thresholdLabel(p: { threshold: number | null; strongShare: number }): string {
  if (p.threshold !== null) return p.threshold.toFixed(3);
  return p.strongShare === 0 ? "none (all cheap)" : "0 (all strong)";
}

export function routingSeries(r: Routing): RoutingSeries {
  const curve: CurveDatum[] = (r.curve?.points ?? []).map((p) => ({
    cost: p.costPerCaseUsd,
    success: p.successRate,
    strongShare: p.strongShare,
    threshold: thresholdLabel(p),
  }));
  const marks: Mark[] = [];
  const cur = r.curve?.current;
  if (cur)
    marks.push({
      name: `threshold ${cur.threshold === null ? "–" : cur.threshold.toFixed(3)} (on the curve)`,
      cost: cur.costPerCaseUsd,
      success: cur.successRate,
      kind: "current",
    });
  if (r.overall.successRate !== null && r.overall.costPerCaseUsd !== null)
    marks.push({
      name: "the router, as run",
      cost: r.overall.costPerCaseUsd,
      success: r.overall.successRate,
      kind: "measured",
    });
  for (const [i, b] of r.baselines.entries())
    if (b.runId && b.successRate !== null && b.costPerCaseUsd !== null)
      marks.push({
        name: `${i === 0 ? "always-cheap" : i === r.baselines.length - 1 ? "always-strong" : `always-${b.tier}`} (${b.version})`,
        cost: b.costPerCaseUsd,
        success: b.successRate,
        kind: "tier",
      });
  return { curve, marks };
}
