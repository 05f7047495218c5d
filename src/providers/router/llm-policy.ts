import { z } from "zod";
import { schemaProblems } from "../../engines/scoring/index.ts";
import { Target, TierName } from "./names.ts";

/*
 * The parts of a routing policy that call a model of their own: an LLM classifier (`route`),
 * a judge that picks an ensemble's answer or scores a cascade's, a JSON schema a cascade's
 * answer must meet, and a cost cap. Each judge or classifier names a version as a tier does
 * (served only if it may serve; never a router) and its call is counted in the request's cost.
 */

const Rubric = z.string().min(1).max(8000);

export const LlmClassifier = z
  .object({
    kind: z.literal("llm"),
    target: Target.describe(
      "the version that classifies, named as a tier is (`model`, `model@alias`, `model@1.2.0`); it must be servable and not a router",
    ),
    rubric: Rubric.describe(
      'which tier suits which request, in words; the classifier answers {"tier": "<name>"} or a bare tier name',
    ),
    default: TierName.describe("the tier when the classifier fails, is late, or answers no tier name"),
    maxLatencyMs: z
      .number()
      .int()
      .min(1)
      .max(60_000)
      .default(2000)
      .describe("the classifier's answer is awaited this long, then the default tier serves"),
    maxInputChars: z
      .number()
      .int()
      .min(100)
      .max(32_000)
      .default(2000)
      .describe(
        "the last user message is cut to this many characters (its head and tail) for the classifier",
      ),
  })
  .strict();

export const ScoreJudge = z
  .object({
    target: Target.describe("the judge version, named as a tier is; servable, not a router"),
    rubric: Rubric.describe("what a good answer is: the judge scores the answer 0..1 against it"),
    below: z.number().min(0).max(1).describe("escalate when the judge's score is below this"),
  })
  .strict()
  .describe(
    "a judge scores each answer but the last tier's; below the bar (or a judge that fails) escalates",
  );

export const JsonSchemaCheck = z
  .record(z.string(), z.unknown())
  .superRefine((schema, ctx) => {
    for (const p of schemaProblems(schema)) ctx.addIssue({ code: "custom", message: p });
  })
  .describe(
    "escalate when the answer is not JSON meeting this schema (JSON Schema draft 2020-12 with formats, as the evals' json_schema scorer checks it; unknown keywords and formats are refused)",
  );

export const JudgePick = {
  judge: Target.optional().describe(
    "by: judge: the version that picks the best answer (servable, not a router)",
  ),
  rubric: Rubric.optional().describe(
    "by: judge: what the best answer is; unset: the most correct, complete and helpful answer to the user's last message",
  ),
};

export const MaxCostUsd = z
  .number()
  .positive()
  .max(1000)
  .optional()
  .describe(
    "cascade and ensemble: a tier is not called when its worst-case cost (input at four characters a token, output at the request's max_tokens, 1,024 when unset) would take the request's spend past this",
  );

type Ctx = z.RefinementCtx;
interface LlmParts {
  strategy: string;
  maxCostUsd?: number | undefined;
  combine?: { by: string; judge?: string | undefined; rubric?: string | undefined } | undefined;
}

/** The rules between these parts and the rest of the policy. */
export function checkLlmParts(p: LlmParts, ctx: Ctx) {
  if (p.maxCostUsd !== undefined && p.strategy === "route")
    ctx.addIssue({
      code: "custom",
      message: "maxCostUsd applies to a cascade or an ensemble (a route calls one tier)",
      path: ["maxCostUsd"],
    });
  const c = p.combine;
  if (!c) return;
  if (c.by === "judge" && !c.judge)
    ctx.addIssue({
      code: "custom",
      message: "by: judge needs a judge (a model to pick)",
      path: ["combine", "judge"],
    });
  for (const k of ["judge", "rubric"] as const)
    if (c.by !== "judge" && c[k] !== undefined)
      ctx.addIssue({ code: "custom", message: `${k} applies to by: judge`, path: ["combine", k] });
}
