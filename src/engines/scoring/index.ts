/**
 * The scoring engine: built-in scorers for evaluation suites. Pure: output text and a
 * case's expectation in, a verdict `{ score, passed, reason }` out; no I/O. LLM-as-judge
 * and custom module scorers need I/O and run in the evals module instead. See docs/evals.md.
 */
export { jsonSchema, jsonValid, parseJsonOutput } from "./json.ts";
export {
  hasPatterns,
  SCHEMA_CACHE_SIZE,
  schemaCacheStats,
  schemaProblems,
  validateJson,
} from "./json-schema.ts";
export { jsonObjects, parseJudgeAnswer } from "./judge-reply.ts";
export { extractNumber, numeric } from "./numeric.ts";
export {
  BUILTIN_SCORERS,
  type CaseScore,
  expectProblem,
  isBuiltinScorer,
  scoreCase,
  scorerNamed,
} from "./registry.ts";
export {
  REFUSAL_PHRASES,
  refusal,
  refusalPhrasesIn,
  SAFETY_PATTERNS,
  safety,
  safetyPatterns,
} from "./safety.ts";
export { contains, exactMatch, label, normaliseLabel, regex } from "./text.ts";
export type {
  BuiltinScorerConfig,
  BuiltinScorerKind,
  ContainsConfig,
  ExactMatchConfig,
  JsonConfig,
  JsonSchemaConfig,
  LabelConfig,
  ModelOutput,
  NumericConfig,
  RefusalConfig,
  RegexConfig,
  SafetyConfig,
  SafetyPattern,
  ScoreFn,
  ScoreResult,
  ScorerDef,
} from "./types.ts";
