import type { ChatRequest } from "../../../../providers/types.ts";
import type { RouteMember } from "../../../request-log/index.ts";
import { isRefusal, type Resolution, resolve } from "../../routing/resolve.ts";
import type { RoutingSnapshot } from "../../routing/snapshot.ts";
import { type Ask, emptyRow, within } from "../../routing/strategies.ts";
import { type ChatArgs, openCall } from "./call.ts";
import { callPlain, type PlainAnswer } from "./complete.ts";
import { costOf } from "./log-entry.ts";

/**
 * How the gateway calls a model for a router itself (its LLM classifier, a judge): the target
 * resolved exactly as a tier's (its alias or pinned version, servable, never a router: else a
 * `refused` step), through the same chain, breakers and adapters, a plain answer at
 * temperature 0 awaited at most `timeoutMs` (a late answer is a failed step; its call goes
 * on, unheard). Its tokens and cost are the step's, counted in the request's.
 */
export function gatewayAsk(
  a: Omit<ChatArgs, "resolution">,
  snapshot: RoutingSnapshot,
  via: NonNullable<Resolution["via"]>,
  splitScope: string | null | undefined,
): Ask {
  return async (role, target, messages, limits) => {
    const inner = resolve(snapshot, target, a.subject, a.requestId, true);
    if (isRefusal(inner)) return { row: emptyRow(role, "refused", `${target}: ${inner.detail}`, role) };
    const primary = inner.chain[0]!;
    if (primary.router)
      return {
        row: emptyRow(
          role,
          "refused",
          `${target} is a router (${inner.model.name}@${primary.version})`,
          role,
        ),
      };
    const chat: ChatRequest = {
      model: target,
      messages: messages.map((m) => ({ ...m })),
      max_tokens: limits.maxTokens,
      temperature: 0,
      stream: false,
    };
    const call = openCall({ ...a, chat, resolution: { ...inner, via: { ...via, tier: role }, splitScope } });
    const got = await within(callPlain(call), limits.timeoutMs);
    if (got === "late")
      return { row: emptyRow(role, "failed", `no answer within ${limits.timeoutMs} ms`, role) };
    if ("failure" in got) return { row: emptyRow(role, "failed", got.failure.detail, role) };
    return { label: got.response.model, choices: got.response.choices, row: servedRow(role, got, role) };
  };
}

/** The route member of a call that answered: the version that served it, its tokens and cost. */
export function servedRow(tier: string, got: PlainAnswer, role?: RouteMember["role"]): RouteMember {
  const u = got.result.usage;
  return {
    tier,
    ...(role ? { role } : {}),
    versionId: got.servedBy.id,
    version: got.servedBy.version,
    outcome: "served",
    reason: null,
    tokensIn: u.inputTokens,
    tokensOut: u.outputTokens,
    costUsd: costOf(got.servedBy, u),
    upstreamMs: got.result.upstreamMs,
  };
}
