import { z } from "@hono/zod-openapi";
import { RetrainingTaskId, SemverString, Slug } from "../registry/index.ts";

export const STATES = [
  "open",
  "training",
  "candidate_registered",
  "evaluated",
  "approved",
  "rolled_out",
  "closed",
  "dismissed",
] as const;
export type TaskState = (typeof STATES)[number];

const Time = z.string().datetime({ offset: true });

/**
 * One window a monitor looked at: the metric's value there, the baseline it was held to, the
 * sample size, the test's p when there was one, and whether the window breached. Extra fields
 * (thresholds, intervals, the test's name) are kept as sent.
 */
export const EvidenceWindowSchema = z
  .looseObject({
    from: Time.describe("the window's start (inclusive)"),
    to: Time.describe("the window's end (exclusive)"),
    value: z
      .number()
      .finite()
      .nullable()
      .describe("the metric over the window (null: too few observations to measure it)"),
    baseline: z.number().finite().nullable().describe("what it was held to (null: no baseline)"),
    n: z.number().int().min(0).describe("observations in the window"),
    p: z.number().min(0).max(1).nullable().optional().describe("the test's p-value, when a test ran"),
    breached: z.boolean().describe("whether the rule counted this window as a breach"),
  })
  .refine((w) => Date.parse(w.to) > Date.parse(w.from), { message: "must be after from", path: ["to"] });

/**
 * What a monitor reports when its rule fires: opaque to the task beyond these fields, which
 * the task and the dataset export read. Validated loosely: extra fields are kept.
 */
export const EvidenceSchema = z
  .looseObject({
    rule: z.string().min(1).max(200).optional().describe("the rule's name; when given, the same as `rule`"),
    metric: z
      .string()
      .min(1)
      .max(100)
      .describe("the degraded metric, e.g. success_rate, score_mean, latency_p95_ms"),
    windows: z
      .array(EvidenceWindowSchema)
      .min(1)
      .max(1000)
      .describe("the windows the rule looked at; the breached ones bound the dataset export"),
    summary: z.string().min(1).max(4000).describe("the breach in words, numbers included"),
  })
  .openapi("RetrainingEvidence");
export type Evidence = z.infer<typeof EvidenceSchema>;

export const OpenSchema = z
  .object({
    model: Slug.describe("the model whose production version breached"),
    version: SemverString.describe("the version the monitor watched"),
    rule: z.string().min(1).max(200).describe("the monitor rule that fired"),
    evidence: EvidenceSchema,
  })
  .strict()
  .openapi("RetrainingOpen");
export type OpenInput = z.infer<typeof OpenSchema>;

export const TaskParam = z.object({ task: RetrainingTaskId });

export const TaskQuerySchema = z.object({
  model: Slug.optional(),
  state: z
    .enum([...STATES, "active"])
    .optional()
    .describe("one state, or `active` for every state before closed and dismissed"),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(500).optional().describe("from the previous page's nextCursor"),
});
export type TaskQuery = z.infer<typeof TaskQuerySchema>;

export const NoteSchema = z
  .object({ note: z.string().max(4000).default("").describe("why, kept in the audit trail") })
  .strict()
  .openapi("RetrainingNote");

export const StartTrainingSchema = z
  .object({
    note: z.string().max(4000).default("").describe("why, kept in the audit trail"),
    suiteHash: z
      .string()
      .regex(/^sha256:[a-f0-9]{64}$/, "a suite hash, sha256:<64 hex digits>, as an evaluation run shows it")
      .optional()
      .describe(
        "pin the suite candidate and production will be compared on (else the first evaluation pins it)",
      ),
  })
  .strict()
  .openapi("RetrainingStartTraining");

/** A dismissal is a decision to live with the breach: it needs a written reason someone can audit. */
export const MIN_JUSTIFICATION = 20;
export const DismissSchema = z
  .object({
    justification: z
      .string()
      .trim()
      .min(
        MIN_JUSTIFICATION,
        `write at least ${MIN_JUSTIFICATION} characters: why the breach needs no retraining`,
      )
      .max(4000)
      .describe(`why the breach needs no retraining (at least ${MIN_JUSTIFICATION} characters)`),
  })
  .strict()
  .openapi("RetrainingDismiss");

const RunId = z.string().regex(/^evr_[A-Za-z0-9]{1,90}$/, "an evaluation run id (evr_…)");

export const EvaluateSchema = z
  .object({
    candidateRun: RunId.describe("a completed run of the candidate on the task's suite"),
    productionRun: RunId.describe("a completed run of the current production version on the same suite"),
    alpha: z
      .number()
      .min(0.001)
      .max(0.1)
      .default(0.05)
      .describe("the significance level the candidate must beat production at"),
  })
  .strict()
  .openapi("RetrainingEvaluate");
export type EvaluateInput = z.infer<typeof EvaluateSchema>;

export const DATASET_FORMATS = ["openai-jsonl", "suite"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export const DatasetQuerySchema = z.object({
  format: z
    .enum(DATASET_FORMATS)
    .describe("openai-jsonl: OpenAI chat fine-tuning lines; suite: a modelgov evaluation suite (JSON)"),
  include: z
    .enum(["all", "corrected"])
    .default("all")
    .describe("openai-jsonl only: every failing request, or only those whose feedback carried a correction"),
  scoreBelow: z.coerce
    .number()
    .finite()
    .optional()
    .describe("also export requests whose latest feedback has no success flag but a score below this"),
});
export type DatasetQuery = z.infer<typeof DatasetQuerySchema>;

const Comparison = z.object({
  run: z.string(),
  version: z.string(),
  value: z.number().nullable(),
});

export const VerdictSchema = z
  .object({
    passed: z.boolean(),
    metric: z.string().describe("the task's degraded metric"),
    basis: z.enum(["pass_rate", "score", "latency_ms", "cost_usd"]).describe("what of each case is compared"),
    test: z.enum(["mcnemar_exact", "paired_t"]),
    direction: z.enum(["higher_is_better", "lower_is_better"]),
    alpha: z.number(),
    pairs: z.number().int(),
    unpaired: z.number().int(),
    candidate: Comparison,
    production: Comparison,
    difference: z.number().nullable().describe("candidate − production on the basis"),
    p: z.number().nullable(),
    details: z.record(z.string(), z.unknown()),
    suite: z.object({ name: z.string(), hash: z.string() }),
    reasons: z.array(z.string()),
    at: z.string(),
  })
  .openapi("RetrainingVerdict");
export type Verdict = z.infer<typeof VerdictSchema>;

export const EvidenceViewSchema = z
  .object({
    id: z.string(),
    version: z.string(),
    rule: z.string(),
    metric: z.string(),
    evidence: z.record(z.string(), z.unknown()),
    windowFrom: z.string(),
    windowTo: z.string(),
    addedBy: z.string(),
    addedAt: z.string(),
  })
  .openapi("RetrainingEvidenceEntry");
export type EvidenceView = z.infer<typeof EvidenceViewSchema>;

export const TransitionSchema = z.object({
  from: z.enum(STATES).nullable(),
  to: z.enum(STATES),
  reason: z.string(),
  actor: z.string(),
  at: z.string(),
});

export const TaskSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.string().describe("the production version whose breach opened the task"),
    state: z.enum(STATES),
    next: z.array(z.enum(STATES)).describe("the states the task may move to from here"),
    rule: z.string(),
    metric: z.string(),
    suiteHash: z.string().nullable(),
    candidate: z.object({ id: z.string(), version: z.string() }).nullable(),
    evaluation: VerdictSchema.nullable().describe("the latest evaluation verdict, passed or not"),
    resolution: z.string().nullable().describe("the justification of a dismissal, or the note of a close"),
    evidenceCount: z.number().int(),
    summary: z
      .string()
      .nullable()
      .describe("the latest evidence's summary: the breach in the monitor's words, numbers included"),
    openedBy: z.string(),
    openedAt: z.string(),
    updatedAt: z.string(),
    endedAt: z.string().nullable(),
  })
  .openapi("RetrainingTask");
export type TaskView = z.infer<typeof TaskSchema>;

export const TaskDetailSchema = TaskSchema.extend({
  evidence: z.array(EvidenceViewSchema).describe("the latest 100 entries, oldest first"),
  history: z.array(TransitionSchema),
}).openapi("RetrainingTaskDetail");
export type TaskDetail = z.infer<typeof TaskDetailSchema>;

export const OpenedSchema = z
  .object({
    opened: z.boolean().describe("false: the evidence was added to the task already open"),
    task: TaskSchema,
    evidence: EvidenceViewSchema,
  })
  .openapi("RetrainingOpened");
export type Opened = z.infer<typeof OpenedSchema>;

export const EvaluatedSchema = z
  .object({ task: TaskSchema, verdict: VerdictSchema })
  .openapi("RetrainingEvaluated");

export const TaskPageSchema = z
  .object({ items: z.array(TaskSchema), nextCursor: z.string().nullable() })
  .openapi("RetrainingTaskPage");
