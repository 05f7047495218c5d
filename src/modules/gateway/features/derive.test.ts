import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatChunk, ChatRequest, Json } from "../../../providers/types.ts";
import {
  type AnswerFacts,
  answerOfChoices,
  isRefusal,
  labelOf,
  requestFacts,
  requestFeatures,
  StreamedAnswer,
  TEXT_LIMIT,
  validity,
} from "./derive.ts";

/** As the gateway does: the request's facts when the call ends, the features at flush time. */
const featuresOf = (c: ChatRequest, a: AnswerFacts | undefined) => requestFeatures(requestFacts(c), a);
const valid = (c: ChatRequest, a: AnswerFacts, refused: boolean) => validity(c.response_format, a, refused);

const text = (t: string, over: Partial<AnswerFacts> = {}): AnswerFacts => ({
  text: t,
  complete: true,
  toolCalls: 0,
  refusal: null,
  finishReason: "stop",
  ...over,
});
const chat = (over: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "m",
  messages: [{ role: "user", content: "hello" }],
  ...over,
});
const choices = (message: Json, finish = "stop") => [{ index: 0, message, finish_reason: finish }];

describe("a request's features", () => {
  test("input: messages, the last user message's script (text parts only), tools and functions offered", () => {
    const f = featuresOf(
      chat({
        messages: [
          { role: "system", content: "You answer in the user's language." },
          { role: "user", content: "Where is my order?" },
          { role: "assistant", content: "Which one?" },
          {
            role: "user",
            content: [
              { type: "text", text: "Заказ" },
              { type: "image_url", image_url: { url: "https://example.com/a.png" } },
              { type: "text", text: "номер 12" },
            ],
          },
          { role: "tool", content: "plain latin tool output, not the user's" },
        ],
        tools: [
          { type: "function", function: { name: "a" } },
          { type: "function", function: { name: "b" } },
        ],
        functions: [{ name: "legacy" }],
      }),
      undefined,
    );
    assert.deepEqual(f, {
      messages: 5,
      script: "cyrillic",
      toolsOffered: 3,
      toolCalls: null,
      refusal: null,
      valid: null,
      label: null,
      finishReason: null,
    });
    assert.equal(
      featuresOf(chat({ messages: [{ role: "system", content: "x" }] }), undefined).script,
      "none",
    );
  });

  test("output of a plain answer: tool calls, finish reason, label; never the text beyond a short label", () => {
    const answer = answerOfChoices(
      choices(
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "1", type: "function", function: { name: "a", arguments: "{}" } },
            { id: "2", type: "function", function: { name: "b", arguments: "{}" } },
          ],
        },
        "tool_calls",
      ),
    );
    const f = featuresOf(chat({ tools: [{ type: "function", function: { name: "a" } }] }), answer);
    assert.deepEqual(
      [f.toolCalls, f.finishReason, f.refusal, f.label, f.valid],
      [2, "tool_calls", false, null, null],
    );
    const long = featuresOf(
      chat(),
      answerOfChoices(choices({ role: "assistant", content: "A long and secret answer about the order." })),
    );
    assert.equal(long.label, null);
    assert.ok(!JSON.stringify(long).includes("secret"), "the text itself is not kept");
    assert.ok(!JSON.stringify(long).includes("hello"), "nor the prompt");
  });

  test("label: the trimmed text when one line of at most 40 characters (code points)", () => {
    assert.equal(labelOf(text("  positive \n")), "positive");
    assert.equal(labelOf(text("Négatif")), "Négatif", "case and accents kept");
    assert.equal(labelOf(text("x".repeat(40))), "x".repeat(40));
    assert.equal(labelOf(text("x".repeat(41))), null);
    assert.equal(labelOf(text("😀".repeat(40))), "😀".repeat(40), "80 UTF-16 units, 40 characters");
    assert.equal(labelOf(text("yes\nno")), null, "two lines");
    assert.equal(labelOf(text("   ")), null);
    assert.equal(labelOf(text("ok", { toolCalls: 1 })), null);
    assert.equal(labelOf(text("ok", { complete: false })), null);
  });

  test("refusal: OpenAI's refusal field, a content_filter finish (Anthropic's refusal), or a refusal phrase at the start", () => {
    assert.equal(isRefusal(text("", { refusal: "I can't help with that." })), true);
    assert.equal(isRefusal(text("", { finishReason: "content_filter" })), true);
    assert.equal(isRefusal(text("I’m unable to share that information.")), true, "curly apostrophe");
    assert.equal(isRefusal(text("  I can't assist with this request.")), true);
    assert.equal(isRefusal(text("Das kann ich nicht beantworten.")), true, "the German phrases too");
    assert.equal(isRefusal(text("Your order ships tomorrow.")), false);
    assert.equal(
      isRefusal(text(`${"Here is the long answer. ".repeat(20)} I cannot help with the rest.`)),
      false,
      "a phrase past the first 300 characters is not a refusal",
    );
    assert.equal(isRefusal(text("I can't help with", { toolCalls: 1 })), false);
    // Through the Anthropic adapter a refusal arrives as finish_reason content_filter.
    const viaAnthropic = answerOfChoices(choices({ role: "assistant", content: "" }, "content_filter"));
    const f = featuresOf(chat(), viaAnthropic);
    assert.deepEqual([f.refusal, f.finishReason, f.label], [true, "content_filter", null]);
    const openai = answerOfChoices(choices({ role: "assistant", content: null, refusal: "No." }));
    assert.equal(featuresOf(chat(), openai).refusal, true);
  });

  test("validity: json_object parses; json_schema parses and satisfies the schema; unasked, refused or tool calls: not checked", () => {
    const jsonObject = chat({ response_format: { type: "json_object" } });
    const schema = {
      type: "object",
      properties: { sentiment: { enum: ["positive", "negative"] }, score: { type: "number" } },
      required: ["sentiment"],
      additionalProperties: false,
    };
    const jsonSchema = chat({
      response_format: { type: "json_schema", json_schema: { name: "s", strict: true, schema } },
    });
    assert.equal(valid(jsonObject, text('{"a": 1}'), false), true);
    assert.equal(valid(jsonObject, text('{"a": 1'), false), false);
    assert.equal(
      valid(jsonObject, text('```json\n{"a": 1}\n```'), false),
      false,
      "a fenced answer is not JSON",
    );
    assert.equal(valid(jsonSchema, text('{"sentiment": "positive", "score": 0.9}'), false), true);
    assert.equal(valid(jsonSchema, text('{"sentiment": "meh"}'), false), false, "not in the enum");
    assert.equal(valid(jsonSchema, text('{"score": 1}'), false), false, "required missing");
    assert.equal(valid(jsonSchema, text('{"sentiment": "negative", "x": 1}'), false), false, "additional");
    assert.equal(valid(jsonSchema, text("not json"), false), false);
    assert.equal(
      valid(
        chat({ response_format: { type: "json_schema", json_schema: { name: "s" } } }),
        text("[1]"),
        false,
      ),
      true,
      "no schema given: parsing is the check",
    );
    assert.equal(valid(chat(), text('{"a": 1}'), false), null, "JSON not asked");
    assert.equal(valid(chat({ response_format: { type: "text" } }), text("{}"), false), null);
    assert.equal(valid(jsonObject, text("", { toolCalls: 1 }), false), null);
    assert.equal(valid(jsonObject, text("I can't help with that."), true), null, "a refusal counts as one");
    assert.equal(valid(jsonObject, text('{"a"', { complete: false }), false), null);
    const f = featuresOf(
      jsonSchema,
      answerOfChoices(choices({ role: "assistant", content: '{"sentiment": "x"}' })),
    );
    assert.equal(f.valid, false);
  });

  test("validity: a structured-output schema (anyOf with null, formats) is checked; one that does not compile leaves parsing as the check", () => {
    const asks = (schema: unknown) =>
      chat({ response_format: { type: "json_schema", json_schema: { name: "s", schema } } });
    const dated = asks({
      properties: { at: { anyOf: [{ format: "date-time", type: "string" }, { type: "null" }] } },
      required: ["at"],
      type: "object",
    });
    assert.equal(valid(dated, text('{"at": "2026-12-07T10:00:00Z"}'), false), true);
    assert.equal(valid(dated, text('{"at": null}'), false), true);
    assert.equal(valid(dated, text('{"at": "tomorrow"}'), false), false);
    const broken = asks({ type: "object", required: "at" });
    assert.equal(valid(broken, text('{"b": 1}'), false), true);
    assert.equal(valid(broken, text("{"), false), false);
    // A client's pattern is not run (catastrophic backtracking): parsing is the check.
    const patterned = asks({ properties: { id: { pattern: "^(a+)+$", type: "string" } }, type: "object" });
    const started = performance.now();
    assert.equal(valid(patterned, text(`{"id": "${"a".repeat(27)}!"}`), false), true);
    assert.ok(performance.now() - started < 500, "the pattern was run");
    assert.equal(valid(patterned, text('{"id": 5}'), false), true);
  });

  test("metadata: string values, at most 16 keys, keys and values cut to 64 characters", () => {
    const metadata: Record<string, unknown> = {
      tenant: "acme",
      n: 3,
      nested: { a: 1 },
      long: "v".repeat(100),
    };
    for (let i = 0; i < 20; i++) metadata[`k${i}`] = `${i}`;
    const f = featuresOf(chat({ metadata }), undefined);
    assert.equal(Object.keys(f.metadata ?? {}).length, 16);
    assert.equal(f.metadata?.tenant, "acme");
    assert.equal(f.metadata?.long, "v".repeat(64));
    assert.equal("n" in (f.metadata ?? {}), false);
    assert.equal("metadata" in featuresOf(chat({ metadata: { n: 1 } }), undefined), false);
  });
});

const chunk = (delta: Json, finish: string | null = null): ChatChunk => ({
  id: "c",
  object: "chat.completion.chunk",
  model: "m",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe("a streamed answer's facts", () => {
  test("text, tool calls (by index), refusal and finish, as the plain answer's would be", () => {
    const s = new StreamedAnswer(false);
    for (const c of [
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "pos" }),
      chunk({ content: "itive" }),
      chunk({}, "stop"),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } },
    ])
      s.add(c);
    assert.deepEqual(s.facts(), text("positive"));
    const t = new StreamedAnswer(false);
    t.add(chunk({ tool_calls: [{ index: 0, id: "a", function: { name: "x", arguments: "" } }] }));
    t.add(chunk({ tool_calls: [{ index: 0, function: { arguments: "{}" } }] }));
    t.add(chunk({ tool_calls: [{ index: 1, id: "b", function: { name: "y", arguments: "{}" } }] }));
    t.add(chunk({}, "tool_calls"));
    assert.deepEqual([t.facts().toolCalls, t.facts().finishReason], [2, "tool_calls"]);
    const r = new StreamedAnswer(false);
    r.add(chunk({ refusal: "I can't" }));
    r.add(chunk({ refusal: " do that." }, "stop"));
    assert.equal(r.facts().refusal, "I can't do that.");
  });

  test("without need of the whole text only its beginning is kept, and it says so", () => {
    const cut = new StreamedAnswer(false);
    const whole = new StreamedAnswer(true);
    for (let i = 0; i < 3000; i++) {
      cut.add(chunk({ content: "ab" }));
      whole.add(chunk({ content: "ab" }));
    }
    assert.equal(cut.facts().complete, false);
    assert.ok(cut.facts().text.length <= TEXT_LIMIT);
    assert.equal(whole.facts().complete, true);
    assert.equal(whole.content.length, 6000);
  });
});
