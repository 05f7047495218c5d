import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatChunk, ChatResponse, Json } from "../types.ts";
import { chatToCompletionResponse, chatToCompletionStream, completionsToChatRequest } from "./completions.ts";
import { collect, fixtureJson, sseFixtureEvents } from "./fixture-files.ts";
import { TranslateInputError } from "./input-error.ts";

const refused = (body: Json, field: string, reason: RegExp) =>
  assert.throws(
    () => completionsToChatRequest({ model: "m", prompt: "hi", ...body }),
    (e: unknown) => e instanceof TranslateInputError && e.field === field && reason.test(e.reason),
  );

describe("legacy completions over the chat path", () => {
  test("the prompt is one user message; sampling fields pass over", () => {
    assert.deepEqual(
      completionsToChatRequest({
        model: "m",
        prompt: ["Say this is a test"],
        max_tokens: 7,
        temperature: 0,
        stop: ["\n"],
        stream: true,
        stream_options: { include_usage: true },
        echo: false,
        best_of: 1,
        n: 1,
      }),
      {
        model: "m",
        messages: [{ role: "user", content: "Say this is a test" }],
        max_tokens: 7,
        temperature: 0,
        stop: ["\n"],
        stream: true,
        stream_options: { include_usage: true },
      },
    );
  });

  test("what has no chat counterpart is refused by name", () => {
    refused({ echo: true }, "echo", /echoing/);
    refused({ suffix: "x" }, "suffix", /suffix/);
    refused({ logprobs: 2 }, "logprobs", /logprobs/);
    refused({ n: 2 }, "n", /only 1/);
    refused({ prompt: ["a", "b"] }, "prompt", /one prompt/);
    refused({ prompt: [1, 2, 3] }, "prompt", /token arrays/);
    refused({ prompt: "" }, "prompt", /non-empty/);
    refused({ tools: [] }, "tools", /not supported/);
  });

  test("a chat answer as a text_completion", () => {
    const answer = fixtureJson<ChatResponse>("openai-response-from-tool-use.json");
    const r = chatToCompletionResponse(
      {
        ...answer,
        choices: [
          { index: 0, message: { role: "assistant", content: "This is a test." }, finish_reason: "stop" },
        ],
      },
      { id: "abc", model: "chat@1.0.0" },
    );
    assert.equal(r.id, "cmpl-abc");
    assert.equal(r.object, "text_completion");
    assert.equal(r.model, "chat@1.0.0");
    assert.deepEqual(r.choices, [
      { text: "This is a test.", index: 0, logprobs: null, finish_reason: "stop" },
    ]);
    assert.deepEqual(r.usage, answer.usage);
  });

  test("a chat stream as text_completion chunks; usage only when asked", async () => {
    const run = (includeUsage: boolean) =>
      collect(
        chatToCompletionStream(sseFixtureEvents<ChatChunk>("openai-stream-text.sse"), {
          id: "abc",
          model: "chat@1.0.0",
          includeUsage,
          created: 1,
        }),
      );
    const plain = await run(false);
    assert.deepEqual(
      plain.map((c) => (c.choices as Json[]).map((x) => [x.text, x.finish_reason])),
      [[["The capital", null]], [[" of France is", null]], [[" Paris.", null]], [["", "stop"]]],
    );
    assert.ok(plain.every((c) => c.object === "text_completion" && c.id === "cmpl-abc"));
    const withUsage = await run(true);
    assert.equal(withUsage.length, 5);
    assert.deepEqual((withUsage.at(-1)!.usage as Json).completion_tokens, 7);
  });
});
