import type { FallbackStep } from "../../resilience/fallback.ts";
import { isRefusal, type MultiPlan, resolve } from "../../routing/resolve.ts";
import type { Tier } from "../../routing/router.ts";
import { routerInput } from "../../routing/router-input.ts";
import type { RoutingSnapshot } from "../../routing/snapshot.ts";
import { emptyRow, runCascade, runEnsemble, type Step } from "../../routing/strategies.ts";
import { GatewayError } from "../gateway-error.ts";
import { gatewayAsk, servedRow } from "./ask.ts";
import { type ChatArgs, type ChatCall, openCall, sendFailure } from "./call.ts";
import { callPlain, type PlainAnswer, sendPlain } from "./complete.ts";
import { elapsedMs, logEntry, type Outcome } from "./log-entry.ts";

/*
 * A router version that calls several tiers for one request: a cascade or an ensemble, run by
 * routing/strategies.ts (the same code evaluations run). Here: how a tier is called, and the
 * one answer and one log row. Both answer plain requests only: an answer is checked or
 * compared before anything is sent. The log row, under the router's model and version, keeps
 * every call in `route_path` (tiers, judges) and the cost of them all.
 */

type Kept = { call?: ChatCall; answer?: PlainAnswer; path: FallbackStep[] };

/** The tier's call, or why it cannot be made (a refused tier is recorded and skipped). */
function memberCall(a: Omit<ChatArgs, "resolution">, snapshot: RoutingSnapshot, plan: MultiPlan, tier: Tier) {
  const inner = resolve(snapshot, tier.target, a.subject, a.requestId, true);
  if (isRefusal(inner)) return { refused: inner.detail };
  if (inner.chain[0]!.router) return { refused: `${tier.target} is a router; routers do not nest` };
  return {
    call: openCall({
      ...a,
      resolution: { ...inner, via: { ...plan.via, tier: tier.name }, splitScope: plan.splitScope },
    }),
  };
}

/** Calls one tier quietly: its answer, or why not, as a step of the route. */
async function callMember(
  a: Omit<ChatArgs, "resolution">,
  snapshot: RoutingSnapshot,
  plan: MultiPlan,
  tier: Tier,
): Promise<Step<Kept>> {
  const m = memberCall(a, snapshot, plan, tier);
  if ("refused" in m) return { row: emptyRow(tier.name, "refused", m.refused ?? null), x: { path: [] } };
  const got = await callPlain(m.call);
  if ("failure" in got)
    return {
      row: emptyRow(tier.name, "failed", got.failure.detail),
      x: { call: m.call, path: [...got.failure.path] },
    };
  return {
    label: got.response.model,
    choices: got.response.choices,
    x: { call: m.call, answer: got, path: [...got.path] },
    row: servedRow(tier.name, got),
  };
}

/** Sends the chosen answer, logs the request once with every call, and returns nothing. */
function finish(
  a: Omit<ChatArgs, "resolution">,
  plan: MultiPlan,
  steps: Step<Kept>[],
  chosen: Step<Kept> | undefined,
  startedMs: number,
  describe: string,
) {
  const route = `${plan.reason}: ${describe}`;
  const tiers = steps.filter((s) => !s.row.role);
  const path = tiers.flatMap((m) => m.x?.path ?? []);
  const usage = steps.reduce(
    (u, m) => ({
      inputTokens: u.inputTokens + m.row.tokensIn,
      outputTokens: u.outputTokens + m.row.tokensOut,
    }),
    { inputTokens: 0, outputTokens: 0 },
  );
  const costUsd = steps.reduce((s, m) => s + m.row.costUsd, 0);
  const routePath = steps.map((m) => m.row);
  const any = chosen?.x?.call ?? tiers.find((m) => m.x?.call)?.x?.call;
  let outcome: Outcome;
  const answer = chosen?.x?.answer;
  if (answer && chosen?.x?.call) {
    const headers = {
      ...a.base,
      "x-modelgov-model-version": answer.response.model,
      "x-modelgov-route": route,
    };
    outcome = {
      ...sendPlain(chosen.x.call, answer, headers),
      path,
      usage,
      costUsd,
      routePath,
      routeStrategy: plan.strategy,
    };
  } else {
    const failure = {
      status: 502,
      detail: `${plan.label}: ${describe}`,
      errorClass: "route",
      path,
    };
    if (any)
      outcome = { ...sendFailure(any, failure), usage, costUsd, routePath, routeStrategy: plan.strategy };
    else {
      // No tier could even be called: answer from the front door's own error path.
      throw new GatewayError(failure.status, failure.detail, { field: "body.model", extra: { routePath } });
    }
  }
  const start = (chosen?.x?.call ?? any)!.start;
  const entry = logEntry({ ...start, routeReason: route }, outcome, elapsedMs(startedMs), a.chat);
  a.deps.log(entry);
  a.deps.observe?.(entry);
}

/** Serves a request through a cascade or an ensemble router (plain requests only). */
export async function handleMulti(
  a: Omit<ChatArgs, "resolution">,
  plan: MultiPlan,
  snapshot: RoutingSnapshot,
): Promise<void> {
  if (a.chat.stream === true)
    throw new GatewayError(
      400,
      `${plan.label} is a ${plan.strategy} router: it answers plain requests only (an answer is checked before it is sent); send stream: false`,
      { field: "body.stream" },
    );
  const startedMs = performance.now();
  const input = routerInput(a.chat);
  const maxTokens = Number(a.chat.max_completion_tokens ?? a.chat.max_tokens);
  const ctx = {
    responseFormat: a.chat.response_format,
    question: input.text,
    tokensIn: input.tokensIn,
    maxTokens: Number.isFinite(maxTokens) && maxTokens > 0 ? maxTokens : undefined,
    ask: gatewayAsk(a, snapshot, plan.via, plan.splitScope),
    priceOf: (tier: Tier) => {
      const r = resolve(snapshot, tier.target, a.subject, a.requestId, true);
      return isRefusal(r) ? null : r.chain[0]!.price;
    },
  };
  const call = (tier: Tier) => callMember(a, snapshot, plan, tier);
  const run =
    plan.strategy === "cascade"
      ? await runCascade(plan.router, call, ctx)
      : await runEnsemble(plan.router, call, ctx);
  return finish(a, plan, run.steps, run.chosen, startedMs, run.describe);
}
