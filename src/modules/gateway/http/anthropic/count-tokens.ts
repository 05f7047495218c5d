import type { IncomingMessage, ServerResponse } from "node:http";
import { type EncodingName, encodingFor } from "../../../../providers/shared/chat-tokens.ts";
import { sharedChatTokenCounter } from "../../../../providers/shared/token-worker.ts";
import { type Json, UpstreamError } from "../../../../providers/types.ts";
import {
  isMulti,
  isRefusal,
  needsClassifier,
  type RouteRefusal,
  throughRouter,
} from "../../routing/resolve.ts";
import { routerInput } from "../../routing/router-input.ts";
import { askedRoute, type FlagHooks } from "../asked-route.ts";
import { targetOf } from "../chat/call.ts";
import { chatRequestOf } from "../chat/index.ts";
import type { GatewayDeps } from "../deps.ts";
import { GatewayError } from "../gateway-error.ts";
import { sendJson } from "../respond.ts";

export interface CountArgs {
  deps: GatewayDeps;
  req: IncomingMessage;
  res: ServerResponse;
  body: Json;
  requestId: string;
  base: Record<string, string>;
  /** The front door's rendering of a routing refusal (a kill switch's names it). */
  refused(r: RouteRefusal): GatewayError;
  /** The runtime's clock for a route flag's schedule (a count is not an evaluation: nothing counts it). */
  flag: FlagHooks;
}

/**
 * POST /v1/messages/count_tokens: the request's input tokens for the version that would serve
 * it, resolved as a call is (flag, split, subject, kill switches, a route router's tier). A
 * version whose provider counts (Anthropic) is asked; any other is counted with tiktoken over
 * the canonical messages. Not a model call: nothing is logged and nothing costs.
 */
export async function countTokens(a: CountArgs): Promise<void> {
  const { deps, req, requestId } = a;
  // A Messages body without max_tokens, read as a call's would be (the same 400s).
  const chat = chatRequestOf(a.body, "anthropic", deps.translate);
  delete chat.stream;
  const snapshot = deps.routing.current();
  const { subject, asked } = askedRoute(snapshot, req, chat, chat.model, requestId, a.flag);
  if (isRefusal(asked)) throw a.refused(asked);
  const routed = throughRouter(snapshot, asked, () => routerInput(chat), subject, requestId);
  if (isRefusal(routed)) throw a.refused(routed);

  if (isMulti(routed) || needsClassifier(routed)) {
    // A cascade, an ensemble or an LLM-chosen tier is only known by calling: an estimate.
    const [model, version] = splitLabel(routed.label);
    const encoding = encodingFor("");
    const n = await estimate(chat, encoding);
    observe(a, model, version, "tiktoken", "ok");
    return send(a, n, routed.label, `tiktoken ${encoding}; router picks at call time`);
  }
  const v = routed.chain[0]!;
  const target = targetOf(deps, routed.model, v, "plain");
  const adapter = deps.adapters[v.provider];
  if (adapter?.countTokens) {
    // The client gone, the provider is not kept waiting.
    const abort = new AbortController();
    const onClose = () => {
      if (!a.res.writableEnded) abort.abort();
    };
    a.res.on("close", onClose);
    let n: number;
    try {
      n = await adapter.countTokens(chat, target, { signal: abort.signal, requestId, subject });
    } catch (err) {
      observe(a, v.model, v.version, "provider", "error");
      throw upstreamRefusal(err, target.label);
    } finally {
      a.res.off("close", onClose);
    }
    observe(a, v.model, v.version, "provider", "ok");
    return send(a, n, target.label, `provider ${v.provider}`);
  }
  const encoding = encodingFor(v.providerModelId);
  const n = await estimate(chat, encoding);
  observe(a, v.model, v.version, "tiktoken", "ok");
  return send(a, n, target.label, `tiktoken ${encoding}`);
}

const splitLabel = (label: string) => {
  const at = label.lastIndexOf("@");
  return [label.slice(0, at), label.slice(at + 1)] as const;
};

function observe(
  a: CountArgs,
  model: string,
  version: string,
  method: "provider" | "tiktoken",
  outcome: "ok" | "error",
) {
  a.deps.observeTokenCount?.({ model, version, method, outcome });
}

async function estimate(chat: Json, encoding: EncodingName): Promise<number> {
  const tools = Array.isArray(chat.tools) ? (chat.tools as Json[]) : undefined;
  return sharedChatTokenCounter().count(encoding, chat.messages as Json[], tools);
}

function send(a: CountArgs, inputTokens: number, label: string, method: string) {
  sendJson(
    a.res,
    200,
    { input_tokens: inputTokens },
    { ...a.base, "x-modelgov-model-version": label, "x-modelgov-token-count": method },
  );
}

/** The provider's refusal of a count: its 400 is the caller's (the request), anything else the gateway's. */
function upstreamRefusal(err: unknown, label: string): GatewayError {
  if (!(err instanceof UpstreamError))
    return new GatewayError(502, `${label}: token count failed: ${(err as Error).message}`);
  const said = (err.body as { error?: { message?: unknown } } | undefined)?.error?.message;
  const detail = `${label}: token count failed: ${typeof said === "string" ? said : err.message}`;
  if (err.status === 400) return new GatewayError(400, detail, { field: "body", cause: err });
  if (err.status === 429) return new GatewayError(429, detail, { cause: err });
  return new GatewayError(err.kind === "timeout" ? 504 : 502, detail, { cause: err });
}
