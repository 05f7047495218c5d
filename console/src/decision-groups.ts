/**
 * A rollout's decisions as the page lists them. Every analysis that changes nothing is a "hold",
 * and a rollout waiting out a long step makes dozens in a row: listed one by one they buried the
 * promotions, rollbacks and pauses under pages of the same line. Consecutive holds on the same
 * step, at the same weight and with the same verdict become one row; every other decision stays
 * a row of its own.
 */

/** The fields grouping reads (the API's RolloutDecision has them all). */
export interface DecisionLike {
  decision: string;
  at: string;
  stepIndex: number;
  weightAfter: number;
  analysis?: unknown;
}

export type DecisionRow<D extends DecisionLike> =
  | { kind: "one"; decision: D }
  /** `decisions` in the order given; `from` and `to` the earliest and latest times among them. */
  | { kind: "holds"; decisions: D[]; from: string; to: string };

/** The judge's verdict a decision carries, if any ("pass", "inconclusive", ...). */
export function verdictOf(d: DecisionLike): string | null {
  const a = d.analysis;
  return typeof a === "object" && a !== null && typeof (a as { verdict?: unknown }).verdict === "string"
    ? (a as { verdict: string }).verdict
    : null;
}

const sameHold = (a: DecisionLike, b: DecisionLike) =>
  a.decision === "hold" &&
  b.decision === "hold" &&
  a.stepIndex === b.stepIndex &&
  a.weightAfter === b.weightAfter &&
  verdictOf(a) === verdictOf(b);

/** Rows in the decisions' own order (the API's: newest first); a lone hold stays a plain row. */
export function groupDecisions<D extends DecisionLike>(decisions: readonly D[]): DecisionRow<D>[] {
  const rows: DecisionRow<D>[] = [];
  let run: D[] = [];
  const flush = () => {
    if (run.length === 1) rows.push({ kind: "one", decision: run[0]! });
    else if (run.length > 1) {
      const times = run.map((d) => d.at).sort((a, b) => Date.parse(a) - Date.parse(b));
      rows.push({ kind: "holds", decisions: run, from: times[0]!, to: times.at(-1)! });
    }
    run = [];
  };
  for (const d of decisions) {
    if (run.length > 0 && !sameHold(run[0]!, d)) flush();
    if (d.decision === "hold") run.push(d);
    else rows.push({ kind: "one", decision: d });
  }
  flush();
  return rows;
}
