/** The schema of a suite file (YAML) and of one case (inline or a JSONL line). */
import { z } from "zod";
import { type BuiltinScorerConfig, schemaProblems } from "../../engines/scoring/index.ts";

const flag = z.boolean().optional();
const nonNeg = z.number().finite().min(0).optional();
const safetyPattern = z
  .object({ name: z.string().min(1), pattern: z.string().min(1), flags: z.string().optional() })
  .strict();

/** Built-in scorers (run by engines/scoring); options as documented in docs/evals.md. */
const BuiltinScorer = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("exact_match"), caseInsensitive: flag, trim: flag }).strict(),
  z
    .object({
      kind: z.literal("contains"),
      require: z.enum(["any", "all"]).optional(),
      caseInsensitive: flag,
    })
    .strict(),
  z
    .object({
      kind: z.literal("regex"),
      pattern: z.string().optional(),
      flags: z
        .string()
        .regex(/^[dimsuv]*$/)
        .optional(),
    })
    .strict(),
  z.object({ kind: z.literal("json_valid"), stripFences: flag }).strict(),
  z
    .object({
      kind: z.literal("json_schema"),
      stripFences: flag,
      schema: z
        .record(z.string(), z.unknown())
        .superRefine((schema, ctx) => {
          for (const message of schemaProblems(schema)) ctx.addIssue({ code: "custom", message });
        })
        .optional(),
    })
    .strict(),
  z
    .object({ kind: z.literal("numeric"), absTolerance: nonNeg, relTolerance: nonNeg, decimalComma: flag })
    .strict(),
  z
    .object({
      kind: z.literal("label"),
      labels: z.array(z.string().min(1)).min(1).optional(),
      caseInsensitive: flag,
    })
    .strict(),
  z
    .object({
      kind: z.literal("refusal"),
      phrases: z.array(z.string().min(1)).optional(),
      extraPhrases: z.array(z.string().min(1)).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal("safety"),
      patterns: z.array(safetyPattern).optional(),
      extraPatterns: z.array(safetyPattern).optional(),
    })
    .strict(),
]);

/** Scored by a registered judge model against a rubric; run by the evals runner, not the engine. */
export const LlmJudgeScorerSchema = z
  .object({
    kind: z.literal("llm_judge"),
    model: z.string().regex(/^[^@\s]+@[^@\s]+$/, "a registered judge model as <model>@<version>"),
    rubric: z.string().min(1),
    passAt: z.number().min(0).max(1).describe("the judge's 0..1 score at or above which the case passes"),
  })
  .strict();

/**
 * An operator-installed scorer module, relative to the server's scorer directory
 * (MODELGOV_EVAL_SCORERS_DIR), never to the suite file: runs execute on the server. Run by the
 * evals runner (custom-scorer.ts), not the engine.
 */
export const CustomScorerSchema = z
  .object({
    kind: z.literal("custom"),
    module: z
      .string()
      .regex(
        /^\.\/(?:[\w-][\w.-]*\/)*[\w-][\w.-]*\.(?:mjs|cjs|js)$/,
        "a .mjs/.js module relative to the server's scorer directory (MODELGOV_EVAL_SCORERS_DIR), e.g. ./tone.mjs; no .. or hidden segments",
      )
      .describe("relative to the server's scorer directory (MODELGOV_EVAL_SCORERS_DIR)"),
    name: z.string().min(1).max(100).optional().describe("shown in results instead of the module path"),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(300_000)
      .optional()
      .describe("per-case limit for one call (default 10000)"),
  })
  .strict();

/** A scorer entry: `exact_match` as shorthand for `{ kind: exact_match }`, or an object with options. */
export const ScorerSchema = z.preprocess(
  (v) => (typeof v === "string" ? { kind: v } : v),
  z.discriminatedUnion("kind", [...BuiltinScorer.options, LlmJudgeScorerSchema, CustomScorerSchema]),
);
export type ScorerConfig = z.infer<typeof ScorerSchema>;
export type LlmJudgeScorer = z.infer<typeof LlmJudgeScorerSchema>;
export type CustomScorer = z.infer<typeof CustomScorerSchema>;

// The engine's config types and these schemas must not drift apart.
type Parsed = z.infer<typeof BuiltinScorer>;
const _inSync: [Parsed] extends [BuiltinScorerConfig]
  ? [BuiltinScorerConfig] extends [Parsed]
    ? true
    : never
  : never = true;
void _inSync;

const Message = z
  .object({ role: z.enum(["system", "user", "assistant"]), content: z.string().min(1) })
  .strict();

/** Exactly one of messages or fields (an object rather than a union, so errors keep their inner path). */
const Input = z
  .object({
    messages: z.array(Message).min(1).optional(),
    fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .strict()
  .refine((i) => (i.messages === undefined) !== (i.fields === undefined), "give either messages or fields");

/** Attribute values may be written as YAML numbers or booleans; they are kept as strings. */
const Attributes = z.record(
  z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,49}$/, "an attribute name is lowercase letters, digits and _ (age_band)"),
  z.preprocess((v) => (typeof v === "number" || typeof v === "boolean" ? String(v) : v), z.string().max(200)),
);

export const CaseSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, "a case id is 1-128 letters, digits, . _ : -")
      .describe("unique in the suite: 1-128 letters, digits, . _ : -"),
    input: Input.describe(
      "either `messages` (a chat: role system, user or assistant, and content) or `fields` (rendered by the suite's template)",
    ),
    expect: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        "what the scorers compare with, e.g. { label: billing }, { equals: 42 }, { refuse: true } (docs/evals.md)",
      ),
    attributes: Attributes.default({}).describe(
      "group attributes of the case for fairness (age_band: 65+); numbers and booleans are kept as strings",
    ),
    scorers: z.array(ScorerSchema).min(1).optional().describe("replaces the suite's scorers for this case"),
  })
  .strict();
export type CaseFile = z.infer<typeof CaseSchema>;

export const SuiteFileSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, "a suite name is lowercase letters, digits, . _ -")
      .describe("the suite's name (lowercase letters, digits, . _ -); release gates name it in `suite`"),
    description: z.string().optional().describe("what the suite checks"),
    template: z.string().min(1).optional().describe("renders `fields` inputs; {{field}} placeholders"),
    scorers: z
      .array(ScorerSchema)
      .min(1)
      .describe(
        "how each answer is scored: exact_match, contains, regex, json_valid, json_schema, numeric, label, refusal, safety, llm_judge, custom (options in docs/evals.md)",
      ),
    cases: z.array(z.unknown()).min(1).optional().describe("the cases inline (see A case); or casesFile"),
    casesFile: z
      .string()
      .min(1)
      .optional()
      .describe("a JSONL file of cases, one per line, relative to the suite file; or cases"),
  })
  .strict();
