import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatResponse } from "../types.ts";
import type { AnthropicResponse, AnthropicStopReason } from "./anthropic-types.ts";
import { fixtureJson } from "./fixture-files.ts";
import type { OpenAIFinishReason } from "./openai-types.ts";
import {
  anthropicToOpenAIResponse,
  finishReasonOf,
  openAIToAnthropicResponse,
  stopReasonOf,
} from "./response.ts";

const CREATED = 1767225600;

describe("Anthropic response ⇄ OpenAI response", () => {
  test("text + tool_use → content + tool_calls with JSON-string arguments (recorded)", () => {
    const anthropic = fixtureJson<AnthropicResponse>("anthropic-response-tool-use.json");
    assert.deepEqual(
      anthropicToOpenAIResponse(anthropic, { created: CREATED }),
      fixtureJson("openai-response-from-tool-use.json"),
    );
  });

  test("…and back: the same message, usage without the zero cache counters", () => {
    const anthropic = fixtureJson<AnthropicResponse>("anthropic-response-tool-use.json");
    const back = openAIToAnthropicResponse(fixtureJson<ChatResponse>("openai-response-from-tool-use.json"));
    assert.deepEqual(back, { ...anthropic, usage: { input_tokens: 472, output_tokens: 89 } });
  });

  test("cache reads count in prompt_tokens (as OpenAI counts cached tokens) and come back apart", () => {
    const anthropic = fixtureJson<AnthropicResponse>("anthropic-response-text-cached.json");
    const openai = anthropicToOpenAIResponse(anthropic, { created: CREATED });
    assert.deepEqual(openai.usage, {
      prompt_tokens: 1225,
      completion_tokens: 9,
      total_tokens: 1234,
      prompt_tokens_details: { cached_tokens: 1200 },
    });
    assert.deepEqual(openai.choices[0], {
      index: 0,
      message: { role: "assistant", content: "Paris is the capital of France.", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    });
    assert.deepEqual(openAIToAnthropicResponse(openai).usage, {
      input_tokens: 25,
      output_tokens: 9,
      cache_read_input_tokens: 1200,
    });
  });

  test("OpenAI parallel tool_calls (recorded) → tool_use blocks with parsed input", () => {
    const out = openAIToAnthropicResponse(fixtureJson<ChatResponse>("openai-response-tool-calls.json"));
    assert.deepEqual(out, {
      id: "chatcmpl-BLwzk1lVx1vPgPwvWPVYy4sUAd6Kb",
      type: "message",
      role: "assistant",
      model: "gpt-4o-mini-2024-07-18",
      content: [
        { type: "tool_use", id: "call_abc123", name: "get_weather", input: { location: "Boston, MA" } },
        { type: "tool_use", id: "call_def456", name: "get_time", input: { timezone: "America/New_York" } },
      ],
      stop_reason: "tool_use",
      stop_sequence: null,
      usage: { input_tokens: 82, output_tokens: 17 },
    });
  });

  test("stop reasons, both ways", () => {
    const toOpenAI: Array<[AnthropicStopReason, OpenAIFinishReason]> = [
      ["end_turn", "stop"],
      ["max_tokens", "length"],
      ["tool_use", "tool_calls"],
      ["stop_sequence", "stop"],
      ["pause_turn", "stop"],
      ["refusal", "content_filter"],
      ["model_context_window_exceeded", "length"],
    ];
    for (const [a, o] of toOpenAI) assert.equal(finishReasonOf(a), o, a);
    const toAnthropic: Array<[OpenAIFinishReason, AnthropicStopReason]> = [
      ["stop", "end_turn"],
      ["length", "max_tokens"],
      ["tool_calls", "tool_use"],
      ["function_call", "tool_use"],
      ["content_filter", "refusal"],
    ];
    for (const [o, a] of toAnthropic) assert.equal(stopReasonOf(o), a, o);
    assert.equal(finishReasonOf(null), null);
    assert.equal(stopReasonOf(null), null);
  });

  test("a max_tokens answer maps to finish_reason length and back", () => {
    const anthropic = {
      ...fixtureJson<AnthropicResponse>("anthropic-response-text-cached.json"),
      stop_reason: "max_tokens" as const,
    };
    const openai = anthropicToOpenAIResponse(anthropic, { created: CREATED });
    assert.equal((openai.choices[0] as { finish_reason: string }).finish_reason, "length");
    assert.equal(openAIToAnthropicResponse(openai).stop_reason, "max_tokens");
  });
});
