/**
 * A monitor's fired rule as a breach report: what services.ts hands `openOrExtend` when the
 * monitoring module's `onFire` calls (a rule that fires, or keeps breaching).
 */
import type { FiredRule } from "../monitoring/index.ts";
import type { BreachReport } from "./retraining.service.ts";

export function reportOfFiredRule(f: FiredRule): BreachReport {
  return {
    model: f.model,
    versionId: f.versionId,
    rule: f.rule,
    evidence: {
      rule: f.rule,
      // successRate, meanScore, latencyP95, psi:input_tokens, bias: the evaluation reads it by name.
      metric: f.subject,
      kind: f.kind,
      text: f.text,
      event: f.event,
      summary: f.summary,
      windows: f.windows.map((w) => ({
        from: w.windowStart,
        to: w.windowEnd,
        value: w.value,
        baseline: w.baseline,
        threshold: w.threshold,
        n: w.n,
        p: w.p,
        breached: w.status === "breach",
        status: w.status,
        reason: w.reason,
      })),
    },
  };
}
