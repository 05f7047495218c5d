import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  declaredDimensions,
  isEmbeddingVersion,
  toFloat32Base64,
} from "../../../../providers/shared/embedding.ts";
import {
  type CallContext,
  type EmbeddingRequest,
  type EmbeddingResult,
  type Json,
  type ProviderAdapter,
  UpstreamError,
  type UpstreamTarget,
} from "../../../../providers/types.ts";
import { isRefusal, type Resolution, type RouteRefusal } from "../../routing/resolve.ts";
import type { RequestSpan } from "../../tracing/index.ts";
import { askedRoute, type FlagHooks } from "../asked-route.ts";
import { attemptOn, openCall, sendFailure, servedHeaders, tryChain } from "../chat/call.ts";
import { elapsedMs, type KeptBodies, logEntry, type Outcome } from "../chat/log-entry.ts";
import { parseGroups } from "../chat/request.ts";
import type { BodyPolicy, GatewayDeps, Principal } from "../deps.ts";
import { GatewayError } from "../gateway-error.ts";
import { sendJson } from "../respond.ts";
import { type EmbeddingsAsk, embeddingsRequestOf } from "./request.ts";

export { embeddingsRequestOf } from "./request.ts";

/** A `POST /v1/embeddings` the front door authorised, rate-limited and read. */
export interface EmbeddingsArgs {
  deps: GatewayDeps;
  req: IncomingMessage;
  res: ServerResponse;
  body: Json;
  principal: Principal;
  requestId: string;
  base: Record<string, string>;
  /** The route flag's clock and counter, as the chat path evaluates them. */
  flag: FlagHooks;
  /** A routing refusal as the caller's error (a kill switch's names the switch). */
  refused(r: RouteRefusal): GatewayError;
  /** The call's server span, when tracing is on. */
  trace?: RequestSpan | undefined;
}

/**
 * One embeddings call: validated, routed like a chat call (aliases, splits, the route's flag,
 * kill switches, the fallback chain with its retries and breakers), answered in OpenAI's
 * shape, then logged once (endpoint `embeddings`, input tokens, cost) and counted.
 */
export async function handleEmbeddings(a: EmbeddingsArgs): Promise<void> {
  const { deps, req } = a;
  const ask = embeddingsRequestOf(a.body);
  const { subject, asked } = askedRoute(deps.routing.current(), req, a.body, ask.model, a.requestId, a.flag);
  if (isRefusal(asked)) throw a.refused(asked);
  const resolution = embeddingRoute(asked, ask);
  if (asked.killed) deps.observeKill?.(asked.killed.scope, "diverted");
  // The chat call's machinery (signal, targets, chain, failure answer, spans) without a chat body.
  const chat = { model: ask.model, messages: [], stream: false };
  a.trace?.request(chat);
  const call = openCall({
    deps,
    req,
    res: a.res,
    dialect: "openai",
    chat,
    trace: a.trace,
    resolution,
    principal: a.principal,
    requestId: a.requestId,
    subject,
    groups: parseGroups(req.headers["x-modelgov-groups"]),
    base: a.base,
  });
  const out = await tryChain(call, (v, signal, n) =>
    attemptOn(
      call,
      v,
      signal,
      n,
      (ctx) => embedWith(deps.adapters[v.provider], ask.request, call.target(v), ctx),
      (r) => ({ usage: r.usage }),
    ),
  );
  let outcome: Outcome;
  if ("failure" in out) outcome = sendFailure(call, out.failure);
  else {
    const label = call.target(out.servedBy).label;
    sendJson(a.res, 200, answerOf(out.result, ask, label), servedHeaders(call, out.servedBy, out.path));
    outcome = {
      status: 200,
      errorClass: null,
      servedBy: out.servedBy,
      path: out.path,
      usage: out.result.usage,
      upstreamMs: out.result.upstreamMs,
      bodies:
        deps.bodies.mode !== "off" ? keepBodies(deps.bodies, ask.request, out.result.vectors) : undefined,
    };
  }
  const entry = logEntry({ ...call.start, endpoint: "embeddings" }, outcome, elapsedMs(call.startedMs));
  deps.log(entry);
  deps.observe?.(entry);
  a.trace?.answered({
    version: outcome.servedBy ? call.target(outcome.servedBy).label : undefined,
    route: resolution.reason,
    usage: outcome.usage,
    errorClass: outcome.errorClass,
  });
}

/**
 * The route for an embeddings request: its primary must be an embedding version (else a 400
 * naming `body.model`) able to give the dimensions asked for; the fallback chain keeps only
 * versions that can too.
 */
function embeddingRoute(r: Resolution, ask: EmbeddingsAsk): Resolution {
  const primary = r.chain[0]!;
  const at = `'${ask.model}' resolves to ${primary.model}@${primary.version}`;
  if (primary.provider === "router")
    throw new GatewayError(400, `model: ${at}, a router; routers serve chat, not embeddings`, {
      field: "body.model",
    });
  if (!isEmbeddingVersion(primary.parameters))
    throw new GatewayError(
      400,
      `model: ${at}, a chat model; /v1/embeddings needs an embedding model (a version registered with parameters.embedding)`,
      { field: "body.model" },
    );
  const wanted = ask.request.dimensions;
  const fits = (p: Record<string, unknown>) =>
    wanted === undefined || !(wanted > (declaredDimensions(p) ?? wanted));
  if (!fits(primary.parameters))
    throw new GatewayError(
      400,
      `dimensions: at most ${declaredDimensions(primary.parameters)} for ${primary.model}@${primary.version}, got ${wanted}`,
      { field: "body.dimensions" },
    );
  return {
    ...r,
    chain: r.chain.filter(
      (v) => v.provider !== "router" && isEmbeddingVersion(v.parameters) && fits(v.parameters),
    ),
  };
}

function embedWith(
  adapter: ProviderAdapter | undefined,
  req: EmbeddingRequest,
  target: UpstreamTarget,
  ctx: CallContext,
): Promise<EmbeddingResult> {
  if (!adapter?.embed)
    return Promise.reject(
      new UpstreamError("refused", `${target.label}: provider '${target.provider}' has no embeddings API`),
    );
  return adapter.embed(req, target, ctx);
}

/** OpenAI's embeddings list; base64 is the float32 values, little-endian, as the SDKs decode them. */
function answerOf(result: EmbeddingResult, ask: EmbeddingsAsk, label: string): Json {
  const tokens = result.usage.inputTokens;
  return {
    object: "list",
    data: result.vectors.map((v, index) => ({
      object: "embedding",
      index,
      embedding: ask.encoding === "base64" ? toFloat32Base64(v) : v,
    })),
    model: label,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

const sha = (x: unknown) => `sha256:${createHash("sha256").update(JSON.stringify(x)).digest("hex")}`;

/** As the chat path keeps bodies; a sampled answer is summarised (vectors are large and say little). */
function keepBodies(policy: BodyPolicy, req: EmbeddingRequest, vectors: number[][]): KeptBodies | undefined {
  if (policy.mode === "hash") return { promptHash: sha(req.input), responseHash: sha(vectors) };
  if (policy.mode === "sample" && Math.random() < policy.rate)
    return {
      sampledBody: {
        request: req,
        response: { vectors: vectors.length, dimensions: vectors[0]?.length ?? 0 },
      },
    };
  return undefined;
}
