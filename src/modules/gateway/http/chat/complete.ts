import type { ChatResponse } from "../../../../providers/types.ts";
import { answerOfChoices } from "../../features/derive.ts";
import { sendJson } from "../respond.ts";
import { type ChatCall, servedHeaders, walkChain } from "./call.ts";
import { keepBodies, type Outcome } from "./log-entry.ts";

/** A plain (non-streaming) answer: the outcome, and the choices served (for a shadow comparison). */
export async function complete(call: ChatCall): Promise<Outcome & { choices?: ChatResponse["choices"] }> {
  const { deps, chat } = call;
  const out = await walkChain(call, (v, signal, n) =>
    deps.adapters[v.provider]!.complete(chat, call.target(v), call.context(signal, n)),
  );
  if ("status" in out) return out;
  const { result, servedBy, path } = out;
  const headers = servedHeaders(call, servedBy, path);
  const label = call.target(servedBy).label;
  const response = { ...result.response, model: label };
  sendJson(
    call.res,
    200,
    call.dialect === "anthropic" ? deps.translate.toAnthropicResponse(response, label) : response,
    headers,
  );
  return {
    status: 200,
    errorClass: null,
    servedBy,
    path,
    usage: result.usage,
    upstreamMs: result.upstreamMs,
    bodies: deps.bodies.mode !== "off" ? keepBodies(deps.bodies, chat, response.choices) : undefined,
    answer: answerOfChoices(response.choices),
    choices: response.choices,
  };
}
