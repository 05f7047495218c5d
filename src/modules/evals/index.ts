/** The evals module's public surface: suite files (runner, fairness and gates come later). */
export type { CustomScorer, LlmJudgeScorer, ScorerConfig } from "./suite.schemas.ts";
export {
  loadSuite,
  type Message,
  type ParseOptions,
  parseSuite,
  renderTemplate,
  type Suite,
  type SuiteCase,
  suiteHash,
} from "./suite.ts";
