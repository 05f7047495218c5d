import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, test } from "node:test";
import { countChatTokens, encodingFor, isLoaded, tokenizer } from "./chat-tokens.ts";

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

describe("chat token counting (tiktoken)", () => {
  test("the rank files load only when a count needs them (not with the gateway), once", async () => {
    // A fresh process: in this one another suite may have counted already.
    const probe = `
      await import(${JSON.stringify(new URL("../../modules/gateway/http/handler.ts", import.meta.url).href)});
      const t = await import(${JSON.stringify(new URL("./chat-tokens.ts", import.meta.url).href)});
      const before = [t.isLoaded("cl100k_base"), t.isLoaded("o200k_base")];
      await t.tokenizer("cl100k_base");
      console.log(JSON.stringify([...before, t.isLoaded("cl100k_base"), t.isLoaded("o200k_base")]));`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", probe], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "" },
    });
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1)!), [false, false, true, false]);
    const a = tokenizer("cl100k_base");
    assert.equal(isLoaded("cl100k_base"), true);
    assert.equal(await tokenizer("cl100k_base"), await a);
  });

  test("encodings as the cookbook shows them: 'tiktoken is great!' and 'antidisestablishmentarianism'", async () => {
    const cl = await tokenizer("cl100k_base");
    const o = await tokenizer("o200k_base");
    assert.deepEqual(cl.encode("tiktoken is great!"), [83, 1609, 5963, 374, 2294, 0]);
    assert.deepEqual(cl.encode("antidisestablishmentarianism"), [519, 85342, 34500, 479, 8997, 2191]);
    assert.deepEqual(o.encode("antidisestablishmentarianism"), [493, 129901, 376, 160388, 21203, 2367]);
  });

  test("the cookbook's example conversation: 129 tokens on cl100k_base, 124 on o200k_base", async () => {
    assert.equal(countChatTokens(await tokenizer("cl100k_base"), COOKBOOK_MESSAGES), 129);
    assert.equal(countChatTokens(await tokenizer("o200k_base"), COOKBOOK_MESSAGES), 124);
  });

  test("beyond the cookbook: text parts, tool calls and tool definitions count; images do not", async () => {
    const enc = await tokenizer("cl100k_base");
    const n = (s: string) => enc.encode(s).length;
    const user = { role: "user", content: "Weather in Oslo?" };
    const base = countChatTokens(enc, [user]);
    assert.equal(base, 3 + n("user") + n("Weather in Oslo?") + 3);
    const parts = {
      role: "user",
      content: [
        { type: "text", text: "Weather in Oslo?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
      ],
    };
    assert.equal(countChatTokens(enc, [parts]), base);
    const call = {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
      ],
    };
    assert.equal(
      countChatTokens(enc, [user, call]),
      base + 3 + n("assistant") + n("get_weather") + n('{"city":"Oslo"}'),
    );
    const parameters = { type: "object", properties: { city: { type: "string" } } };
    const tool = {
      type: "function",
      function: { name: "get_weather", description: "Today's weather", parameters },
    };
    assert.equal(
      countChatTokens(enc, [user], [tool]),
      base + 7 + n("get_weather") + n("Today's weather") + n(JSON.stringify(parameters)) + 12,
    );
  });

  test("the encoding by model id: o200k_base for GPT-4o onwards, cl100k_base for GPT-4, 3.5 and the rest", () => {
    for (const id of ["gpt-4o", "gpt-4o-mini", "gpt-4.1-nano", "gpt-5", "o3-mini", "o4-mini"])
      assert.equal(encodingFor(id), "o200k_base", id);
    for (const id of ["gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "sim", "llama-3.1-8b", ""])
      assert.equal(encodingFor(id), "cl100k_base", id);
  });
});
