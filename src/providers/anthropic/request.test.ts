import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatRequest, UpstreamTarget } from "../types.ts";
import { anthropicBody, countTokensBody, countTokensUrl } from "./request.ts";

const target: UpstreamTarget = {
  versionId: "ver_2",
  label: "weather-bot@1.0.0",
  provider: "anthropic",
  providerModelId: "claude-sonnet-4-5",
  endpoint: "http://127.0.0.1:9/",
  parameters: {
    max_tokens: 2048,
    temperature: 0.2,
    top_k: 40,
    thinking: { type: "enabled", budget_tokens: 1024 },
  },
  timeouts: { totalMs: 5_000, firstByteMs: 5_000, idleMs: 5_000 },
};

describe("anthropic: the count_tokens request", () => {
  test("the call's own Messages body, less what only a call takes (max_tokens, sampling, stream)", () => {
    const req: ChatRequest = {
      model: "weather-bot",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Oslo?" },
      ],
      max_tokens: 100,
      temperature: 0.5,
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
      tool_choice: "required",
    };
    const call = anthropicBody(req, target, false);
    assert.deepEqual(countTokensBody(req, target), {
      model: "claude-sonnet-4-5",
      messages: call.messages,
      system: "Be brief.",
      tools: [{ name: "get_weather", input_schema: { type: "object" } }],
      tool_choice: { type: "any" },
      // A version's extended thinking changes what is counted; top_k and temperature do not.
      thinking: { type: "enabled", budget_tokens: 1024 },
    });
    assert.equal(countTokensUrl(target), "http://127.0.0.1:9/v1/messages/count_tokens");
  });
});
