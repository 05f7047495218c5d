import { type HttpDeps, postForJson } from "../http/upstream.ts";
import { Deadlines } from "../shared/deadlines.ts";
import { declaredDimensions, estimateInputTokens, fromFloat32Base64 } from "../shared/embedding.ts";
import {
  type CallContext,
  type EmbeddingRequest,
  type EmbeddingResult,
  type Json,
  UpstreamError,
  type UpstreamTarget,
} from "../types.ts";
import { OPENAI_DEFAULT_ENDPOINT, openAIHeaders } from "./request.ts";

export function embeddingsUrl(target: UpstreamTarget): string {
  return `${(target.endpoint ?? OPENAI_DEFAULT_ENDPOINT).replace(/\/+$/, "")}/embeddings`;
}

/**
 * The body sent upstream: the provider's model id, the input, and what the caller asked of
 * the vectors. Sampling defaults mean nothing to an embedding model and are not sent; the
 * version's declared dimensions are not either (a model's full size is its default).
 */
export function embeddingsBody(req: EmbeddingRequest, target: UpstreamTarget): Json {
  const body: Json = { model: target.providerModelId, input: req.input };
  if (req.dimensions !== undefined) body.dimensions = req.dimensions;
  if (req.encoding_format !== undefined) body.encoding_format = req.encoding_format;
  if (req.user !== undefined) body.user = req.user;
  return body;
}

/** POST {endpoint}/embeddings; the vectors come back as floats whichever encoding the upstream used. */
export async function embedOpenAI(
  deps: HttpDeps,
  req: EmbeddingRequest,
  target: UpstreamTarget,
  ctx: CallContext,
): Promise<EmbeddingResult> {
  const started = deps.clock.now().getTime();
  const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
  try {
    const json = await postForJson(
      embeddingsUrl(target),
      openAIHeaders(target, false, ctx.trace),
      embeddingsBody(req, target),
      deadlines,
      deps,
      target.label,
    );
    const vectors = vectorsOf(json, req.input.length, target.label);
    const declared = declaredDimensions(target.parameters);
    if (declared !== undefined && vectors.some((v) => v.length > declared))
      throw new UpstreamError(
        "protocol",
        `${target.label}: vectors longer than the ${declared} dimensions the version declares`,
      );
    const usage = json.usage as { prompt_tokens?: unknown } | undefined;
    const inputTokens =
      typeof usage?.prompt_tokens === "number" ? usage.prompt_tokens : estimateInputTokens(req.input);
    return {
      vectors,
      usage: { inputTokens, outputTokens: 0 },
      upstreamMs: deps.clock.now().getTime() - started,
    };
  } finally {
    deadlines.dispose();
  }
}

/** The answer's vectors in input order (by `index`), one per input; else a protocol error. */
function vectorsOf(json: Json, count: number, label: string): number[][] {
  const bad = (why: string) =>
    new UpstreamError("protocol", `${label}: not an embeddings list: ${why}`, { body: json });
  if (!Array.isArray(json.data)) throw bad("no data array");
  const out = new Array<number[] | undefined>(count);
  for (const [i, raw] of (json.data as unknown[]).entries()) {
    const d = raw as { index?: unknown; embedding?: unknown } | null;
    const index = typeof d?.index === "number" ? d.index : i;
    if (!Number.isInteger(index) || index < 0 || index >= count || out[index]) throw bad(`data[${i}].index`);
    const e = d?.embedding;
    const vector =
      typeof e === "string"
        ? fromFloat32Base64(e)
        : Array.isArray(e) && e.every((x) => typeof x === "number")
          ? (e as number[])
          : null;
    if (!vector) throw bad(`data[${i}].embedding`);
    out[index] = vector;
  }
  // A loop, not `some`: `some` skips the holes of a sparse array, which are what it looks for.
  for (let i = 0; i < count; i++) if (!out[i]) throw bad(`${json.data.length} vectors for ${count} inputs`);
  return out as number[][];
}
