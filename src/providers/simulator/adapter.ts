import type { Clock } from "../../lib/clock.ts";
import { Deadlines, sleep } from "../shared/deadlines.ts";
import { primeStream } from "../shared/stream-result.ts";
import {
  type CallContext,
  type ChatChunk,
  type ChatRequest,
  type ProviderAdapter,
  UpstreamError,
  type UpstreamTarget,
} from "../types.ts";
import { chunksOf, type Plan, planAnswer, qualityFor, responseOf } from "./answer.ts";
import { planEmbedding } from "./embed.ts";
import { hash32, logNormalLatency, mulberry32 } from "./random.ts";
import { type SimulatorParameters, SimulatorParametersSchema } from "./registration.ts";

export interface SimulatorDeps {
  clock: Clock;
  /** Seeds calls of versions registered without a `seed`. */
  random: () => number;
}

/** Share of the latency spent before the first token; the rest is spread over the chunks. */
const TIME_TO_FIRST_TOKEN = 0.3;

/**
 * The built-in simulator: no network, the latency, errors, token counts and per-group
 * answer quality its version's parameters set. Draws come from a PRNG seeded by the
 * version's seed and the request id, so one request always gets the same answer. It keeps
 * the same deadlines as the HTTP adapters, so timeouts and aborts behave alike.
 */
export function createSimulatorAdapter(deps: SimulatorDeps): ProviderAdapter {
  // Parameters were validated at registration; parsing fills the defaults, once per object.
  const parsed = new WeakMap<object, SimulatorParameters>();
  const paramsOf = (target: UpstreamTarget): SimulatorParameters => {
    let p = parsed.get(target.parameters);
    if (!p) {
      const r = SimulatorParametersSchema.safeParse(target.parameters);
      if (!r.success) {
        throw new UpstreamError(
          "protocol",
          `${target.label}: invalid simulator parameters: ${r.error.message}`,
        );
      }
      p = r.data;
      parsed.set(target.parameters, p);
    }
    return p;
  };

  /** The call's draws: seeded by the version's seed and the request id, so a request replays. */
  const drawsFor = (params: SimulatorParameters, ctx: CallContext) => {
    const seed = params.seed ?? Math.floor(deps.random() * 2 ** 32);
    // A retry of the same request draws again (a seeded version would otherwise fail it the same way).
    const attempt = ctx.attempt !== undefined && ctx.attempt > 1 ? `:${ctx.attempt}` : "";
    return mulberry32(hash32(`${seed}:${ctx.requestId}${attempt}`));
  };

  const plan = (req: ChatRequest, target: UpstreamTarget, ctx: CallContext): Plan => {
    if (!Array.isArray(req.messages) || req.messages.length === 0)
      throw invalidRequest(target, "messages: must be a non-empty array");
    const params = paramsOf(target);
    if (params.embedding)
      throw invalidRequest(target, "this version is an embedding model: call /v1/embeddings");
    const rand = drawsFor(params, ctx);
    if (rand() < params.errorRate) throw simulatedError(target);
    const latencyMs = logNormalLatency(params.latencyMs.p50, params.latencyMs.p95, rand);
    const quality = qualityFor(params.quality, ctx.groups);
    const outcome = { success: rand() < quality.probability, ...quality, latencyMs: Math.round(latencyMs) };
    const meta = {
      id: `chatcmpl-sim-${ctx.requestId}`,
      created: Math.floor(deps.clock.now().getTime() / 1000),
      model: target.providerModelId,
    };
    return planAnswer(req, params, outcome, meta, ctx.reference);
  };

  return {
    kind: "simulator",

    async embed(req, target, ctx) {
      const started = deps.clock.now().getTime();
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      try {
        deadlines.check();
        const params = paramsOf(target);
        const planned = planEmbedding(req, params);
        if ("refusal" in planned) throw invalidRequest(target, planned.refusal);
        // Latency and errors as on the chat side; the vectors depend on the input alone.
        const rand = drawsFor(params, ctx);
        if (rand() < params.errorRate) throw simulatedError(target);
        await sleep(
          Math.round(logNormalLatency(params.latencyMs.p50, params.latencyMs.p95, rand)),
          deadlines,
        );
        return {
          vectors: planned.vectors,
          usage: { inputTokens: planned.inputTokens, outputTokens: 0 },
          upstreamMs: deps.clock.now().getTime() - started,
        };
      } finally {
        deadlines.dispose();
      }
    },

    async complete(req, target, ctx) {
      const started = deps.clock.now().getTime();
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      try {
        deadlines.check();
        const p = plan(req, target, ctx);
        await sleep(p.outcome.latencyMs, deadlines);
        return {
          response: responseOf(p),
          usage: { inputTokens: p.usage.prompt_tokens, outputTokens: p.usage.completion_tokens },
          upstreamMs: deps.clock.now().getTime() - started,
        };
      } finally {
        deadlines.dispose();
      }
    },

    async stream(req, target, ctx) {
      const deadlines = new Deadlines(target.timeouts, ctx.signal, target.label);
      let p: Plan;
      try {
        deadlines.check();
        p = plan(req, target, ctx);
      } catch (err) {
        deadlines.dispose();
        throw err;
      }
      return primeStream(paced(p, deadlines), {
        deadlines,
        label: target.label,
        inputTokens: p.usage.prompt_tokens,
      });
    },
  };
}

/** A request the simulated provider refuses, as an OpenAI server would (HTTP 400). */
function invalidRequest(target: UpstreamTarget, message: string): UpstreamError {
  const error = { message, type: "invalid_request_error" };
  return new UpstreamError("http", `${target.label}: HTTP 400: ${message}`, { status: 400, body: { error } });
}

function simulatedError(target: UpstreamTarget): UpstreamError {
  const error = { message: "simulated upstream error", type: "server_error" };
  return new UpstreamError("http", `${target.label}: HTTP 503: ${error.message}`, {
    status: 503,
    body: { error },
  });
}

async function* paced(p: Plan, deadlines: Deadlines): AsyncGenerator<ChatChunk> {
  const chunks = chunksOf(p);
  const latency = p.outcome.latencyMs;
  const pacedCount = chunks.filter((c) => c.paced).length;
  const gap = pacedCount > 1 ? (latency * (1 - TIME_TO_FIRST_TOKEN)) / (pacedCount - 1) : 0;
  for (const [i, c] of chunks.entries()) {
    await sleep(i === 0 ? latency * TIME_TO_FIRST_TOKEN : c.paced ? gap : 0, deadlines);
    if (i === 0) deadlines.firstByte(true);
    deadlines.hold();
    yield c.chunk;
    deadlines.activity();
  }
}
