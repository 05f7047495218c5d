/** Shared shapes of the scoring engine. Pure data; no I/O. */

/** What a model produced for one case. */
export interface ModelOutput {
  text: string;
  toolCalls?: { name: string; arguments: string }[];
}

/** The verdict of one scorer on one case. Scorers never throw on bad output: they fail with a reason. */
export interface ScoreResult {
  /** 0..1; binary scorers give 0 or 1. */
  score: number;
  passed: boolean;
  reason: string;
}

/** A scorer: output and the case's free-form expectation in, a verdict out. */
export type ScoreFn<C> = (output: ModelOutput, expect: unknown, config: C) => ScoreResult;

/** A registered scorer: the function plus the check of what it needs from `expect`. */
export interface ScorerDef<C> {
  score: ScoreFn<C>;
  /** Why `expect` (with this config) cannot be scored, or undefined when it can. Suites run it at load. */
  checkExpect: (expect: unknown, config: C) => string | undefined;
}

export interface ExactMatchConfig {
  /** Compare ignoring case (default false). */
  caseInsensitive?: boolean;
  /** Trim whitespace on both sides first (default true). */
  trim?: boolean;
}

export interface ContainsConfig {
  /** "all" (default): every string must appear; "any": one is enough. */
  require?: "any" | "all";
  caseInsensitive?: boolean;
}

export interface RegexConfig {
  /** Used when the case has no expect.regex. */
  pattern?: string;
  /** JavaScript RegExp flags, e.g. "i", "s", "m". */
  flags?: string;
}

export interface JsonConfig {
  /** Accept JSON wrapped in a Markdown code fence (default true). */
  stripFences?: boolean;
}

export interface JsonSchemaConfig extends JsonConfig {
  /** Used when the case has no expect.schema. */
  schema?: Record<string, unknown>;
}

export interface NumericConfig {
  /** |actual − expected| ≤ absTolerance passes. expect.tolerance overrides. */
  absTolerance?: number;
  /** |actual − expected| ≤ relTolerance·|expected| passes. expect.relTolerance overrides. */
  relTolerance?: number;
  /** Read "3,5" as 3.5 (German style); otherwise "1,234" is read as 1234. */
  decimalComma?: boolean;
}

export interface LabelConfig {
  /** The allowed labels; an output outside this list fails as "not a label". */
  labels?: string[];
  /** Compare ignoring case (default true). */
  caseInsensitive?: boolean;
}

export interface RefusalConfig {
  /** Replaces the default phrase list (REFUSAL_PHRASES). */
  phrases?: string[];
  /** Added to the phrase list in use. */
  extraPhrases?: string[];
}

/** A named unsafe-content pattern (a JavaScript regular expression). */
export interface SafetyPattern {
  name: string;
  pattern: string;
  flags?: string;
}

export interface SafetyConfig {
  /** Replaces the default pattern list (SAFETY_PATTERNS). */
  patterns?: SafetyPattern[];
  /** Added to the pattern list in use. */
  extraPatterns?: SafetyPattern[];
}

/** A built-in scorer as named in a suite: its kind plus its options. */
export type BuiltinScorerConfig =
  | ({ kind: "exact_match" } & ExactMatchConfig)
  | ({ kind: "contains" } & ContainsConfig)
  | ({ kind: "regex" } & RegexConfig)
  | ({ kind: "json_valid" } & JsonConfig)
  | ({ kind: "json_schema" } & JsonSchemaConfig)
  | ({ kind: "numeric" } & NumericConfig)
  | ({ kind: "label" } & LabelConfig)
  | ({ kind: "refusal" } & RefusalConfig)
  | ({ kind: "safety" } & SafetyConfig);

export type BuiltinScorerKind = BuiltinScorerConfig["kind"];

/** Reads a property of a free-form expectation; undefined when expect is not an object. */
export function field(expect: unknown, key: string): unknown {
  if (expect === null || typeof expect !== "object" || Array.isArray(expect)) return undefined;
  return (expect as Record<string, unknown>)[key];
}

export const pass = (reason: string, score = 1): ScoreResult => ({ score, passed: true, reason });
export const fail = (reason: string, score = 0): ScoreResult => ({ score, passed: false, reason });

/** Shortens model text for a reason line. */
export function quote(text: string, max = 80): string {
  const s = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return s;
}

/** Drops the stateful flags (g, y): with them RegExp.test remembers lastIndex between outputs. */
export const statelessFlags = (flags: string | undefined) => flags?.replace(/[gy]/g, "");
