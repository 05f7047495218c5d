/** The evals module: suite files, the runner and its worker, results, comparisons and acceptances. */
export { type CustomScoreFn, type CustomScoreInput, loadCustomScorer } from "./custom-scorer.ts";
export type { EvalCasesQuerySchema, EvalListQuerySchema, EvalStartSchema } from "./evals.routes.ts";
export { evalRoutes } from "./evals.routes.ts";
export { createEvalsService, type EvalsService, type RunView } from "./evals.service.ts";
export { type CaseRow, latestRunFacts } from "./evals.store.ts";
export { createEvalInvoker, type EvalInvoker, type InvokeResult } from "./invoker.ts";
export { judgeCase, judgePrompt, parseJudgeAnswer } from "./judge.ts";
export { buildReport, cardSection, type RunReport } from "./report.ts";
export {
  type Baseline,
  calibratable,
  calibrationCases,
  type Figures,
  type JsonPoint,
  jsonPoint,
  pointAt,
  type RoutingSection,
  resolveTarget,
  scoreOf,
  type TierFigures,
  type TierRun,
  tierRuns,
} from "./routing.ts";
export type { CustomScorer, LlmJudgeScorer, ScorerConfig } from "./suite.schemas.ts";
export {
  loadSuite,
  type Message,
  type ParseOptions,
  parseSuite,
  parseSuiteObject,
  readSuiteDocument,
  renderTemplate,
  type Suite,
  type SuiteCase,
  suiteHash,
} from "./suite.ts";
export { createEvalWorker, type EvalWorker } from "./worker.ts";
