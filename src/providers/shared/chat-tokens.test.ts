import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, describe, test } from "node:test";
import { Tiktoken } from "js-tiktoken/lite";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import { encodingFor } from "./chat-tokens.ts";
import { createChatTokenCounter } from "./token-worker.ts";

// OpenAI cookbook, "How to count tokens with tiktoken": the example conversation that
// num_tokens_from_messages counts as 129 tokens for gpt-3.5-turbo / gpt-4 (cl100k_base) and
// 124 for gpt-4o / gpt-4o-mini (o200k_base), the counts the OpenAI API reported for it.
const COOKBOOK_MESSAGES = [
  {
    role: "system",
    content:
      "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
  },
  { role: "system", name: "example_user", content: "New synergies will help drive top-line growth." },
  {
    role: "system",
    name: "example_assistant",
    content: "Things working well together will increase revenue.",
  },
  {
    role: "system",
    name: "example_user",
    content:
      "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
  },
  {
    role: "system",
    name: "example_assistant",
    content: "Let's talk later when we're less busy about how to do better.",
  },
  {
    role: "user",
    content: "This late pivot means we don't have time to boil the ocean for the client deliverable.",
  },
];

describe("chat token counting (tiktoken in a worker)", () => {
  const counter = createChatTokenCounter();
  after(() => counter.close());

  test("importing the gateway starts no worker and loads no rank file; the first count does", () => {
    // A fresh process: in this one another suite may have counted already.
    const probe = `
      const h = await import(${JSON.stringify(new URL("../../modules/gateway/http/handler.ts", import.meta.url).href)});
      const w = await import(${JSON.stringify(new URL("./token-worker.ts", import.meta.url).href)});
      const c = w.sharedChatTokenCounter();
      const before = c.running;
      const n = await c.count("cl100k_base", [{ role: "user", content: "hi" }]);
      console.log(JSON.stringify([before, c.running, [...c.asked], n]));
      await c.close();`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", probe], {
      encoding: "utf8",
      env: {}, // nothing of the caller's: the probe needs no variable (test-env.test.ts)
    });
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), [false, true, ["cl100k_base"], 8]);
  });

  test("encodings as the cookbook shows them: 'tiktoken is great!' and 'antidisestablishmentarianism'", async () => {
    assert.deepEqual(
      await counter.lengths("cl100k_base", ["tiktoken is great!", "antidisestablishmentarianism"]),
      [6, 6],
    );
    assert.deepEqual(await counter.lengths("o200k_base", ["antidisestablishmentarianism"]), [6]);
    // The ids themselves, on this thread, from the same package the worker loads.
    const cl = new Tiktoken(cl100k);
    assert.deepEqual(cl.encode("tiktoken is great!"), [83, 1609, 5963, 374, 2294, 0]);
    assert.deepEqual(cl.encode("antidisestablishmentarianism"), [519, 85342, 34500, 479, 8997, 2191]);
  });

  test("the cookbook's example conversation: 129 tokens on cl100k_base, 124 on o200k_base", async () => {
    assert.equal(await counter.count("cl100k_base", COOKBOOK_MESSAGES), 129);
    assert.equal(await counter.count("o200k_base", COOKBOOK_MESSAGES), 124);
  });

  test("beyond the cookbook: text parts, tool calls and tool definitions count; images do not", async () => {
    const cl = new Tiktoken(cl100k);
    const n = (s: string) => cl.encode(s).length;
    const count = (messages: Record<string, unknown>[], tools?: Record<string, unknown>[]) =>
      counter.count("cl100k_base", messages, tools);
    const user = { role: "user", content: "Weather in Oslo?" };
    const base = await count([user]);
    assert.equal(base, 3 + n("user") + n("Weather in Oslo?") + 3);
    const parts = {
      role: "user",
      content: [
        { type: "text", text: "Weather in Oslo?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
      ],
    };
    assert.equal(await count([parts]), base);
    const call = {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
      ],
    };
    assert.equal(
      await count([user, call]),
      base + 3 + n("assistant") + n("get_weather") + n('{"city":"Oslo"}'),
    );
    const parameters = { type: "object", properties: { city: { type: "string" } } };
    const tool = {
      type: "function",
      function: { name: "get_weather", description: "Today's weather", parameters },
    };
    assert.equal(
      await count([user], [tool]),
      base + 7 + n("get_weather") + n("Today's weather") + n(JSON.stringify(parameters)) + 12,
    );
  });

  test("concurrent counts each get their own answer", async () => {
    const texts = ["a", "hello world", "antidisestablishmentarianism", "tiktoken is great!"];
    const got = await Promise.all(texts.map((t) => counter.lengths("cl100k_base", [t])));
    assert.deepEqual(got, [[1], [2], [6], [6]]);
  });

  test("the encoding by model id: o200k_base for GPT-4o onwards, cl100k_base for GPT-4, 3.5 and the rest", () => {
    for (const id of ["gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "gpt-5", "o3-mini", "o4-mini"])
      assert.equal(encodingFor(id), "o200k_base", id);
    for (const id of ["gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "sim", "llama-3.1-8b", ""])
      assert.equal(encodingFor(id), "cl100k_base", id);
  });
});
