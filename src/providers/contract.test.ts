import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { harnesses } from "../test-support/provider-harnesses.ts";
import type { CallContext, ChatChunk, ChatRequest, Json, UpstreamTarget } from "./types.ts";
import { UpstreamError } from "./types.ts";

/** One contract, every adapter: what the gateway and the resilience layer rely on. */

let seq = 0;
const ctx = (signal: AbortSignal = new AbortController().signal): CallContext => ({
  signal,
  requestId: `req_contract_${++seq}`,
});

const hello: ChatRequest = {
  model: "public-name",
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Say hello to the contract suite." },
  ],
};

const tools = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    },
  },
];
const weather: ChatRequest = {
  model: "public-name",
  messages: [{ role: "user", content: "Weather in Paris?" }],
  tools,
};

async function collect(chunks: AsyncIterable<ChatChunk>): Promise<ChatChunk[]> {
  const out: ChatChunk[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

const deltaOf = (c: ChatChunk) => (c.choices[0] as { delta?: Json } | undefined)?.delta ?? {};
const finishOf = (c: ChatChunk) =>
  (c.choices[0] as { finish_reason?: string | null } | undefined)?.finish_reason;

/** Tool calls as a client assembles them from deltas. */
function assembleToolCalls(chunks: ChatChunk[]) {
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for (const c of chunks) {
    for (const t of (deltaOf(c).tool_calls ?? []) as Array<{ index: number; id?: string; function?: Json }>) {
      calls[t.index] ??= { id: "", name: "", arguments: "" };
      const call = calls[t.index]!;
      if (t.id) call.id = t.id;
      if (typeof t.function?.name === "string") call.name += t.function.name;
      if (typeof t.function?.arguments === "string") call.arguments += t.function.arguments;
    }
  }
  return calls;
}

async function rejection(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UpstreamError, `expected an UpstreamError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

for (const h of harnesses()) {
  describe(`provider contract: ${h.name}`, () => {
    before(() => h.start());
    after(() => h.stop());
    beforeEach(() => h.reset());
    const { adapter } = h;

    test("a plain completion has the chat.completion shape and usage", async () => {
      const r = await adapter.complete(hello, h.target(), ctx());
      assert.equal(r.response.object, "chat.completion");
      assert.equal(typeof r.response.id, "string");
      const choice = r.response.choices[0] as { message: Json; finish_reason: string };
      assert.equal(choice.message.role, "assistant");
      assert.ok(typeof choice.message.content === "string" && choice.message.content.length > 0);
      assert.equal(choice.finish_reason, "stop");
      assert.ok(r.usage.inputTokens > 0 && r.usage.outputTokens > 0);
      assert.deepEqual(
        [r.response.usage?.prompt_tokens, r.response.usage?.completion_tokens],
        [r.usage.inputTokens, r.usage.outputTokens],
      );
      assert.ok(r.upstreamMs >= 0);
    });

    test("a stream yields ordered chunks ending with finish_reason and usage; done has the usage", async () => {
      const s = await adapter.stream(hello, h.target(), ctx());
      const chunks = await collect(s.chunks);
      assert.ok(chunks.length >= 4, `only ${chunks.length} chunks`);
      assert.ok(chunks.every((c) => c.object === "chat.completion.chunk" && c.id === chunks[0]?.id));
      assert.equal(deltaOf(chunks[0]!).role, "assistant");
      const text = chunks.map((c) => deltaOf(c).content ?? "").join("");
      assert.ok(text.length > 0);
      const finishAt = chunks.findIndex((c) => finishOf(c));
      assert.equal(finishOf(chunks[finishAt]!), "stop");
      assert.ok(
        chunks.slice(finishAt + 1).every((c) => !deltaOf(c).content),
        "content after the finish chunk",
      );
      const last = chunks[chunks.length - 1]!;
      assert.ok(last.usage && last.usage.prompt_tokens > 0 && last.usage.completion_tokens > 0);
      assert.deepEqual(await s.done, {
        inputTokens: last.usage.prompt_tokens,
        outputTokens: last.usage.completion_tokens,
      });
    });

    test("max_tokens cutting the answer short finishes with length", async () => {
      const r = await adapter.complete({ ...hello, max_tokens: 3 }, h.target(), ctx());
      assert.equal((r.response.choices[0] as Json).finish_reason, "length");
      assert.ok(r.usage.outputTokens <= 3);
    });

    test("tool call round trip: tools in, canonical tool_calls out, the tool result answered", async () => {
      const first = await adapter.complete(weather, h.target(), ctx());
      const choice = first.response.choices[0] as { message: Json; finish_reason: string };
      assert.equal(choice.finish_reason, "tool_calls");
      const [call] = choice.message.tool_calls as Array<{ id: string; type: string; function: Json }>;
      assert.ok(call && typeof call.id === "string" && call.id.length > 0);
      assert.equal(call.type, "function");
      assert.equal(call.function.name, "get_weather");
      assert.equal(typeof JSON.parse(String(call.function.arguments)).city, "string");

      const messages = [
        ...weather.messages,
        choice.message,
        { role: "tool", tool_call_id: call.id, content: '{"temp_c":21}' },
      ];
      const second = await adapter.complete({ ...weather, messages }, h.target(), ctx());
      const answer = second.response.choices[0] as { message: Json; finish_reason: string };
      assert.equal(answer.finish_reason, "stop");
      assert.ok(typeof answer.message.content === "string" && answer.message.content.length > 0);
    });

    test("a streamed tool call assembles to the same canonical tool_calls", async () => {
      const s = await adapter.stream(weather, h.target(), ctx());
      const chunks = await collect(s.chunks);
      const [call, extra] = assembleToolCalls(chunks);
      assert.equal(extra, undefined);
      assert.ok(call?.id);
      assert.equal(call.name, "get_weather");
      assert.equal(typeof JSON.parse(call.arguments).city, "string");
      assert.equal(chunks.map(finishOf).find(Boolean), "tool_calls");
      assert.ok((await s.done).outputTokens > 0);
    });

    if (h.statuses.includes(429))
      test("429 with Retry-After is an http error with status and retryAfterMs, retryable", async () => {
        const target = h.failing(429, "2")!;
        const e = await rejection(adapter.complete(hello, target, ctx()));
        assert.deepEqual([e.kind, e.status, e.retryAfterMs, e.retryable], ["http", 429, 2000, true]);
      });

    for (const status of [500, 503].filter((x) => h.statuses.includes(x))) {
      test(`${status} is retryable, from complete() and from stream()`, async () => {
        const target = h.failing(status)!;
        const e = await rejection(adapter.complete(hello, target, ctx()));
        assert.deepEqual([e.kind, e.status, e.retryable], ["http", status, true]);
        const s = await rejection(adapter.stream(hello, h.failing(status)!, ctx()));
        assert.deepEqual([s.kind, s.status, s.retryable], ["http", status, true]);
      });
    }

    test("400 (an invalid request) is not retryable", async () => {
      const e = await rejection(adapter.complete({ ...hello, messages: [] }, h.target(), ctx()));
      assert.deepEqual([e.kind, e.status, e.retryable], ["http", 400, false]);
    });

    test("no first byte within firstByteMs is a timeout, for plain calls and streams", async () => {
      const timeouts = { firstByteMs: 60, totalMs: 5_000 };
      const started = Date.now();
      const e = await rejection(adapter.complete(hello, h.silent(timeouts), ctx()));
      assert.deepEqual([e.kind, e.retryable], ["timeout", true]);
      const s = await rejection(adapter.stream(hello, h.silent(timeouts), ctx()));
      assert.equal(s.kind, "timeout");
      assert.ok(Date.now() - started < 2_000);
    });

    test("a stream going quiet for idleMs mid-way fails with a timeout after its first chunks", async () => {
      const s = await adapter.stream(hello, h.stalling({ firstByteMs: 2_000, idleMs: 50 }), ctx());
      const seen: ChatChunk[] = [];
      const e = await rejection(
        (async () => {
          for await (const c of s.chunks) seen.push(c);
        })(),
      );
      assert.equal(e.kind, "timeout");
      assert.ok(seen.length >= 1);
      assert.equal((await rejection(s.done)).kind, "timeout");
    });

    test("a slow consumer is not an idle upstream", async () => {
      const s = await adapter.stream(hello, h.target({ idleMs: 40 }), ctx());
      let n = 0;
      for await (const _ of s.chunks) {
        n++;
        if (n <= 2) await delay(100);
      }
      assert.ok(n >= 4);
      assert.ok((await s.done).outputTokens > 0);
    });

    test("totalMs bounds the whole call", async () => {
      const e = await rejection(
        adapter.complete(hello, h.slow(2_000, { totalMs: 80, firstByteMs: 5_000 }), ctx()),
      );
      assert.equal(e.kind, "timeout");
    });

    test("aborting through the signal ends the call as aborted, promptly", async () => {
      const controller = new AbortController();
      const started = Date.now();
      const call = adapter.complete(hello, h.slow(3_000), ctx(controller.signal));
      await delay(30);
      controller.abort();
      const e = await rejection(call);
      assert.deepEqual([e.kind, e.retryable], ["aborted", false]);
      assert.ok(Date.now() - started < 1_000);
      const already = AbortSignal.abort();
      assert.equal((await rejection(adapter.stream(hello, h.target(), ctx(already)))).kind, "aborted");
    });

    const refused = h.refused;
    if (refused)
      test("a refused connection is a connect error, retryable", async () => {
        const e = await rejection(adapter.complete(hello, await refused(), ctx()));
        assert.deepEqual([e.kind, e.retryable], ["connect", true]);
      });

    const redirecting = h.redirecting;
    if (redirecting)
      test("a 302 is an http error and is not followed", async () => {
        const { target, followed } = redirecting();
        const e = await rejection(adapter.complete(hello, target, ctx()));
        assert.deepEqual([e.kind, e.status, e.retryable], ["http", 302, false]);
        await delay(20);
        assert.equal(followed(), 0);
      });

    // Embeddings are optional: a provider without them (Anthropic) leaves `embed` out, and the
    // gateway refuses before calling. Where offered, the gateway relies on the same contract.
    const embed = adapter.embed?.bind(adapter);
    const asEmbedding = (t: UpstreamTarget): UpstreamTarget => ({
      ...t,
      parameters: { ...t.parameters, embedding: { dimensions: 8 } },
    });
    if (!embed)
      test("no embed: this provider has no embeddings API", () => {
        assert.equal(adapter.kind, "anthropic");
      });
    else {
      test("embed: one vector per input, in order, of the dimensions asked; input tokens, no output tokens", async () => {
        const input = ["refund my order", [101, 102, 103], "hello"];
        const r = await embed({ input, dimensions: 4 }, asEmbedding(h.target()), ctx());
        assert.equal(r.vectors.length, 3);
        assert.ok(r.vectors.every((v) => v.length === 4 && v.every(Number.isFinite)));
        assert.deepEqual(
          r.vectors[0],
          (await embed({ input: ["refund my order"], dimensions: 4 }, asEmbedding(h.target()), ctx()))
            .vectors[0],
        );
        assert.ok(r.usage.inputTokens > 0);
        assert.equal(r.usage.outputTokens, 0);
        assert.ok(r.upstreamMs >= 0);
      });

      test("embed: a 503 is retryable, as on chat", async () => {
        const e = await rejection(embed({ input: ["x"] }, asEmbedding(h.failing(503)!), ctx()));
        assert.deepEqual([e.kind, e.status, e.retryable], ["http", 503, true]);
      });
    }
  });
}
