import { MAX_EMBEDDING_DIMENSIONS } from "../../../../providers/shared/embedding.ts";
import type { EmbeddingRequest, Json } from "../../../../providers/types.ts";
import { GatewayError } from "../gateway-error.ts";

/** OpenAI's own bound on the items of one embeddings request. */
export const MAX_EMBEDDING_INPUTS = 2048;

/** A validated embeddings request: the model asked for, and what the adapters get. */
export interface EmbeddingsAsk {
  model: string;
  request: EmbeddingRequest;
  /** How the caller wants the vectors: OpenAI's default is float; the official SDKs ask base64. */
  encoding: "float" | "base64";
}

const invalid = (field: string, reason: string) =>
  new GatewayError(400, `${field}: ${reason}`, { field: `body.${field}` });

/**
 * The embeddings request in a parsed body (OpenAI's shape): `input` a string, a list of
 * strings, a token array or a list of token arrays; a request no adapter could read is a 400
 * naming the field, before anything is routed. Other fields are ignored, as OpenAI's are not.
 */
export function embeddingsRequestOf(body: Json): EmbeddingsAsk {
  if (typeof body.model !== "string" || !body.model)
    throw invalid(
      "model",
      "required, the name of a registered embedding model (optionally @alias or @version)",
    );
  const input = inputOf(body.input);
  const request: EmbeddingRequest = { input };
  const { dimensions, encoding_format: format, user } = body;
  if (dimensions !== undefined && dimensions !== null) {
    if (
      !Number.isInteger(dimensions) ||
      (dimensions as number) < 1 ||
      (dimensions as number) > MAX_EMBEDDING_DIMENSIONS
    )
      throw invalid("dimensions", `must be an integer from 1 to ${MAX_EMBEDDING_DIMENSIONS}`);
    request.dimensions = dimensions as number;
  }
  if (format !== undefined && format !== null && format !== "float" && format !== "base64")
    throw invalid("encoding_format", 'must be "float" or "base64"');
  if (format) request.encoding_format = format;
  if (user !== undefined && user !== null) {
    if (typeof user !== "string") throw invalid("user", "must be a string");
    request.user = user;
  }
  return { model: body.model, request, encoding: format === "base64" ? "base64" : "float" };
}

const isToken = (x: unknown) => Number.isInteger(x) && (x as number) >= 0;

function inputOf(input: unknown): EmbeddingRequest["input"] {
  const shape = "a string, an array of strings, an array of token ids or an array of token-id arrays";
  if (typeof input === "string") {
    if (!input) throw invalid("input", "must not be empty");
    return [input];
  }
  if (!Array.isArray(input)) throw invalid("input", `required: ${shape}`);
  if (input.length === 0) throw invalid("input", "must not be an empty array");
  if (input.length > MAX_EMBEDDING_INPUTS)
    throw invalid("input", `at most ${MAX_EMBEDDING_INPUTS} items per request, got ${input.length}`);
  // One token array (numbers at the top level) is one input.
  if (typeof input[0] === "number") {
    const i = input.findIndex((t) => !isToken(t));
    if (i >= 0) throw invalid(`input.${i}`, "a token array holds non-negative integers only");
    return [input as number[]];
  }
  const kind = typeof input[0] === "string" ? "string" : Array.isArray(input[0]) ? "tokens" : null;
  if (!kind) throw invalid("input.0", `must be a string or a token-id array (input: ${shape})`);
  for (const [i, item] of input.entries()) {
    if (kind === "string") {
      if (typeof item !== "string") throw invalid(`input.${i}`, "must be a string, as input.0 is");
      if (!item) throw invalid(`input.${i}`, "must not be empty");
      continue;
    }
    if (!Array.isArray(item)) throw invalid(`input.${i}`, "must be a token-id array, as input.0 is");
    if (item.length === 0) throw invalid(`input.${i}`, "must not be an empty token array");
    const j = item.findIndex((t) => !isToken(t));
    if (j >= 0) throw invalid(`input.${i}.${j}`, "a token array holds non-negative integers only");
  }
  return input as EmbeddingRequest["input"];
}
