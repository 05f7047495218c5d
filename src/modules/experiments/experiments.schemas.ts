import { z } from "@hono/zod-openapi";
import type { ExperimentResults } from "../../engines/experiments/index.ts";
import { SemverString, Slug } from "../registry/index.ts";
import { RouterPathsSchema } from "../request-log/index.ts";

const METRICS = ["success_rate", "error_rate", "score_mean"] as const;

const ArmSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(40)
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "letters, digits and _ . - (e.g. control, b)"),
    version: SemverString,
    weight: z.number().gt(0).max(100).describe("percent of the model's traffic; the arms add up to 100"),
  })
  .strict();

const ErrorRateGuardrail = z
  .object({
    metric: z.literal("error_rate"),
    max: z.number().gt(0).lt(1).describe("e.g. 0.02: a treatment above 2% errors stops the experiment"),
    bound: z
      .enum(["one_sided"])
      .optional()
      .describe(
        "old experiments; breached only when a sequential test (valid at every look) shows the rate above max and above the control's",
      ),
    alpha: z.number().gt(0).lt(0.5).optional().describe("false-stop rate over every look (default 0.05)"),
    minRequests: z.number().int().min(1).optional(),
  })
  .strict();

const LimitGuardrail = z
  .object({
    metric: z.enum(["latency_p95_ms", "cost_per_request_usd"]),
    max: z.number().gt(0).optional(),
    maxRelativeIncrease: z.number().gt(0).optional().describe("relative to the control: 0.2 allows +20%"),
    alpha: z.number().gt(0).lt(0.5).optional().describe("false-stop rate over every look (default 0.05)"),
    minRequests: z.number().int().min(1).optional(),
  })
  .strict();

export const ExperimentCreateSchema = z
  .object({
    name: Slug.describe("unique per model"),
    arms: z.array(ArmSchema).min(2).max(10).describe("the versions compared; the first is the control"),
    primary: z.enum(["success_rate", "score_mean"]).default("success_rate"),
    secondary: z.array(z.enum(METRICS)).max(3).default([]),
    guardrails: z
      .array(z.discriminatedUnion("metric", [ErrorRateGuardrail, LimitGuardrail]))
      .max(10)
      .default([])
      .describe("a breach stops the experiment at once"),
    minSamplePerArm: z.number().int().min(2).max(10_000_000).default(100),
    minDurationMs: z
      .number()
      .int()
      .min(0)
      .max(366 * 86_400_000)
      .default(0),
    plannedSamplePerArm: z
      .number()
      .int()
      .min(2)
      .max(100_000_000)
      .default(1000)
      .describe("the horizon, fixed up front: tunes the sequential test; 'no difference' is called there"),
    baselineRate: z.number().gt(0).lt(1).optional().describe("expected control success rate (default 0.5)"),
    scoreVariance: z.number().gt(0).optional().describe("expected score variance; required for score_mean"),
    alpha: z.number().gt(0).lt(0.5).default(0.05),
  })
  .strict();
export type ExperimentCreate = z.infer<typeof ExperimentCreateSchema>;
/** What a caller sends: everything but the name and arms has a default. */
export type ExperimentCreateInput = z.input<typeof ExperimentCreateSchema>;

const LookSchema = z.object({
  at: z.string(),
  elapsedMs: z.number(),
  results: z
    .object({
      control: z.string(),
      arms: z.array(z.unknown()).describe("per arm: counts, rates, cost per request and per success"),
      primary: z
        .array(z.unknown())
        .describe("each treatment against the control: lift, p fixed / always-valid"),
      secondary: z.array(z.unknown()).describe("secondary metrics, p-values corrected together"),
      guardrails: z.array(z.unknown()),
      srm: z.unknown().describe("the sample-ratio-mismatch check"),
      trustworthy: z.boolean(),
      minimumMet: z.boolean(),
      recommendation: z.object({
        decision: z.enum([
          "ship",
          "keep_running",
          "no_difference",
          "stopped_by_guardrail",
          "sample_ratio_mismatch",
        ]),
        arm: z.string().nullable(),
        reasons: z.array(z.string()),
      }),
    })
    .describe("the engine's ExperimentResults (docs/rollouts-analysis.md)"),
  paths: z
    .array(RouterPathsSchema.extend({ arm: z.string() }))
    .optional()
    .describe(
      "arms that are router versions: success and cost per success by path since the start (absent when no arm is a router)",
    ),
});

export const ExperimentSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    name: z.string(),
    arms: z.array(z.object({ name: z.string(), version: z.string(), weight: z.number() })),
    primary: z.enum(["success_rate", "score_mean"]),
    secondary: z.array(z.enum(METRICS)),
    guardrails: z.array(z.record(z.string(), z.unknown())),
    minSamplePerArm: z.number().int(),
    minDurationMs: z.number(),
    plannedSamplePerArm: z.number().int(),
    baselineRate: z.number().nullable(),
    scoreVariance: z.number().nullable(),
    alpha: z.number(),
    status: z.enum(["running", "stopped", "completed"]),
    stopReason: z.string().nullable(),
    startedAt: z.string(),
    endedAt: z.string().nullable(),
    startedBy: z.string(),
    results: LookSchema.nullable().describe("the latest look: fresh while running, the final one after"),
  })
  .openapi("Experiment");

export const ResultsResponseSchema = LookSchema.extend({
  experiment: z.string(),
  model: z.string(),
  name: z.string(),
  status: z.enum(["running", "stopped", "completed"]),
}).openapi("ExperimentResults");

export const StopSchema = z.object({ reason: z.string().min(1).max(2000).optional() }).strict();

type TypedLook = {
  at: string;
  elapsedMs: number;
  results: ExperimentResults;
  paths?: z.infer<typeof LookSchema>["paths"];
};

/** The API's experiment, with the results typed as the engine returns them. */
export type ExperimentApiView = Omit<z.infer<typeof ExperimentSchema>, "results"> & {
  results: TypedLook | null;
};
export type ExperimentResultsView = Omit<z.infer<typeof ResultsResponseSchema>, "results"> & TypedLook;
