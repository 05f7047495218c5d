import { z } from "@hono/zod-openapi";

/**
 * A rollout plan as the API and modelgov.yaml accept it: the shape of the canary judge's
 * `Plan` (src/engines/rollout/types.ts). The judge's own `validatePlan` then checks the
 * business rules (weights increasing, a final 100% step, …).
 */
const common = {
  minSample: z.number().int().min(1).optional().describe("sample per arm before judging this metric"),
  alpha: z.number().gt(0).lt(0.5).optional(),
  immediateRollback: z.boolean().optional().describe("a failure rolls back at once"),
};
const relative = z.number().min(0).max(10);

export const PlanMetricSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("agreement"),
      min: z
        .number()
        .gt(0)
        .max(1)
        .describe("blue-green: least share of mirrored answers agreeing with the served"),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal("success_rate"),
      maxRelativeDrop: relative.optional().describe("margin relative to the baseline: 0.05 = 5% of its rate"),
      maxDropPoints: z
        .number()
        .gt(0)
        .max(100)
        .optional()
        .describe("margin in percentage points: 5 = 5 points"),
      min: z
        .number()
        .gt(0)
        .lt(1)
        .optional()
        .describe("a floor: never below this rate unless the baseline is too"),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal("score_mean"),
      maxRelativeDrop: relative.optional(),
      maxDrop: z.number().gt(0).optional().describe("margin in score units"),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal("error_rate"),
      max: z.number().min(0).max(1),
      bound: z.enum(["one_sided"]).optional().describe("old plans; the test is always sequential"),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal("latency_p95_ms"),
      max: z.number().positive().optional(),
      maxRelativeIncrease: relative.optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal("cost_per_request_usd"),
      max: z.number().min(0).optional(),
      maxRelativeIncrease: relative.optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      kind: z.literal("group_success_gap"),
      maxGapPoints: z.number().min(0).max(100),
      minGroupSize: z.number().int().min(1).optional(),
      attributes: z.array(z.string().min(1).max(50)).min(1).optional(),
      ...common,
    })
    .strict(),
]);

export const PlanBodySchema = z
  .object({
    steps: z
      .array(
        z
          .object({
            weight: z.number().gt(0).max(100).describe("the candidate's share, in percent"),
            durationMs: z.number().int().min(1).describe("the least time at this weight"),
            pause: z
              .boolean()
              .optional()
              .describe("a manual gate: wait for `rollout promote` after it passes"),
            minSamplePerArm: z.number().int().min(1).optional(),
            maxSamplePerArm: z
              .number()
              .int()
              .min(2)
              .optional()
              .describe("requests per arm at which an inconclusive step does what onInconclusive says"),
            maxDurationMs: z
              .number()
              .int()
              .min(1)
              .optional()
              .describe("the longest an inconclusive step waits (default twice durationMs)"),
          })
          .strict(),
      )
      .min(1)
      .max(20),
    analysisIntervalMs: z.number().int().min(100),
    minSamplePerArm: z.number().int().min(1),
    failureLimit: z.number().int().min(1).max(100),
    onInconclusive: z
      .enum(["advance", "pause", "rollback"])
      .optional()
      .describe("what a step still inconclusive at its maximum sample or duration does (default pause)"),
    advanceOnInconclusive: z.boolean().optional().describe('old plans: true is onInconclusive "advance"'),
    maxSamplePerArm: z.number().int().min(2).optional(),
    alpha: z
      .number()
      .gt(0)
      .lt(0.5)
      .optional()
      .describe("each metric's false-alarm rate over the whole rollout"),
    alphaByStep: z
      .array(z.number().gt(0).max(1))
      .max(20)
      .optional()
      .describe("each step's share of alpha, summing to 1 (default 80% to the first step)"),
    metrics: z.array(PlanMetricSchema).max(20),
    fastPath: z
      .object({
        windowMs: z.number().int().min(100),
        minRequests: z.number().int().min(1),
        maxErrorRate: z.number().min(0).max(1).optional(),
      })
      .strict(),
  })
  .strict();

export const PlanSchema = PlanBodySchema.extend({ name: z.string().min(1).max(100) }).openapi("RolloutPlan");
