import {
  type AnthropicContentBlock,
  anthropicToOpenAIRequest,
  openAIToAnthropicResponse,
  openAIToAnthropicStream,
} from "../../../../providers/index.ts";
import type { Json } from "../../../../providers/types.ts";
import type { GatewayDeps } from "../deps.ts";
import { messageIdFor, toolUseIdFor } from "./ids.ts";

const withToolUseId = (b: AnthropicContentBlock, i: number): AnthropicContentBlock =>
  b.type === "tool_use" ? { ...b, id: toolUseIdFor(b.id, i) } : b;

/**
 * The /v1/messages dialect: Anthropic's request to the canonical one, and the canonical answer
 * back in Anthropic's shape, with the public model name and ids as Anthropic's look (ids.ts).
 */
export const anthropicDialect: GatewayDeps["translate"] = {
  fromAnthropicRequest: (body) => anthropicToOpenAIRequest(body as never) as never,
  toAnthropicResponse(resp, model, requestId) {
    const msg = openAIToAnthropicResponse(resp as never);
    return {
      ...msg,
      id: messageIdFor(msg.id, requestId),
      model,
      content: msg.content.map(withToolUseId),
    } as unknown as Json;
  },
  async *toAnthropicStream(chunks, model, requestId) {
    for await (const e of openAIToAnthropicStream(chunks, { model })) {
      if (e.type === "message_start") e.message.id = messageIdFor(e.message.id, requestId);
      else if (e.type === "content_block_start") e.content_block = withToolUseId(e.content_block, e.index);
      yield { event: e.type, data: e as unknown as Json };
    }
  },
};
