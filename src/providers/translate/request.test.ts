import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatRequest } from "../types.ts";
import type { AnthropicRequest } from "./anthropic-types.ts";
import { fixtureJson } from "./fixture-files.ts";
import { anthropicToOpenAIRequest, openAIToAnthropicRequest } from "./request.ts";

const anthropicTools = fixtureJson<AnthropicRequest>("anthropic-request-tools.json");
const openAITools = fixtureJson<ChatRequest>("openai-request-tools.json");

describe("Anthropic request → OpenAI request", () => {
  test("multi-turn with system, image, tool_use and tool_result matches the recorded OpenAI form", () => {
    assert.deepEqual(anthropicToOpenAIRequest(anthropicTools), openAITools);
  });

  test("stream asks for the usage chunk", () => {
    const out = anthropicToOpenAIRequest({ ...anthropicTools, stream: true });
    assert.equal(out.stream, true);
    assert.deepEqual(out.stream_options, { include_usage: true });
  });

  test("system blocks, tool errors with images, thinking, forced tools, server tools and top_k", () => {
    const out = anthropicToOpenAIRequest({
      model: "claude-sonnet-4-5",
      max_tokens: 300,
      top_k: 40,
      system: [
        { type: "text", text: "Rule one." },
        { type: "text", text: "Rule two.", cache_control: { type: "ephemeral" } },
      ],
      tools: [
        { name: "lookup", input_schema: { type: "object", properties: {} } },
        { name: "web_search", type: "web_search_20250305" } as never,
      ],
      tool_choice: { type: "tool", name: "lookup" },
      messages: [
        { role: "user", content: "Find it." },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "The user wants a lookup.", signature: "EqQBCgIYAhIM" },
            { type: "tool_use", id: "toolu_1", name: "lookup", input: {} },
          ],
        },
        {
          role: "user",
          content: [
            {
              type: "tool_result",
              tool_use_id: "toolu_1",
              is_error: true,
              content: [
                { type: "text", text: "not found" },
                { type: "image", source: { type: "url", url: "https://example.com/err.png" } },
              ],
            },
          ],
        },
      ],
    });
    assert.deepEqual(out, {
      model: "claude-sonnet-4-5",
      max_tokens: 300,
      tools: [
        { type: "function", function: { name: "lookup", parameters: { type: "object", properties: {} } } },
      ],
      tool_choice: { type: "function", function: { name: "lookup" } },
      messages: [
        { role: "system", content: "Rule one.\nRule two." },
        { role: "user", content: "Find it." },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "toolu_1", type: "function", function: { name: "lookup", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "Error: not found" },
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/err.png" } }] },
      ],
    });
  });

  test("system turns inside messages (API version 2026-10-21) stay in place as system messages", () => {
    const out = anthropicToOpenAIRequest({
      model: "m",
      max_tokens: 10,
      messages: [
        { role: "user", content: "Hi." },
        { role: "system", content: [{ type: "text", text: "From now on, answer in Norwegian." }] },
        { role: "user", content: "How are you?" },
      ],
    });
    assert.deepEqual(out.messages, [
      { role: "user", content: "Hi." },
      { role: "system", content: "From now on, answer in Norwegian." },
      { role: "user", content: "How are you?" },
    ]);
  });

  test("tool_choice any and none", () => {
    const base = { model: "m", max_tokens: 10, messages: [{ role: "user" as const, content: "x" }] };
    assert.equal(anthropicToOpenAIRequest({ ...base, tool_choice: { type: "any" } }).tool_choice, "required");
    assert.equal(anthropicToOpenAIRequest({ ...base, tool_choice: { type: "none" } }).tool_choice, "none");
  });
});

describe("OpenAI request → Anthropic request", () => {
  test("the recorded OpenAI form translates back to the recorded Anthropic request (round trip)", () => {
    assert.deepEqual(openAIToAnthropicRequest(openAITools), anthropicTools);
  });

  test("system and developer messages anywhere are hoisted; same-role turns merge", () => {
    const out = openAIToAnthropicRequest({
      model: "claude-haiku-4-5",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi." },
        { role: "developer", content: [{ type: "text", text: "Use French." }] },
        { role: "user", content: "How are you?" },
        { role: "assistant", content: "" },
        { role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/cat.jpg" } }] },
      ],
    });
    assert.equal(out.system, "Be brief.\n\nUse French.");
    assert.deepEqual(out.messages, [
      {
        role: "user",
        content: [
          { type: "text", text: "Hi." },
          { type: "text", text: "How are you?" },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
        ],
      },
    ]);
  });

  test("max_tokens: max_completion_tokens first, then max_tokens, then the default", () => {
    const base: ChatRequest = { model: "m", messages: [{ role: "user", content: "x" }] };
    assert.equal(openAIToAnthropicRequest(base).max_tokens, 1024);
    assert.equal(openAIToAnthropicRequest(base, { defaultMaxTokens: 4096 }).max_tokens, 4096);
    assert.equal(openAIToAnthropicRequest({ ...base, max_tokens: 50 }).max_tokens, 50);
    assert.equal(
      openAIToAnthropicRequest({ ...base, max_tokens: 50, max_completion_tokens: 70 }).max_tokens,
      70,
    );
  });

  test("sampling: temperature clamped to Anthropic's 0..1, a string stop becomes a list, OpenAI-only knobs dropped", () => {
    const out = openAIToAnthropicRequest({
      model: "m",
      messages: [{ role: "user", content: "x" }],
      temperature: 1.6,
      stop: "END",
      n: 2,
      seed: 7,
      frequency_penalty: 0.5,
      logprobs: true,
      response_format: { type: "json_object" },
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.deepEqual(out, {
      model: "m",
      messages: [{ role: "user", content: "x" }],
      max_tokens: 1024,
      temperature: 1,
      stop_sequences: ["END"],
      stream: true,
    });
  });

  test("tool_choice and parallel_tool_calls", () => {
    const base: ChatRequest = { model: "m", messages: [{ role: "user", content: "x" }] };
    const choice = (extra: Record<string, unknown>) =>
      openAIToAnthropicRequest({ ...base, ...extra }).tool_choice;
    assert.deepEqual(choice({ tool_choice: "required" }), { type: "any" });
    assert.deepEqual(choice({ tool_choice: "none" }), { type: "none" });
    assert.deepEqual(choice({ tool_choice: { type: "function", function: { name: "f" } } }), {
      type: "tool",
      name: "f",
    });
    assert.deepEqual(choice({ parallel_tool_calls: false }), {
      type: "auto",
      disable_parallel_tool_use: true,
    });
    assert.deepEqual(choice({ tool_choice: "none", parallel_tool_calls: false }), { type: "none" });
    assert.equal(choice({ parallel_tool_calls: true }), undefined);
  });

  test("tool results with text parts, malformed arguments, data-URL PDFs", () => {
    const out = openAIToAnthropicRequest({
      model: "m",
      messages: [
        {
          role: "user",
          content: [
            {
              type: "file",
              file: { file_data: "data:application/pdf;base64,JVBERi0xLjQ=", filename: "a.pdf" },
            },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{not json" } }],
        },
        {
          role: "tool",
          tool_call_id: "call_1",
          content: [
            { type: "text", text: "line 1" },
            { type: "text", text: "line 2" },
          ],
        },
      ],
    });
    assert.deepEqual(out.messages, [
      {
        role: "user",
        content: [
          {
            type: "document",
            source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQ=" },
          },
        ],
      },
      { role: "assistant", content: [{ type: "tool_use", id: "call_1", name: "f", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "call_1", content: "line 1\nline 2" }] },
    ]);
  });
});
