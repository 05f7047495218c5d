import { z } from "zod";
import { MAX_EMBEDDING_DIMENSIONS } from "../shared/embedding.ts";

/** The simulator's vector length when a version's `embedding` names none. */
export const SIMULATOR_DEFAULT_DIMENSIONS = 256;

/**
 * Parameters of a version served by the built-in simulator: an in-process model for
 * demos, tests and benchmarks whose latency, errors, token counts and answer quality
 * (overall and per group) are set here. The gateway issue implements the serving side.
 */
export const SimulatorParametersSchema = z
  .object({
    latencyMs: z
      .object({
        p50: z.number().min(0).max(600_000).describe("median latency, ms"),
        p95: z.number().min(0).max(600_000).describe("95th percentile latency, ms; at least p50"),
      })
      .refine((l) => l.p95 >= l.p50, { message: "p95 must be at least p50", path: ["p95"] })
      .default({ p50: 300, p95: 900 })
      .describe("answer latency, drawn from a log-normal distribution with these percentiles"),
    errorRate: z.number().min(0).max(1).default(0).describe("share of calls that fail with HTTP 503"),
    tokens: z
      .object({
        input: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe("input tokens reported per call; unset: estimated from the messages"),
        output: z.number().int().min(1).max(100_000).describe("output tokens per answer"),
      })
      .default({ output: 120 })
      .describe("token counts reported in usage (and billed by the route's prices)"),
    /** Probability that an answer is judged successful, overall and per group value ("age_band:65+"). */
    quality: z
      .object({
        success: z
          .number()
          .min(0)
          .max(1)
          .describe("probability an answer is successful (a request in no listed group); default 0.9"),
        byGroup: z
          .record(z.string().regex(/^[a-z_]+:.+$/, "expected `attribute:value`"), z.number().min(0).max(1))
          .describe(
            "probability per group, keyed `attribute:value` (age_band:65+), matched against the request's x-modelgov-groups header",
          ),
      })
      .partial()
      .default({ success: 0.9 })
      .describe("how often answers are judged successful, overall and per group"),
    poorAnswer: z
      .enum(["wrong", "refusal"])
      .default("wrong")
      .describe(
        "what an unsuccessful answer looks like: wrong (SIM-POOR text) or a refusal (\"I'm sorry, I can't help with that\"), which a cascade router escalates",
      ),
    seed: z
      .number()
      .int()
      .optional()
      .describe("seeds the draws, with the request id: the same request gets the same answer; unset: random"),
    embedding: z
      .object({
        dimensions: z
          .number()
          .int()
          .min(1)
          .max(MAX_EMBEDDING_DIMENSIONS)
          .default(SIMULATOR_DEFAULT_DIMENSIONS)
          .describe("the length of the vectors; a request may ask for fewer (a prefix, renormalised)"),
      })
      .strict()
      .optional()
      .describe(
        "makes the version an embedding model: deterministic unit vectors from a hash of each input (and seed); chat is refused",
      ),
  })
  .strict();

export type SimulatorParameters = z.infer<typeof SimulatorParametersSchema>;
