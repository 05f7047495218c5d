import { z } from "zod";

/**
 * Parameters of a version served by the built-in simulator: an in-process model for
 * demos, tests and benchmarks whose latency, errors, token counts and answer quality
 * (overall and per group) are set here. The gateway issue implements the serving side.
 */
export const SimulatorParametersSchema = z
  .object({
    latencyMs: z
      .object({ p50: z.number().min(0).max(600_000), p95: z.number().min(0).max(600_000) })
      .refine((l) => l.p95 >= l.p50, { message: "p95 must be at least p50", path: ["p95"] })
      .default({ p50: 300, p95: 900 }),
    errorRate: z.number().min(0).max(1).default(0),
    tokens: z
      .object({ input: z.number().int().min(0).optional(), output: z.number().int().min(1).max(100_000) })
      .default({ output: 120 }),
    /** Probability that an answer is judged successful, overall and per group value ("age_band:65+"). */
    quality: z
      .object({
        success: z.number().min(0).max(1),
        byGroup: z.record(
          z.string().regex(/^[a-z_]+:.+$/, "expected `attribute:value`"),
          z.number().min(0).max(1),
        ),
      })
      .partial()
      .default({ success: 0.9 }),
    seed: z.number().int().optional(),
  })
  .strict();

export type SimulatorParameters = z.infer<typeof SimulatorParametersSchema>;
