/** A calibration's summary (the response, the audit event) and the card's words for it. */
import type { Calibration, CurvePoint } from "../../engines/routing/index.ts";
import type { CardContent } from "../cards/index.ts";
import { type JsonPoint, jsonPoint, type TierRun } from "../evals/index.ts";

export interface CalibrationSummary {
  suite: string;
  suiteHash: string;
  cases: number;
  target: number;
  relativeToStrong: boolean;
  /** The success rate the point had to reach. */
  required: number;
  threshold: number;
  point: JsonPoint;
  cheapOnly: JsonPoint;
  strongOnly: JsonPoint;
  curve: JsonPoint[];
  /** The tier runs it read. */
  runs: { tier: string; version: string | null; runId: string }[];
}

/** A calibration without its curve, for the audit log. */
export const brief = ({ curve, ...rest }: CalibrationSummary) => ({ ...rest, curvePoints: curve.length });
const clamp01 = (t: number) => Math.min(1, Math.max(0, t));
export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function summary(
  suite: { name: string; hash: string },
  runs: TierRun[],
  cal: Calibration,
  cases: number,
  opts: { target: number; relativeToStrong?: boolean },
): CalibrationSummary {
  return {
    suite: suite.name,
    suiteHash: suite.hash,
    cases,
    target: opts.target,
    relativeToStrong: !!opts.relativeToStrong,
    required: cal.target,
    threshold: clamp01(cal.threshold),
    point: jsonPoint(cal.point),
    cheapOnly: jsonPoint(cal.cheapOnly),
    strongOnly: jsonPoint(cal.strongOnly),
    curve: cal.curve.map(jsonPoint),
    runs: runs.map((r) => ({ tier: r.tier, version: r.version, runId: r.run!.id })),
  };
}

/** The card's words for a calibration: the suite, the target and the point chosen. */
export function calibrationNote(s: CalibrationSummary, from: string): string {
  const p = s.point as CurvePoint & JsonPoint;
  return [
    `Threshold ${s.threshold.toFixed(4)} calibrated by modelgov from ${from} on suite **${s.suite}** (\`${s.suiteHash.slice(0, 19)}…\`, ${s.cases} cases run on both tiers alone: ${s.runs.map((r) => `${r.tier} ${r.version} run \`${r.runId}\``).join(", ")}).`,
    `Target: success ${s.relativeToStrong ? `${pct(s.target)} of always-strong's (${pct(s.required)})` : pct(s.required)}; the chosen point sends ${pct(p.strongShare)} of the cases to the strong tier, success ${pct(p.successRate)} at $${p.costPerCaseUsd.toFixed(6)} a case (always-cheap ${pct(s.cheapOnly.successRate)} at $${s.cheapOnly.costPerCaseUsd.toFixed(6)}, always-strong ${pct(s.strongOnly.successRate)} at $${s.strongOnly.costPerCaseUsd.toFixed(6)}).`,
    "Measured on the suite's cases themselves: evaluate the new version on a held-out suite before approving it.",
  ].join(" ");
}

export const appendTo = (
  card: CardContent,
  key: "evaluation_data" | "training_data",
  text: string,
): CardContent => ({
  ...card,
  sections: { ...card.sections, [key]: card.sections[key] ? `${card.sections[key]}\n\n${text}` : text },
});
