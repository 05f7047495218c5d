import { z } from "zod";

/** The gateway's request ids (and any id a caller supplied as x-request-id). */
const RequestId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, "a gateway request id, as returned in x-request-id (req_…)");

/** The body of `POST /v1/feedback`: about one gateway request, at least `success` or `score`. */
export const FeedbackSchema = z
  .object({
    requestId: RequestId.describe("the answer's x-modelgov-request-id header"),
    success: z.boolean().optional().describe("did the answer do its job"),
    score: z.number().finite().optional().describe("a rating on the caller's own scale"),
    labels: z
      .array(z.string().min(1).max(100))
      .max(50)
      .default([])
      .describe("free-form tags, e.g. resolved, escalated"),
    groups: z
      .record(
        z
          .string()
          .regex(/^[a-z][a-z0-9_]{0,49}$/, "a group key is lowercase letters, digits and _ (age_band)"),
        z.string().max(200),
      )
      .refine((g) => Object.keys(g).length <= 20, "at most 20 groups")
      .default({})
      .describe("group attributes for fairness analysis: age_band, region, language, ..."),
    comment: z.string().max(4000).default("").describe("free text"),
    correction: z
      .string()
      .min(1)
      .max(100_000)
      .optional()
      .describe(
        "the answer that should have been given; a retraining task's dataset export uses it as the assistant turn",
      ),
  })
  .strict()
  .refine((f) => f.success !== undefined || f.score !== undefined, {
    message: "give success, score or both",
    path: ["success"],
  });
export type FeedbackInput = z.input<typeof FeedbackSchema>;
export type Feedback = z.infer<typeof FeedbackSchema>;
