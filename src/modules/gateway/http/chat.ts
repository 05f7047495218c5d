import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { LightAbort, type SignalLike } from "../../../lib/light-abort.ts";
import type { Logger } from "../../../lib/logger.ts";
import type { CallContext, ChatChunk, ChatRequest, UpstreamTarget, Usage } from "../../../providers/types.ts";
import { describeStep, FallbackError, type FallbackStep } from "../resilience/fallback.ts";
import type { Resolution } from "../routing/resolve.ts";
import type { RoutableVersion } from "../routing/snapshot.ts";
import type { GatewayDeps, GatewayLogEntry, Principal } from "./deps.ts";
import { type Dialect, sendError, sendJson, startSse, writeSse } from "./respond.ts";

interface ChatArgs {
  deps: GatewayDeps;
  logger: Logger;
  req: IncomingMessage;
  res: ServerResponse;
  dialect: Dialect;
  chat: ChatRequest;
  resolution: Resolution;
  principal: Principal;
  requestId: string;
  subject: string | undefined;
  base: Record<string, string>;
}

const norm = (x: unknown) =>
  typeof x === "string" ? x.trim().replace(/\s+/g, " ").toLowerCase() : JSON.stringify(x ?? null);

/**
 * Do two answers agree? The first choice's text (whitespace and case aside) and its tool
 * calls (names and arguments) must match.
 */
export function sameAnswer(a: unknown, b: unknown): boolean {
  const first = (c: unknown) =>
    ((c as { message?: { content?: unknown; tool_calls?: { function?: unknown }[] } }[] | undefined)?.[0]
      ?.message ?? {}) as { content?: unknown; tool_calls?: { function?: unknown }[] };
  const x = first(a);
  const y = first(b);
  return (
    norm(x.content) === norm(y.content) &&
    JSON.stringify((x.tool_calls ?? []).map((t) => t.function)) ===
      JSON.stringify((y.tool_calls ?? []).map((t) => t.function))
  );
}

/** `x-modelgov-groups: age_band=65+; language=de` → { age_band: "65+", language: "de" }. */
export function parseGroups(header: string | string[] | undefined): Record<string, string> | undefined {
  if (typeof header !== "string" || !header) return undefined;
  const out: Record<string, string> = {};
  for (const part of header.split(/[;,]/)) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}

const routeHeader = (reason: string, path: FallbackStep[], servedBy: RoutableVersion) => {
  if (path.length === 1 && path[0]!.outcome === "served") return reason; // the usual case: no fallback
  const failed = path.filter((p) => p.outcome !== "served");
  return failed.length
    ? `${reason}; fallback to ${servedBy.version} after ${failed.map(describeStep).join(", ")}`
    : reason;
};

/**
 * What an adapter needs to call a version, built once per version of a routing snapshot (a
 * new snapshot has new version objects, so a change is never served from a stale entry).
 *
 * A plain answer's headers come only once it is fully generated, so a plain call is bounded
 * by the total alone, except when a fallback follows it in the chain: then its first byte
 * must come within `firstByteMs`, so that a hanging version leaves the fallback its time
 * instead of spending the whole deadline.
 */
type Kind = "stream" | "plain" | "plainBeforeFallback";
const targets = new WeakMap<RoutableVersion, Partial<Record<Kind, UpstreamTarget>>>();
function targetOf(deps: GatewayDeps, model: Resolution["model"], v: RoutableVersion, kind: Kind) {
  let t = targets.get(v);
  if (!t) {
    t = {};
    targets.set(v, t);
  }
  const hit = t[kind];
  if (hit) return hit;
  // A version's own `timeout_ms` (registered with it) overrides the model's total timeout.
  const timeouts =
    typeof v.parameters.timeout_ms === "number"
      ? { ...model.timeouts, totalMs: v.parameters.timeout_ms }
      : model.timeouts;
  const built: UpstreamTarget = {
    versionId: v.id,
    label: `${v.model}@${v.version}`,
    provider: v.provider,
    providerModelId: v.providerModelId,
    endpoint: v.endpoint,
    apiKey: deps.apiKeyFor(v),
    parameters: v.parameters,
    timeouts: kind === "plain" ? { ...timeouts, firstByteMs: timeouts.totalMs } : timeouts,
  };
  t[kind] = built;
  return built;
}

const cost = (v: RoutableVersion, u: Usage) =>
  (u.inputTokens / 1000) * v.price.inputPer1kUsd + (u.outputTokens / 1000) * v.price.outputPer1kUsd;

/** The status for a chain that failed everywhere: timeouts → 504, breakers open → 503, else 502. */
function failureStatus(path: FallbackStep[]): number {
  if (path.length && path.every((p) => p.outcome === "skipped")) return 503;
  if (path.length && path.every((p) => "reason" in p && /timeout/.test(p.reason))) return 504;
  return 502;
}

export async function handleChat(a: ChatArgs): Promise<void> {
  const { deps, res, dialect, chat, resolution, requestId } = a;
  const started = performance.now();
  const model = resolution.model;
  const abort = new LightAbort();
  a.req.on("close", () => {
    if (!res.writableEnded) abort.abort();
  });
  const groups = parseGroups(a.req.headers["x-modelgov-groups"]);
  const callCtx = (signal: SignalLike, attempt = 1): CallContext => ({
    signal,
    requestId,
    subject: a.subject,
    groups,
    attempt,
  });
  const lastInChain = resolution.chain[resolution.chain.length - 1];
  const target = (v: RoutableVersion) =>
    targetOf(
      deps,
      model,
      v,
      chat.stream === true ? "stream" : v === lastInChain ? "plain" : "plainBeforeFallback",
    );
  const label = (v: RoutableVersion) => target(v).label;
  const entry: GatewayLogEntry = {
    id: requestId,
    at: new Date().toISOString(),
    tokenId: a.principal.tokenId,
    client: a.principal.name,
    model: model.name,
    versionId: null,
    version: null,
    routeReason: resolution.reason,
    endpoint: dialect === "anthropic" ? "messages" : "chat.completions",
    stream: chat.stream === true,
    status: 0,
    errorClass: null,
    totalMs: 0,
    upstreamMs: null,
    tokensIn: 0,
    tokensOut: 0,
    costUsd: 0,
    fallbackPath: [],
    subject: a.subject ?? null,
    groups: groups ?? null,
  };
  const sha = (x: unknown) =>
    `sha256:${createHash("sha256")
      .update(typeof x === "string" ? x : JSON.stringify(x))
      .digest("hex")}`;
  /** Runs after the answer went out: bodies are hashed or sampled only if the deployment asks. */
  const keepBodies = (answer: unknown) => {
    const policy = deps.bodies;
    if (policy.mode === "hash") {
      entry.promptHash = sha(chat.messages);
      entry.responseHash = sha(answer);
    } else if (policy.mode === "sample" && Math.random() < policy.rate)
      entry.sampledBody = { request: chat, response: answer };
  };
  const finish = (status: number, errorClass: string | null) => {
    entry.status = status;
    entry.errorClass = errorClass;
    entry.totalMs = Math.round((performance.now() - started) * 1000) / 1000;
    deps.log(entry);
    deps.observe?.(entry);
  };
  const served = (v: RoutableVersion, path: FallbackStep[]) => {
    entry.versionId = v.id;
    entry.version = v.version;
    entry.fallbackPath = path;
    return {
      ...a.base,
      "x-modelgov-model-version": label(v),
      "x-modelgov-route": routeHeader(resolution.reason, path, v),
    };
  };
  const fail = (err: unknown) => {
    const path = err instanceof FallbackError ? err.path : [];
    entry.fallbackPath = path;
    const status = failureStatus(path);
    const detail = path.length
      ? `no version of '${model.name}' could serve: ${path.map(describeStep).join("; ")}`
      : `upstream failure: ${(err as Error).message}`;
    sendError(res, dialect, status, detail, { requestId, headers: a.base, extra: { fallbackPath: path } });
    finish(status, (err as { kind?: string }).kind ?? "upstream");
  };

  /**
   * Shadow mode: the same request to the shadow version, after the caller has its answer.
   * Nothing of it reaches the caller; it is logged as its own row (shadow_of = this request)
   * with whether the two answers agree.
   */
  async function mirror(v: RoutableVersion, servedChoices: unknown) {
    const t0 = performance.now();
    const shadowEntry: GatewayLogEntry = {
      ...entry,
      id: `${requestId}.shadow`,
      at: new Date().toISOString(),
      versionId: v.id,
      version: v.version,
      routeReason: `shadow ${model.shadow?.share}% of ${requestId}`,
      fallbackPath: [],
      shadowOf: requestId,
      agreement: null,
    };
    try {
      const r = await deps.adapters[v.provider]!.complete(chat, target(v), callCtx(new LightAbort().signal));
      shadowEntry.status = 200;
      shadowEntry.errorClass = null;
      shadowEntry.upstreamMs = r.upstreamMs;
      shadowEntry.tokensIn = r.usage.inputTokens;
      shadowEntry.tokensOut = r.usage.outputTokens;
      shadowEntry.costUsd = cost(v, r.usage);
      shadowEntry.agreement = sameAnswer(servedChoices, r.response.choices);
    } catch (err) {
      shadowEntry.status = 502;
      shadowEntry.errorClass = (err as { kind?: string }).kind ?? "upstream";
    }
    shadowEntry.totalMs = Math.round((performance.now() - t0) * 1000) / 1000;
    deps.log(shadowEntry);
  }

  if (chat.stream !== true) {
    let out: Awaited<ReturnType<GatewayDeps["execute"]>>;
    try {
      out = await deps.execute(
        resolution.chain,
        (v, signal, n) => deps.adapters[v.provider]!.complete(chat, target(v), callCtx(signal, n)),
        {
          deadlineMs: model.timeouts.totalMs,
          signal: abort.signal,
        },
      );
    } catch (err) {
      return fail(err);
    }
    const result = out.result as Awaited<ReturnType<GatewayDeps["adapters"][string]["complete"]>>;
    const headers = served(out.servedBy, out.path);
    entry.upstreamMs = result.upstreamMs;
    entry.tokensIn = result.usage.inputTokens;
    entry.tokensOut = result.usage.outputTokens;
    entry.costUsd = cost(out.servedBy, result.usage);
    const response = { ...result.response, model: label(out.servedBy) };
    sendJson(
      res,
      200,
      dialect === "anthropic" ? deps.translate.toAnthropicResponse(response, label(out.servedBy)) : response,
      headers,
    );
    if (deps.bodies.mode !== "off") keepBodies(response.choices);
    finish(200, null);
    const shadow = model.shadow;
    if (shadow && shadow.target.id !== out.servedBy.id && Math.random() * 100 < shadow.share)
      void mirror(shadow.target, response.choices);
    return;
  }

  // Streaming: fall back only until the first chunk; after that the client owns the stream.
  const upstreamStart = performance.now();
  let out: Awaited<ReturnType<GatewayDeps["execute"]>>;
  try {
    out = await deps.execute(
      resolution.chain,
      async (v, signal, n) => {
        const s = await deps.adapters[v.provider]!.stream(chat, target(v), callCtx(signal, n));
        const it = s.chunks[Symbol.asyncIterator]();
        const first = await it.next();
        return { s, it, first };
      },
      { deadlineMs: model.timeouts.totalMs, signal: abort.signal },
    );
  } catch (err) {
    return fail(err);
  }
  const { s, it, first } = out.result as {
    s: Awaited<ReturnType<GatewayDeps["adapters"][string]["stream"]>>;
    it: AsyncIterator<ChatChunk>;
    first: IteratorResult<ChatChunk>;
  };
  const name = label(out.servedBy);
  startSse(res, served(out.servedBy, out.path));
  let streamedText = "";
  const keepText = deps.bodies.mode !== "off";
  async function* rest(): AsyncIterable<ChatChunk> {
    if (!first.done) yield { ...first.value, model: name };
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      if (keepText)
        streamedText +=
          (n.value.choices[0] as { delta?: { content?: string } } | undefined)?.delta?.content ?? "";
      yield { ...n.value, model: name };
    }
  }
  try {
    if (dialect === "anthropic")
      for await (const e of deps.translate.toAnthropicStream(rest(), name)) writeSse(res, e.data, e.event);
    else {
      for await (const c of rest()) writeSse(res, c);
      writeSse(res, "[DONE]");
    }
    const usage = await s.done;
    entry.tokensIn = usage.inputTokens;
    entry.tokensOut = usage.outputTokens;
    entry.costUsd = cost(out.servedBy, usage);
    entry.upstreamMs = Math.round((performance.now() - upstreamStart) * 1000) / 1000;
    res.end();
    if (keepText)
      keepBodies(
        `${(first.done ? undefined : (first.value.choices[0] as { delta?: { content?: string } } | undefined)?.delta?.content) ?? ""}${streamedText}`,
      );
    finish(200, null);
  } catch (err) {
    // Mid-stream failure: too late for another version; end the stream with an error event.
    const message = `stream interrupted: ${(err as Error).message}`;
    if (dialect === "anthropic")
      writeSse(res, { type: "error", error: { type: "api_error", message } }, "error");
    else writeSse(res, { error: { type: "upstream_error", message, code: "upstream_error" } });
    res.end();
    finish(502, (err as { kind?: string }).kind ?? "stream");
  }
}
