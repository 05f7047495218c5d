import type { RouteMember } from "../../../request-log/index.ts";
import type { FallbackStep } from "../../resilience/fallback.ts";
import { ballot, escalatesOnError, shortfall } from "../../routing/checks.ts";
import { isRefusal, type MultiPlan, resolve } from "../../routing/resolve.ts";
import type { Tier } from "../../routing/router.ts";
import type { RoutingSnapshot } from "../../routing/snapshot.ts";
import { GatewayError } from "../gateway-error.ts";
import { type ChatArgs, type ChatCall, openCall, sendFailure } from "./call.ts";
import { callPlain, type PlainAnswer, sendPlain } from "./complete.ts";
import { costOf, elapsedMs, logEntry, type Outcome } from "./log-entry.ts";

/*
 * A router version that calls several tiers for one request. A cascade calls them in order,
 * cheapest first, and escalates while an answer fails the policy's checks (a refusal, JSON
 * asked for and not given, a finish reason such as `length`, or an error). An ensemble calls
 * them all at once and combines the answers (majority over a field or the text; or the first
 * valid in tier order). Both answer plain requests only: an answer is checked or compared
 * before anything is sent. The log keeps one row for the request, under the router's model
 * and version, with every tier called in `route_path` and the cost of them all.
 */

type Member = { tier: Tier; call?: ChatCall; answer?: PlainAnswer; row: RouteMember; path: FallbackStep[] };

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

const emptyRow = (tier: Tier, outcome: RouteMember["outcome"], reason: string | null): RouteMember => ({
  tier: tier.name,
  versionId: null,
  version: null,
  outcome,
  reason,
  tokensIn: 0,
  tokensOut: 0,
  costUsd: 0,
  upstreamMs: null,
});

/** Calls one tier quietly: its answer, or why not, as a member of the route's path. */
async function callMember(
  a: Omit<ChatArgs, "resolution">,
  snapshot: RoutingSnapshot,
  plan: MultiPlan,
  tier: Tier,
): Promise<Member> {
  const m = memberCall(a, snapshot, plan, tier);
  if ("refused" in m) return { tier, row: emptyRow(tier, "refused", m.refused ?? null), path: [] };
  const got = await callPlain(m.call);
  if ("failure" in got)
    return {
      tier,
      call: m.call,
      row: emptyRow(tier, "failed", got.failure.detail),
      path: [...got.failure.path],
    };
  const u = got.result.usage;
  return {
    tier,
    call: m.call,
    answer: got,
    path: [...got.path],
    row: {
      tier: tier.name,
      versionId: got.servedBy.id,
      version: got.servedBy.version,
      outcome: "served",
      reason: null,
      tokensIn: u.inputTokens,
      tokensOut: u.outputTokens,
      costUsd: costOf(got.servedBy, u),
      upstreamMs: got.result.upstreamMs,
    },
  };
}

/** Sends the chosen answer, logs the request once with every member, and returns nothing. */
function finish(
  a: Omit<ChatArgs, "resolution">,
  plan: MultiPlan,
  members: Member[],
  chosen: Member | undefined,
  startedMs: number,
  describe: string,
) {
  const route = `${plan.reason}: ${describe}`;
  const path = members.flatMap((m) => m.path);
  const usage = members.reduce(
    (u, m) => ({
      inputTokens: u.inputTokens + m.row.tokensIn,
      outputTokens: u.outputTokens + m.row.tokensOut,
    }),
    { inputTokens: 0, outputTokens: 0 },
  );
  const costUsd = members.reduce((s, m) => s + m.row.costUsd, 0);
  const routePath = members.map((m) => m.row);
  const any = chosen?.call ?? members.find((m) => m.call)?.call;
  let outcome: Outcome;
  if (chosen?.answer && chosen.call) {
    const headers = {
      ...a.base,
      "x-modelgov-model-version": chosen.answer.response.model,
      "x-modelgov-route": route,
    };
    outcome = {
      ...sendPlain(chosen.call, chosen.answer, headers),
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
  const start = (chosen?.call ?? any)!.start;
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
  const tiers = plan.router.tiers;
  if (plan.strategy === "cascade") {
    const errorEscalates = escalatesOnError(plan.router.policy);
    const members: Member[] = [];
    for (const [i, tier] of tiers.entries()) {
      const last = i === tiers.length - 1;
      const m = await callMember(a, snapshot, plan, tier);
      members.push(m);
      if (!m.answer) {
        if (m.row.outcome === "failed" && !errorEscalates) break;
        continue;
      }
      const why = shortfall(plan.router.policy, a.chat.response_format, m.answer.response.choices);
      if (why && !last) {
        m.row.outcome = "escalated";
        m.row.reason = why;
        continue;
      }
      if (why) m.row.reason = `${why} (the last tier: served as it is)`;
      return finish(a, plan, members, m, startedMs, describeCascade(members));
    }
    return finish(a, plan, members, undefined, startedMs, `no tier answered (${describeCascade(members)})`);
  }
  // Ensemble: every tier at once; answers after maxLatencyMs are abandoned (and still billed).
  const combine = plan.router.policy.combine!;
  const calls = tiers.map((t) => callMember(a, snapshot, plan, t));
  const members = combine.maxLatencyMs
    ? await withDeadline(calls, combine.maxLatencyMs, tiers)
    : await Promise.all(calls);
  let chosen: Member | undefined;
  if (combine.by === "first-valid") {
    chosen = members.find(
      (m) => m.answer && !shortfall(plan.router.policy, a.chat.response_format, m.answer.response.choices),
    );
  } else {
    const votes = new Map<string, Member[]>();
    for (const m of members) {
      const b = m.answer ? ballot(m.answer.response.choices, combine.field) : null;
      if (b !== null) votes.set(b, [...(votes.get(b) ?? []), m]);
    }
    let best: Member[] = [];
    for (const group of votes.values()) if (group.length > best.length) best = group; // ties: the earlier tier's (Map keeps first-seen order)
    chosen = best[0];
  }
  for (const m of members)
    if (m !== chosen && m.answer) {
      m.row.outcome = "outvoted";
      m.row.reason = combine.by === "majority" ? "not in the majority" : "a tier before it was valid";
    }
  const tally = members.map((m) => `${m.tier.name} ${m.row.outcome}`).join(", ");
  if (!chosen) return finish(a, plan, members, undefined, startedMs, `no answer to combine (${tally})`);
  return finish(a, plan, members, chosen, startedMs, `${combine.by} chose ${chosen.tier.name} (${tally})`);
}

function describeCascade(members: Member[]): string {
  return members
    .map((m) => {
      const who = m.row.version
        ? `${m.tier.name} (${m.answer?.response.model ?? m.row.version})`
        : m.tier.name;
      return m.row.reason ? `${who} ${m.row.outcome}: ${m.row.reason}` : `${who} ${m.row.outcome}`;
    })
    .join(" -> ");
}

/** The members that answered within `ms`; a late one is recorded as failed (its call goes on, unheard). */
async function withDeadline(calls: Promise<Member>[], ms: number, tiers: readonly Tier[]): Promise<Member[]> {
  const settled: (Member | undefined)[] = tiers.map(() => undefined);
  for (const [i, c] of calls.entries())
    void c.then((m) => {
      settled[i] = m;
    });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(calls),
    new Promise((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  clearTimeout(timer);
  return tiers.map(
    (t, i) => settled[i] ?? { tier: t, row: emptyRow(t, "failed", `no answer within ${ms} ms`), path: [] },
  );
}
