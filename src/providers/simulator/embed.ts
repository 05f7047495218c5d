import { estimateInputTokens } from "../shared/embedding.ts";
import type { EmbeddingRequest } from "../types.ts";
import { hash32, mulberry32 } from "./random.ts";
import type { SimulatorParameters } from "./registration.ts";

/**
 * A simulated embedding of one input: a unit vector drawn from a PRNG seeded by a hash of
 * the text (or token array) and the version's seed, so the same input always gets the same
 * vector, whatever the request. Fewer `dimensions` than the version's give the prefix of its
 * full vector, renormalised, as shortened OpenAI text-embedding-3 vectors are.
 */
export function simulatedVector(
  item: string | readonly number[],
  dimensions: number,
  full: number,
  seed = 0,
) {
  const key = typeof item === "string" ? `t:${item}` : `k:${item.join(",")}`;
  const rand = mulberry32(hash32(`${seed}:${key}`));
  const v = new Array<number>(Math.min(dimensions, full));
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    const x = rand() * 2 - 1;
    v[i] = x;
    norm += x * x;
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < v.length; i++) v[i] = Math.fround(v[i]! / norm);
  return v;
}

/** What a simulated embeddings call answers, before its latency is spent; or why it refuses. */
export function planEmbedding(
  req: EmbeddingRequest,
  params: SimulatorParameters,
): { vectors: number[][]; inputTokens: number } | { refusal: string } {
  const full = params.embedding?.dimensions;
  if (full === undefined) return { refusal: "this version is not an embedding model (parameters.embedding)" };
  const dimensions = req.dimensions ?? full;
  if (dimensions > full) return { refusal: `dimensions: at most ${full} for this model, got ${dimensions}` };
  return {
    vectors: req.input.map((item) => simulatedVector(item, dimensions, full, params.seed)),
    inputTokens: params.tokens.input ?? estimateInputTokens(req.input),
  };
}
