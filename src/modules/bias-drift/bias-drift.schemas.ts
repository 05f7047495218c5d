import { z } from "@hono/zod-openapi";
import { SemverString } from "../registry/index.ts";

const Time = z.string().datetime({ offset: true });

export const SeriesQuerySchema = z.object({
  version: SemverString.optional(),
  attribute: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("an attribute (language) or an intersection as the series names it (gender × age_band)"),
  from: Time.optional().describe("points whose window starts at or after this time"),
  to: Time.optional().describe("points whose window ends at or before this time"),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(1000)
    .describe("the newest points matching, returned oldest first"),
});
export type SeriesQuery = z.infer<typeof SeriesQuerySchema>;

export const ComputeSchema = z
  .object({
    from: Time.describe("the first window's start, on a window boundary"),
    to: Time.describe("the last window's end, on a window boundary and not in the future"),
  })
  .strict()
  .openapi("BiasDriftCompute");
export type ComputeInput = z.infer<typeof ComputeSchema>;

const GroupSchema = z.object({
  key: z.string(),
  values: z.record(z.string(), z.string()),
  n: z.number().int(),
  successes: z.number().int(),
  successRate: z.number().nullable().describe("null when the group is below the minimum size"),
  status: z.enum(["ok", "insufficient"]),
});

export const PointSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.string(),
    attribute: z.string(),
    windowStart: z.string(),
    windowEnd: z.string(),
    n: z.number().int().describe("requests with feedback"),
    unassigned: z.number().int().describe("requests without a value for the attribute (in no group)"),
    groups: z.array(GroupSchema).describe("every group, insufficient ones included"),
    gapPoints: z.number().nullable().describe("max − min success rate in points; null below two groups"),
    ratio: z.number().nullable(),
    thresholdPoints: z.number().nullable().describe("the strictest maxGapPoints of the gates; null: no gate"),
    minRatio: z.number().nullable(),
    minGroupSize: z.number().int(),
    breached: z.boolean(),
    alerted: z.boolean().describe("this point raised fairness.drift_alert"),
    previousGapPoints: z.number().nullable(),
    reasons: z.array(z.string()),
    computedAt: z.string(),
  })
  .openapi("BiasDriftPoint");
export type PointView = z.infer<typeof PointSchema>;

export const SeriesSchema = z
  .object({
    model: z.string(),
    windowMs: z.number().int(),
    points: z.array(PointSchema).describe("in time order"),
    alerts: z.array(PointSchema).describe("the points that raised an alert, in time order"),
  })
  .openapi("BiasDriftSeries");
export type SeriesView = z.infer<typeof SeriesSchema>;

export const ComputedSchema = z
  .object({
    model: z.string(),
    windows: z.array(z.object({ start: z.string(), end: z.string() })),
    points: z
      .array(PointSchema)
      .describe("the points this call recorded (a window already computed adds none)"),
    alerts: z.array(PointSchema),
  })
  .openapi("BiasDriftComputed");
export type ComputedView = z.infer<typeof ComputedSchema>;
