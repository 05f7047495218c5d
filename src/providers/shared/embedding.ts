import { z } from "zod";
import type { EmbeddingRequest } from "../types.ts";
import { approxTokens } from "./tokens.ts";

/** The most dimensions a version may declare or a request may ask for. */
export const MAX_EMBEDDING_DIMENSIONS = 16_384;

/**
 * `parameters.embedding` of a version: its presence makes the version an embedding model
 * (served on `/v1/embeddings`, refused on chat); `dimensions` is the length of its vectors,
 * the most a request may ask for. A parameter rather than a column: parameters are pinned
 * with the version, shown wherever it is, and no store or API shape changes.
 */
export const EmbeddingParametersSchema = z
  .object({
    dimensions: z
      .number()
      .int()
      .min(1)
      .max(MAX_EMBEDDING_DIMENSIONS)
      .optional()
      .describe("the length of the model's vectors: the default, and the most a request may ask for"),
  })
  .strict()
  .describe("marks the version as an embedding model (POST /v1/embeddings; chat is refused)");

/** Whether a version's parameters make it an embedding model. */
export function isEmbeddingVersion(parameters: Readonly<Record<string, unknown>>): boolean {
  const e = parameters.embedding;
  return typeof e === "object" && e !== null && !Array.isArray(e);
}

/** The vector length a version declares, if it does. */
export function declaredDimensions(parameters: Readonly<Record<string, unknown>>): number | undefined {
  const d = (parameters.embedding as { dimensions?: unknown } | undefined)?.dimensions;
  return typeof d === "number" ? d : undefined;
}

/** Tokens of an embeddings input, estimated: a token array counts itself, text ~4 characters a token. */
export function estimateInputTokens(input: EmbeddingRequest["input"]): number {
  let n = 0;
  for (const item of input) n += typeof item === "string" ? approxTokens(item.length) : item.length;
  return n;
}

/**
 * A vector as OpenAI's `encoding_format: "base64"` carries it: the float32 values,
 * little-endian, base64-encoded (what the official SDKs decode with a Float32Array).
 */
export function toFloat32Base64(vector: readonly number[]): string {
  const buf = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i]!, i * 4);
  return buf.toString("base64");
}

/** The inverse of `toFloat32Base64`; null when the text is not a whole number of float32 values. */
export function fromFloat32Base64(text: string): number[] | null {
  const buf = Buffer.from(text, "base64");
  if (buf.length % 4 !== 0) return null;
  const out = new Array<number>(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
