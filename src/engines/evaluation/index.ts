/**
 * Evaluation results, pure: a run's aggregate, its breakdown by group (through the fairness
 * engine) and the paired comparison of two versions on the same suite (McNemar's test on the
 * flips). The runner (modules/evals) feeds them the recorded case results.
 *
 * @packageDocumentation
 */
export {
  aggregateRun,
  type CaseResult,
  comparePaired,
  groupBreakdown,
  type PairedComparison,
  type RunAggregate,
} from "./aggregate.ts";
