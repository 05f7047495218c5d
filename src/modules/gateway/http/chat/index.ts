import { isEmbeddingVersion } from "../../../../providers/shared/embedding.ts";
import { GatewayError } from "../gateway-error.ts";
import { type ChatArgs, openCall } from "./call.ts";
import { withRouterCalls } from "./classify.ts";
import { complete } from "./complete.ts";
import { elapsedMs, logEntry } from "./log-entry.ts";
import { mirror, shadowFor } from "./shadow.ts";
import { stream } from "./stream.ts";

export type { ChatArgs, ChatDeps } from "./call.ts";
export { chatRequestOf, messageProblem, parseGroups } from "./request.ts";
export { sameAnswer } from "./shadow.ts";

/** One routed chat call: answered plain or streamed, then logged once; a plain answer may be mirrored. */
export async function handleChat(a: ChatArgs): Promise<void> {
  const call = openCall(chatRoute(a));
  const { deps } = call;
  const outcome = a.chat.stream === true ? await stream(call) : await complete(call);
  const entry = logEntry(
    call.start,
    withRouterCalls(outcome, a.resolution),
    elapsedMs(call.startedMs),
    call.chat,
  );
  deps.log(entry);
  deps.observe?.(entry, outcome.firstTokenMs);
  a.trace?.answered({
    version: outcome.servedBy ? call.target(outcome.servedBy).label : undefined,
    route: a.resolution.reason,
    usage: outcome.usage,
    errorClass: outcome.errorClass,
  });
  if (!("choices" in outcome) || !outcome.servedBy) return;
  const shadow = shadowFor(call, outcome.servedBy);
  if (shadow) void mirror(call, shadow, entry, outcome.choices);
}

/** An embedding version serves no chat: refused as the primary (400 naming `body.model`), dropped as a fallback. */
function chatRoute(a: ChatArgs): ChatArgs {
  const { chain } = a.resolution;
  const primary = chain[0];
  if (primary && isEmbeddingVersion(primary.parameters))
    throw new GatewayError(
      400,
      `model: '${a.chat.model}' resolves to ${primary.model}@${primary.version}, an embedding model; call /v1/embeddings`,
      { field: "body.model" },
    );
  if (!chain.some((v) => isEmbeddingVersion(v.parameters))) return a;
  return {
    ...a,
    resolution: { ...a.resolution, chain: chain.filter((v) => !isEmbeddingVersion(v.parameters)) },
  };
}
