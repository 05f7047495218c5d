import type { ChatResponse } from "../../../../providers/types.ts";
import { sendJson } from "../respond.ts";
import { type ChatCall, failed, servedHeaders } from "./call.ts";
import { keepBodies, type Outcome } from "./log-entry.ts";

/** A plain (non-streaming) answer: the outcome, and the choices served (for a shadow comparison). */
export async function complete(call: ChatCall): Promise<Outcome & { choices?: ChatResponse["choices"] }> {
  const { deps, chat, resolution } = call;
  const run = () =>
    deps.execute(
      resolution.chain,
      (v, signal, n) => deps.adapters[v.provider]!.complete(chat, call.target(v), call.context(signal, n)),
      { deadlineMs: resolution.model.timeouts.totalMs, signal: call.signal },
    );
  let out: Awaited<ReturnType<typeof run>>;
  try {
    out = await run();
  } catch (err) {
    return failed(call, err);
  }
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
    choices: response.choices,
  };
}
