import type { ChatResponse } from "../types.ts";
import type {
  AnthropicContentBlock,
  AnthropicResponse,
  AnthropicStopReason,
  AnthropicUsage,
} from "./anthropic-types.ts";
import type { OpenAIChoice, OpenAIFinishReason, OpenAIMessage, OpenAIUsage } from "./openai-types.ts";
import { parseArguments } from "./request.ts";

export const FINISH_REASON_OF: Record<AnthropicStopReason, OpenAIFinishReason> = {
  end_turn: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  stop_sequence: "stop",
  // A paused server-tool turn is an ordinary end of this answer to a Chat Completions client.
  pause_turn: "stop",
  refusal: "content_filter",
  model_context_window_exceeded: "length",
};

/** OpenAI does not say whether "stop" came from a stop sequence, so it reads as end_turn. */
export const STOP_REASON_OF: Record<OpenAIFinishReason, AnthropicStopReason> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};

export function finishReasonOf(r: AnthropicStopReason | null | undefined): OpenAIFinishReason | null {
  return r ? (FINISH_REASON_OF[r] ?? "stop") : null;
}

export function stopReasonOf(r: OpenAIFinishReason | null | undefined): AnthropicStopReason | null {
  return r ? (STOP_REASON_OF[r] ?? "end_turn") : null;
}

/** OpenAI's prompt_tokens include cached tokens; Anthropic counts cache reads and writes apart. */
export function openAIUsageOf(u: Partial<AnthropicUsage>): OpenAIUsage {
  const cached = u.cache_read_input_tokens ?? 0;
  const prompt = (u.input_tokens ?? 0) + cached + (u.cache_creation_input_tokens ?? 0);
  const completion = u.output_tokens ?? 0;
  const out: OpenAIUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  if (cached > 0) out.prompt_tokens_details = { cached_tokens: cached };
  return out;
}

export function anthropicUsageOf(u: OpenAIUsage): AnthropicUsage {
  const cached = u.prompt_tokens_details?.cached_tokens ?? 0;
  const out: AnthropicUsage = { input_tokens: u.prompt_tokens - cached, output_tokens: u.completion_tokens };
  if (cached > 0) out.cache_read_input_tokens = cached;
  return out;
}

export function anthropicToOpenAIResponse(
  msg: AnthropicResponse,
  opts: { created?: number } = {},
): ChatResponse {
  const text = msg.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("");
  const calls = msg.content.flatMap((b) =>
    b.type === "tool_use"
      ? [
          {
            id: b.id,
            type: "function" as const,
            function: { name: b.name, arguments: JSON.stringify(b.input) },
          },
        ]
      : [],
  );
  const message: OpenAIMessage = {
    role: "assistant",
    content: text === "" && calls.length > 0 ? null : text,
    refusal: null,
  };
  if (calls.length > 0) message.tool_calls = calls;
  const choice: OpenAIChoice = {
    index: 0,
    message,
    logprobs: null,
    finish_reason: finishReasonOf(msg.stop_reason),
  };
  return {
    id: msg.id,
    object: "chat.completion",
    created: opts.created ?? Math.floor(Date.now() / 1000),
    model: msg.model,
    choices: [choice],
    usage: openAIUsageOf(msg.usage),
  };
}

/** Only the first choice is kept: Messages has no `n`. */
export function openAIToAnthropicResponse(res: ChatResponse): AnthropicResponse {
  const choice = res.choices[0] as OpenAIChoice | undefined;
  const message = choice?.message;
  const content: AnthropicContentBlock[] = [];
  const text =
    typeof message?.content === "string"
      ? message.content
      : (message?.content ?? []).flatMap((p) => (p.type === "text" ? [p.text] : [])).join("");
  if (text) content.push({ type: "text", text });
  if (message?.refusal) content.push({ type: "text", text: message.refusal });
  for (const c of message?.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: c.id,
      name: c.function.name,
      input: parseArguments(c.function.arguments),
    });
  }
  return {
    id: res.id,
    type: "message",
    role: "assistant",
    model: res.model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason),
    stop_sequence: null,
    usage: res.usage ? anthropicUsageOf(res.usage) : { input_tokens: 0, output_tokens: 0 },
  };
}
