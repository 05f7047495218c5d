import { chatToCompletionResponse, chatToResponsesResponse } from "../../../../providers/translate/index.ts";
import type { ChatResponse, CompletionResult } from "../../../../providers/types.ts";
import { answerOfChoices } from "../../features/derive.ts";
import type { FallbackStep } from "../../resilience/fallback.ts";
import type { RoutableVersion } from "../../routing/snapshot.ts";
import type { AnswerFacts } from "../../tracing/index.ts";
import { sendJson } from "../respond.ts";
import { attemptOn, type ChainFailure, type ChatCall, sendFailure, servedHeaders, tryChain } from "./call.ts";
import { keepBodies, type Outcome } from "./log-entry.ts";

/** A plain answer a version gave, not yet sent. */
export interface PlainAnswer {
  result: CompletionResult;
  servedBy: RoutableVersion;
  path: readonly FallbackStep[];
  /** The response as the caller would see it (`model` is the version's label). */
  response: ChatResponse;
}

/** Calls the route's chain for a plain answer without sending it (a cascade checks it first). */
export async function callPlain(call: ChatCall): Promise<PlainAnswer | ChainFailure> {
  const { deps, chat } = call;
  const out = await tryChain(call, (v, signal, n) =>
    attemptOn(
      call,
      v,
      signal,
      n,
      (ctx) => deps.adapters[v.provider]!.complete(chat, call.target(v), ctx),
      answerFacts,
    ),
  );
  if ("failure" in out) return out;
  const label = call.target(out.servedBy).label;
  return { ...out, response: { ...out.result.response, model: label } };
}

/** Sends a plain answer; `headers` replace the served headers when a cascade or ensemble composed them. */
export function sendPlain(
  call: ChatCall,
  a: PlainAnswer,
  headers: Record<string, string> = servedHeaders(call, a.servedBy, a.path),
): Outcome & { choices: ChatResponse["choices"] } {
  const { deps, chat } = call;
  sendJson(call.res, 200, answerBody(call, a.response), headers);
  return {
    status: 200,
    errorClass: null,
    servedBy: a.servedBy,
    path: a.path,
    usage: a.result.usage,
    upstreamMs: a.result.upstreamMs,
    bodies: deps.bodies.mode !== "off" ? keepBodies(deps.bodies, chat, a.response.choices) : undefined,
    answer: answerOfChoices(a.response.choices),
    choices: a.response.choices,
  };
}

/** The answer in the caller's dialect; ids derive from the request id (the log's). */
function answerBody(call: ChatCall, response: ChatResponse) {
  const label = response.model;
  const id = call.requestId.replace(/^req_/, "");
  switch (call.dialect) {
    case "anthropic":
      return call.deps.translate.toAnthropicResponse(response, label, call.requestId);
    case "responses":
      return chatToResponsesResponse(response, { id, model: label, request: call.chat });
    case "completions":
      return chatToCompletionResponse(response, { id, model: label });
    default:
      return response;
  }
}

/** A plain (non-streaming) answer: the outcome, and the choices served (for a shadow comparison). */
export async function complete(call: ChatCall): Promise<Outcome & { choices?: ChatResponse["choices"] }> {
  const a = await callPlain(call);
  return "failure" in a ? sendFailure(call, a.failure) : sendPlain(call, a);
}

/** What a traced attempt records of a plain answer (never its content). */
function answerFacts(r: CompletionResult): AnswerFacts {
  const reasons: string[] = [];
  for (const c of r.response.choices) if (typeof c.finish_reason === "string") reasons.push(c.finish_reason);
  return { id: r.response.id, model: r.response.model, finishReasons: reasons, usage: r.usage };
}
