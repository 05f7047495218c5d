/** The built-in scorers by name, and scoring one case with several of them. */
import { jsonSchema, jsonValid } from "./json.ts";
import { numeric } from "./numeric.ts";
import { refusal, safety } from "./safety.ts";
import { contains, exactMatch, label, regex } from "./text.ts";
import type { BuiltinScorerConfig, BuiltinScorerKind, ModelOutput, ScoreResult, ScorerDef } from "./types.ts";

const SCORERS: {
  [K in BuiltinScorerKind]: ScorerDef<Omit<Extract<BuiltinScorerConfig, { kind: K }>, "kind">>;
} = {
  exact_match: exactMatch,
  contains,
  regex,
  json_valid: jsonValid,
  json_schema: jsonSchema,
  numeric,
  label,
  refusal,
  safety,
};

/** The names of the built-in scorers. */
export const BUILTIN_SCORERS = Object.keys(SCORERS) as BuiltinScorerKind[];

export function isBuiltinScorer(name: string): name is BuiltinScorerKind {
  return Object.hasOwn(SCORERS, name);
}

/** The built-in scorer of that name, or undefined (llm_judge and custom scorers live outside this engine). */
export function scorerNamed(name: string): ScorerDef<Record<string, unknown>> | undefined {
  return isBuiltinScorer(name) ? (SCORERS[name] as ScorerDef<Record<string, unknown>>) : undefined;
}

function split(config: BuiltinScorerConfig): {
  def: ScorerDef<Record<string, unknown>>;
  options: Record<string, unknown>;
} {
  const { kind, ...options } = config;
  const def = scorerNamed(kind);
  if (!def)
    throw new RangeError(
      `unknown scorer kind ${JSON.stringify(kind)} (built-in: ${BUILTIN_SCORERS.join(", ")})`,
    );
  return { def, options };
}

/** Why `expect` cannot be scored by this scorer config, or undefined. Throws RangeError on an unknown kind. */
export function expectProblem(config: BuiltinScorerConfig, expect: unknown): string | undefined {
  const { def, options } = split(config);
  return def.checkExpect(expect, options);
}

export interface CaseScore extends ScoreResult {
  /** One verdict per scorer, in the given order. */
  results: (ScoreResult & { kind: BuiltinScorerKind })[];
}

/**
 * Runs every scorer on one output. passed = all passed; score = mean of the scores; reason
 * names the failing scorers. Throws RangeError when `scorers` is empty or names an unknown kind.
 */
export function scoreCase(
  scorers: readonly BuiltinScorerConfig[],
  output: ModelOutput,
  expect: unknown,
): CaseScore {
  if (scorers.length === 0) throw new RangeError("scorers is empty");
  const results = scorers.map((config) => {
    const { def, options } = split(config);
    return { kind: config.kind, ...def.score(output, expect, options) };
  });
  const failed = results.filter((r) => !r.passed);
  const score = results.reduce((s, r) => s + r.score, 0) / results.length;
  const reason =
    failed.length === 0
      ? `all ${results.length} scorers passed`
      : failed.map((r) => `${r.kind}: ${r.reason}`).join("; ");
  return { score, passed: failed.length === 0, reason, results };
}
