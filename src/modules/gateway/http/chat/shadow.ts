import { LightAbort } from "../../../../lib/light-abort.ts";
import { answerOfChoices, requestFacts, requestFeatures } from "../../features/derive.ts";
import type { RoutableVersion } from "../../routing/snapshot.ts";
import type { GatewayLogEntry } from "../deps.ts";
import type { ChatCall } from "./call.ts";
import { costOf, elapsedMs } from "./log-entry.ts";

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

/** Derived at flush time, from facts taken now (the request object is not kept for it). */
const featuresOf =
  (req: ReturnType<typeof requestFacts>, answer: ReturnType<typeof answerOfChoices> | undefined) => () =>
    requestFeatures(req, answer);

/** The model's shadow version, when this served answer is one to mirror (its share, drawn at random). */
export function shadowFor(call: ChatCall, servedBy: RoutableVersion): RoutableVersion | undefined {
  const shadow = call.resolution.model.shadow;
  return shadow && shadow.target.id !== servedBy.id && Math.random() * 100 < shadow.share
    ? shadow.target
    : undefined;
}

/**
 * Shadow mode: the same request to the shadow version, after the caller has its answer.
 * Nothing of it reaches the caller; it is logged as its own row (shadow_of = the request,
 * whose row it starts from) with whether the two answers agree.
 */
export async function mirror(
  call: ChatCall,
  v: RoutableVersion,
  served: GatewayLogEntry,
  servedChoices: unknown,
) {
  const { deps, requestId } = call;
  const t0 = performance.now();
  const row: GatewayLogEntry = {
    ...served,
    id: `${requestId}.shadow`,
    at: (deps.now?.() ?? new Date()).toISOString(),
    versionId: v.id,
    version: v.version,
    routeReason: `shadow ${call.resolution.model.shadow?.share}% of ${requestId}`,
    fallbackPath: [],
    shadowOf: requestId,
    agreement: null,
  };
  let outcome: Partial<GatewayLogEntry>;
  try {
    const r = await deps.adapters[v.provider]!.complete(
      call.chat,
      call.target(v),
      call.context(new LightAbort().signal),
    );
    outcome = {
      status: 200,
      errorClass: null,
      upstreamMs: r.upstreamMs,
      tokensIn: r.usage.inputTokens,
      tokensOut: r.usage.outputTokens,
      costUsd: costOf(v, r.usage),
      agreement: sameAnswer(servedChoices, r.response.choices),
      // The mirrored answer's own features (the request's are the same).
      features: featuresOf(requestFacts(call.chat), answerOfChoices(r.response.choices)),
    };
  } catch (err) {
    // The row keeps the served call's upstream time, tokens and cost, as shadow rows always have.
    outcome = {
      status: 502,
      errorClass: (err as { kind?: string }).kind ?? "upstream",
      features: featuresOf(requestFacts(call.chat), undefined),
    };
  }
  deps.log({ ...row, ...outcome, totalMs: elapsedMs(t0) });
}
