import type { RouteMember } from "../../../request-log/index.ts";
import {
  type ClassifyPlan,
  isRefusal,
  type Resolution,
  type RouteRefusal,
  throughTier,
} from "../../routing/resolve.ts";
import { routerInput } from "../../routing/router-input.ts";
import type { RoutingSnapshot } from "../../routing/snapshot.ts";
import { classify } from "../../routing/strategies.ts";
import { gatewayAsk } from "./ask.ts";
import type { ChatArgs } from "./call.ts";
import { costOf, type Outcome } from "./log-entry.ts";

/**
 * A route policy with an LLM classifier: the classifier is asked (routing/strategies.ts
 * `classify`, the code evaluations run too) and its tier resolved as any route tier. A
 * classifier that cannot serve (unapproved, a router) refuses the request as a tier would;
 * one that fails, is late or names no tier sends it to the default tier. The classifier's
 * call is kept on the resolution, to be logged and counted with the tier's.
 */
export async function classifyRoute(
  a: Omit<ChatArgs, "resolution">,
  plan: ClassifyPlan,
  snapshot: RoutingSnapshot,
): Promise<Resolution | RouteRefusal> {
  const primary = plan.outer.chain[0]!;
  const via = {
    model: plan.outer.model.name,
    versionId: primary.id,
    version: primary.version,
    tier: "",
    why: "llm",
  };
  const ask = gatewayAsk(a, snapshot, via, plan.outer.splitScope);
  const { choice, step } = await classify(plan.classify, routerInput(a.chat).text, ask);
  if (step.row.outcome === "refused")
    return {
      status: 502,
      code: "upstream_error",
      detail: `router ${plan.label}'s classifier cannot serve: ${step.row.reason}`,
    };
  const r = throughTier(snapshot, plan.outer, choice, a.subject, a.requestId);
  if (isRefusal(r)) return r;
  return { ...r, via: { ...r.via!, calls: [step.row] } };
}

/**
 * An outcome through a router that made calls of its own before the tier: the route's path
 * (those calls, then the tier) and the request's tokens and cost summed over all of them.
 */
export function withRouterCalls(o: Outcome, resolution: Resolution): Outcome {
  const via = resolution.via;
  if (!via?.calls) return o;
  const u = o.usage ?? { inputTokens: 0, outputTokens: 0 };
  const tier: RouteMember = {
    tier: via.tier,
    versionId: o.servedBy?.id ?? null,
    version: o.servedBy?.version ?? null,
    outcome: o.status < 400 ? "served" : "failed",
    reason: o.status < 400 ? null : (o.errorClass ?? `status ${o.status}`),
    tokensIn: u.inputTokens,
    tokensOut: u.outputTokens,
    costUsd: o.servedBy ? costOf(o.servedBy, u) : 0,
    upstreamMs: o.upstreamMs ?? null,
  };
  const all = [...via.calls, tier];
  return {
    ...o,
    usage: {
      ...u,
      inputTokens: all.reduce((s, m) => s + m.tokensIn, 0),
      outputTokens: all.reduce((s, m) => s + m.tokensOut, 0),
    },
    costUsd: all.reduce((s, m) => s + m.costUsd, 0),
    routePath: all,
  };
}
