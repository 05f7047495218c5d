import type { IncomingMessage, ServerResponse } from "node:http";
import { LightAbort, type SignalLike } from "../../../../lib/light-abort.ts";
import type { CallContext, ChatRequest, TraceHeaders, UpstreamTarget } from "../../../../providers/types.ts";
import { describeStep, FallbackError, type FallbackStep } from "../../resilience/fallback.ts";
import type { Resolution } from "../../routing/resolve.ts";
import type { RoutableVersion } from "../../routing/snapshot.ts";
import { type AnswerFacts, type AttemptSpan, clientTrace, type RequestSpan } from "../../tracing/index.ts";
import type { ExecuteOutcome, GatewayDeps, Principal } from "../deps.ts";
import { GatewayError } from "../gateway-error.ts";
import { type Dialect, sendError } from "../respond.ts";
import type { EntryStart, Outcome } from "./log-entry.ts";

/** What a chat call uses of the gateway's dependencies. */
export type ChatDeps = Pick<
  GatewayDeps,
  "adapters" | "execute" | "translate" | "apiKeyFor" | "bodies" | "log" | "observe" | "now"
>;

/** A request the front door accepted: authorised, read, validated and routed. */
export interface ChatArgs {
  deps: ChatDeps;
  req: IncomingMessage;
  res: ServerResponse;
  dialect: Dialect;
  chat: ChatRequest;
  resolution: Resolution;
  principal: Principal;
  requestId: string;
  subject: string | undefined;
  groups: Record<string, string> | undefined;
  /** Headers every answer carries (the request id). */
  base: Record<string, string>;
  /** The request's server span, when tracing is on. */
  trace?: RequestSpan | undefined;
}

/** One chat call under way: its arguments and what the complete, stream and shadow paths share. */
export interface ChatCall extends ChatArgs {
  /** Aborted when the client goes away before the answer is complete. */
  signal: SignalLike;
  start: EntryStart;
  /** `performance.now()` when the call began. */
  startedMs: number;
  target(v: RoutableVersion): UpstreamTarget;
  context(signal: SignalLike, attempt?: number, trace?: TraceHeaders): CallContext;
}

/** The request log's `endpoint`: the API the caller used. */
const ENDPOINT = {
  openai: "chat.completions",
  anthropic: "messages",
  responses: "responses",
  completions: "completions",
} as const satisfies Record<Dialect, EntryStart["endpoint"]>;

export function openCall(a: ChatArgs): ChatCall {
  const { res, chat, resolution } = a;
  const abort = new LightAbort();
  a.req.on("close", () => {
    if (!res.writableEnded) abort.abort();
  });
  const lastInChain = resolution.chain[resolution.chain.length - 1];
  // Tracing off: the client's trace context goes upstream as it came (the gateway is no hop of it).
  const forward = a.trace ? undefined : clientTrace(a.req.headers);
  return {
    ...a,
    signal: abort.signal,
    startedMs: performance.now(),
    start: {
      id: a.requestId,
      at: (a.deps.now?.() ?? new Date()).toISOString(),
      tokenId: a.principal.tokenId,
      client: a.principal.name,
      // Through a router: logged under the router's model and version (its experiments and
      // rollouts count it); the version that answered is the tier's.
      model: resolution.via?.model ?? resolution.model.name,
      routedVersionId: resolution.via?.versionId ?? null,
      routeTier: resolution.via?.tier || null,
      routeReason: resolution.reason,
      splitScope: resolution.splitScope ?? null,
      endpoint: ENDPOINT[a.dialect],
      stream: chat.stream === true,
      subject: a.subject ?? null,
      groups: a.groups ?? null,
    },
    target: (v) =>
      targetOf(
        a.deps,
        resolution.model,
        v,
        chat.stream === true ? "stream" : v === lastInChain ? "plain" : "plainBeforeFallback",
      ),
    context: (signal, attempt = 1, trace = forward) => ({
      signal,
      requestId: a.requestId,
      subject: a.subject,
      groups: a.groups,
      attempt,
      trace,
    }),
  };
}

/**
 * One attempt on `v`: with tracing, inside its client span, whose trace context the upstream
 * gets. A failure ends the span; a success ends it with `facts` of the result, or, without
 * `facts`, leaves it open to the caller (a stream's ends with the stream).
 */
export async function attemptOn<R>(
  call: ChatCall,
  v: RoutableVersion,
  signal: SignalLike,
  n: number,
  run: (ctx: CallContext, span: AttemptSpan | undefined) => Promise<R>,
  facts?: (r: R) => AnswerFacts,
): Promise<R> {
  if (!call.trace) return run(call.context(signal, n), undefined);
  const span = call.trace.attempt(call.target(v), n, call.chat);
  let r: R;
  try {
    r = await run(call.context(signal, n, span.headers), span);
  } catch (err) {
    span.fail(err);
    throw err;
  }
  if (facts) span.ok(facts(r));
  return r;
}

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
export function targetOf(deps: ChatDeps, model: Resolution["model"], v: RoutableVersion, kind: Kind) {
  let t = targets.get(v);
  if (!t) {
    t = {};
    targets.set(v, t);
  }
  const hit = t[kind];
  if (hit) return hit;
  const provider = v.provider;
  // A router is resolved to one of its tiers (resolveRouter) before anything is called.
  if (provider === "router") throw new Error(`${v.model}@${v.version} is a router, not a callable version`);
  // A version's own `timeout_ms` (registered with it) overrides the model's total timeout.
  const timeouts =
    typeof v.parameters.timeout_ms === "number"
      ? { ...model.timeouts, totalMs: v.parameters.timeout_ms }
      : model.timeouts;
  const built: UpstreamTarget = {
    versionId: v.id,
    label: `${v.model}@${v.version}`,
    provider,
    providerModelId: v.providerModelId,
    endpoint: v.endpoint,
    apiKey: deps.apiKeyFor(v),
    parameters: v.parameters,
    timeouts: kind === "plain" ? { ...timeouts, firstByteMs: timeouts.totalMs } : timeouts,
  };
  t[kind] = built;
  return built;
}

/** Headers of a served answer: which version, and how the route got there. */
export function servedHeaders(call: ChatCall, v: RoutableVersion, path: readonly FallbackStep[]) {
  return {
    ...call.base,
    "x-modelgov-model-version": call.target(v).label,
    "x-modelgov-route": routeHeader(call.resolution.reason, path, v),
  };
}

function routeHeader(reason: string, path: readonly FallbackStep[], servedBy: RoutableVersion) {
  if (path.length === 1 && path[0]!.outcome === "served") return reason; // the usual case: no fallback
  const failed = path.filter((p) => p.outcome !== "served");
  return failed.length
    ? `${reason}; fallback to ${servedBy.version} after ${failed.map(describeStep).join(", ")}`
    : reason;
}

/** The status for a chain that failed everywhere: timeouts → 504, breakers open → 503, else 502. */
function failureStatus(path: readonly FallbackStep[]): number {
  if (path.length && path.every((p) => p.outcome === "skipped")) return 503;
  if (path.length && path.every((p) => "reason" in p && /timeout/.test(p.reason))) return 504;
  return 502;
}

/** A chain that failed everywhere: the answer the caller gets, not yet sent. */
export interface ChainFailure {
  failure: { status: number; detail: string; errorClass: string; path: readonly FallbackStep[] };
}

/** Walks the route's chain (retries, breakers, fallback) with `attempt`; a failure is returned, not sent. */
export async function tryChain<R>(
  call: ChatCall,
  attempt: (v: RoutableVersion, signal: SignalLike, n: number) => Promise<R>,
): Promise<ExecuteOutcome<R> | ChainFailure> {
  try {
    return await call.deps.execute(call.resolution.chain, attempt, {
      deadlineMs: call.resolution.model.timeouts.totalMs,
      signal: call.signal,
    });
  } catch (err) {
    const path = err instanceof FallbackError ? err.path : [];
    const detail = path.length
      ? `no version of '${call.resolution.model.name}' could serve: ${path.map(describeStep).join("; ")}`
      : `upstream failure: ${(err as Error).message}`;
    return {
      failure: {
        status: failureStatus(path),
        detail,
        errorClass: (err as { kind?: string }).kind ?? "upstream",
        path,
      },
    };
  }
}

/** Sends a chain's failure to the caller; the log gets the same path. */
export function sendFailure(call: ChatCall, f: ChainFailure["failure"], detail = f.detail): Outcome {
  sendError(call.res, call.dialect, new GatewayError(f.status, detail, { extra: { fallbackPath: f.path } }), {
    requestId: call.requestId,
    headers: call.base,
  });
  return { status: f.status, errorClass: f.errorClass, path: f.path };
}

/**
 * Walks the route's chain (retries, breakers, fallback) with `attempt`. When no version could
 * answer, the caller has its error answer and the result is the call's outcome.
 */
export async function walkChain<R>(
  call: ChatCall,
  attempt: (v: RoutableVersion, signal: SignalLike, n: number) => Promise<R>,
): Promise<ExecuteOutcome<R> | Outcome> {
  const out = await tryChain(call, attempt);
  return "failure" in out ? sendFailure(call, out.failure) : out;
}
