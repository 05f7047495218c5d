/**
 * Retraining tasks (issue 17): opened by monitors when a rule fires, followed through
 * training, a registered candidate, its evaluation against production, approval and roll-out.
 * Monitors need `createRetrainingService` and its `openOrExtend`; `EvidenceSchema` is the
 * evidence they send.
 */
export { type ExportTally, exportLines, openAiLine, type Range, rangesOf, suiteCase } from "./dataset.ts";
export type { RunInfo, Runs } from "./evaluate.ts";
export { type Basis, basisOf, type Judged, judgeCandidate } from "./evaluation.ts";
export type { ApprovalOf } from "./hooks.ts";
export { reportOfFiredRule } from "./monitor-report.ts";
export { NEXT } from "./moves.ts";
export { retrainingRoutes } from "./retraining.routes.ts";
export {
  type DatasetFormat,
  type DatasetQuery,
  DatasetQuerySchema,
  EvaluateSchema,
  type Evidence,
  EvidenceSchema,
  type EvidenceView,
  MIN_JUSTIFICATION,
  type Opened,
  type OpenInput,
  OpenSchema,
  STATES,
  StartTrainingSchema,
  type TaskDetail,
  type TaskQuery,
  TaskQuerySchema,
  type TaskState,
  type TaskView,
  type Verdict,
} from "./retraining.schemas.ts";
export {
  type BreachReport,
  createRetrainingService,
  type OpenOrExtend,
  type RetrainingDeps,
  type RetrainingService,
} from "./retraining.service.ts";
