import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { accumulateResponse } from "openai/lib/responses/ResponseAccumulator";
import type { ChatChunk, ChatRequest, ChatResponse, Json } from "../types.ts";
import { collect, fixtureJson, sseFixtureEvents } from "./fixture-files.ts";
import { TranslateInputError } from "./input-error.ts";
import { responsesToChatRequest } from "./responses-request.ts";
import { chatToResponsesResponse, chatToResponsesStream } from "./responses-response.ts";

const chat = (body: Json) => responsesToChatRequest(body);
const refused = (body: Json, field: string, reason: RegExp) =>
  assert.throws(
    () => chat({ model: "m", input: "hi", ...body }),
    (e: unknown) => e instanceof TranslateInputError && e.field === field && reason.test(e.reason),
  );

describe("Responses request → chat request", () => {
  test("the recorded request: instructions, messages, function calls and their outputs, tools, format", () => {
    const out = chat(fixtureJson("responses-request-tools.json"));
    assert.deepEqual(out, {
      model: "gpt-4.1",
      messages: [
        { role: "system", content: "You are a weather assistant." },
        { role: "user", content: "What's the weather in Boston and what time is it there?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: "call_abc123",
              type: "function",
              function: { name: "get_weather", arguments: '{"location":"Boston, MA"}' },
            },
            {
              id: "call_def456",
              type: "function",
              function: { name: "get_time", arguments: '{"timezone":"America/New_York"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "call_abc123", content: '{"temperature_c":21}' },
        { role: "tool", tool_call_id: "call_def456", content: "14:05" },
        { role: "assistant", content: [{ type: "text", text: "It is 21 °C and 14:05 in Boston." }] },
        {
          role: "user",
          content: [
            { type: "text", text: "And this picture?" },
            { type: "image_url", image_url: { url: "https://example.com/boston.png", detail: "low" } },
          ],
        },
      ],
      max_tokens: 256,
      temperature: 0.2,
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Current weather for a place",
            parameters: {
              type: "object",
              properties: { location: { type: "string" } },
              required: ["location"],
              additionalProperties: false,
            },
            strict: true,
          },
        },
        {
          type: "function",
          function: {
            name: "get_time",
            parameters: { type: "object", properties: { timezone: { type: "string" } } },
          },
        },
      ],
      tool_choice: "auto",
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "weather",
          schema: { type: "object", properties: { summary: { type: "string" } } },
          strict: true,
        },
      },
      metadata: { tenant: "acme" },
      user: "user-42",
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  test("a string input is one user message; json_object and a named tool choice map over", () => {
    assert.deepEqual(
      chat({
        model: "m",
        input: "hello",
        text: { format: { type: "json_object" } },
        tool_choice: { type: "function", name: "f" },
      }),
      {
        model: "m",
        messages: [{ role: "user", content: "hello" }],
        tool_choice: { type: "function", function: { name: "f" } },
        response_format: { type: "json_object" },
      },
    );
  });

  test("what cannot be honoured is refused by name, not dropped", () => {
    refused({ previous_response_id: "resp_1" }, "previous_response_id", /keeps no responses/);
    refused({ store: true }, "store", /does not store/);
    refused({ tools: [{ type: "web_search" }] }, "tools.0.type", /built-in tool 'web_search'/);
    refused({ reasoning: { effort: "low" } }, "reasoning", /not supported/);
    refused({ frobnicate: 1 }, "frobnicate", /not supported/);
    refused({ input: [{ type: "reasoning", summary: [] }] }, "input.0.type", /'reasoning' items/);
    refused(
      { input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] },
      "input.0.content.0.type",
      /input_file/,
    );
    refused({ input: [{ role: "tool", content: "x" }] }, "input.0.role", /must be one of/);
    refused({ input: [] }, "input", /must not be empty/);
    refused({ input: 3 }, "input", /string or an array/);
    refused({ max_output_tokens: 0 }, "max_output_tokens", /positive integer/);
    refused({ text: { format: { type: "json_schema", name: "x" } } }, "text.format.schema", /JSON Schema/);
    refused(
      { input: [{ type: "function_call", name: "f", arguments: "{}" }] },
      "input.0.call_id",
      /required/,
    );
    // store: false, nulls and truncation "disabled" are what the gateway does anyway.
    assert.equal(
      chat({ model: "m", input: "x", store: false, truncation: "disabled", top_p: null, include: [] }).model,
      "m",
    );
    refused({ include: ["reasoning.encrypted_content"] }, "include", /no extra output/);
  });
});

const REQUEST: ChatRequest = {
  model: "m",
  messages: [{ role: "user", content: "weather?" }],
  tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }],
};
const OPTS = { id: "abc", model: "chat@1.0.0", request: REQUEST, created: 1744460000 };

describe("chat answer → Responses response", () => {
  test("tool calls become function_call items with their call ids; usage in Responses names", () => {
    const r = chatToResponsesResponse(fixtureJson<ChatResponse>("openai-response-tool-calls.json"), OPTS);
    assert.equal(r.id, "resp_abc");
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.equal(r.model, "chat@1.0.0");
    assert.deepEqual(r.output, [
      {
        type: "function_call",
        id: "fc_abc_0",
        call_id: "call_abc123",
        name: "get_weather",
        arguments: '{"location": "Boston, MA"}',
        status: "completed",
      },
      {
        type: "function_call",
        id: "fc_abc_1",
        call_id: "call_def456",
        name: "get_time",
        arguments: '{"timezone": "America/New_York"}',
        status: "completed",
      },
    ]);
    assert.deepEqual(r.usage, {
      input_tokens: 82,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 17,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 99,
    });
    assert.deepEqual(r.tools, [
      {
        type: "function",
        name: "get_weather",
        description: null,
        parameters: { type: "object" },
        strict: null,
      },
    ]);
  });

  test("text becomes one message with output_text; a cut answer is incomplete", () => {
    const answer: ChatResponse = {
      id: "c",
      object: "chat.completion",
      model: "x",
      choices: [{ index: 0, message: { role: "assistant", content: "Paris." }, finish_reason: "length" }],
      usage: { prompt_tokens: 3, completion_tokens: 2 },
    };
    const r = chatToResponsesResponse(answer, OPTS);
    assert.deepEqual(r.output, [
      {
        type: "message",
        id: "msg_abc",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Paris.", annotations: [] }],
      },
    ]);
    assert.equal(r.status, "incomplete");
    assert.deepEqual(r.incomplete_details, { reason: "max_output_tokens" });
  });
});

describe("chat stream → Responses events", () => {
  const events = (name: string) =>
    collect(chatToResponsesStream(sseFixtureEvents<ChatChunk>(name), OPTS)).then((es) =>
      es.map((e) => e.data),
    );

  /** The final response as the official SDK assembles it from the events. */
  function assembled(es: Json[]) {
    let snapshot: unknown;
    for (const e of es) snapshot = accumulateResponse(e as never, snapshot as never);
    return snapshot as Json;
  }

  test("text: the event sequence OpenAI sends, numbered, and the SDK assembles the text", async () => {
    const es = await events("openai-stream-text.sse");
    assert.deepEqual(
      es.map((e) => e.type),
      [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
      ],
    );
    assert.deepEqual(
      es.map((e) => e.sequence_number),
      es.map((_, i) => i),
    );
    assert.equal(es[7]!.text, "The capital of France is Paris.");
    const done = es.at(-1)!.response as Json;
    assert.equal(done.status, "completed");
    assert.deepEqual((done.usage as Json).input_tokens_details, { cached_tokens: 1024 });
    const sdk = assembled(es);
    assert.equal(sdk.output_text, "The capital of France is Paris.");
    assert.deepEqual(sdk.output, done.output);
  });

  test("tool calls: one function_call item each, arguments in deltas, closed before the next opens", async () => {
    const es = await events("openai-stream-tool-calls.sse");
    assert.deepEqual(
      es.map((e) => [e.type, e.output_index ?? null]),
      [
        ["response.created", null],
        ["response.in_progress", null],
        ["response.output_item.added", 0],
        ["response.function_call_arguments.delta", 0],
        ["response.function_call_arguments.delta", 0],
        ["response.function_call_arguments.done", 0],
        ["response.output_item.done", 0],
        ["response.output_item.added", 1],
        ["response.function_call_arguments.delta", 1],
        ["response.function_call_arguments.done", 1],
        ["response.output_item.done", 1],
        ["response.completed", null],
      ],
    );
    const done = es.at(-1)!.response as { output: Json[]; usage: Json };
    assert.deepEqual(
      done.output.map((o) => [o.type, o.call_id, o.name, o.arguments]),
      [
        ["function_call", "call_abc123", "get_weather", '{"location": "Boston, MA"}'],
        ["function_call", "call_def456", "get_time", '{"timezone": "America/New_York"}'],
      ],
    );
    assert.equal(done.usage.output_tokens, 17);
    assert.deepEqual(assembled(es).output, done.output);
  });
});
