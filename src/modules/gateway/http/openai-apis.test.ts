import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type Clock, manualClock, systemClock } from "../../../lib/clock.ts";
import { createLogger } from "../../../lib/logger.ts";
import {
  anthropicToOpenAIRequest,
  openAIToAnthropicResponse,
  openAIToAnthropicStream,
} from "../../../providers/index.ts";
import { createSimulatorAdapter } from "../../../providers/simulator/adapter.ts";
import type { ChatChunk, Json, ProviderAdapter } from "../../../providers/types.ts";
import { createTokenBuckets, type TokenBuckets } from "../limits/index.ts";
import type { RoutableVersion, RoutingSnapshot } from "../routing/snapshot.ts";
import type { GatewayDeps, GatewayLogEntry } from "./deps.ts";
import { createGatewayHandler } from "./handler.ts";

/*
 * OpenAI's Responses API, legacy Completions and model retrieval, the request id and the
 * rate-limit headers, through the official SDKs against a loopback gateway serving the
 * simulator (its answers: text, or a tool call when tools are offered).
 */

const version: RoutableVersion = {
  id: "ver_1",
  model: "chat",
  version: "1.0.0",
  status: "production",
  provider: "simulator",
  providerModelId: "sim",
  endpoint: null,
  parameters: { latencyMs: { p50: 0, p95: 0 }, seed: 3, quality: { success: 1 }, tokens: { output: 6 } },
  refusal: null,
  price: { inputPer1kUsd: 1, outputPer1kUsd: 2 },
};
const snapshot: RoutingSnapshot = {
  position: 1,
  models: new Map([
    [
      "chat",
      {
        id: "mdl_1",
        name: "chat",
        aliases: { production: "1.0.0" },
        shadow: null,
        splitScope: null,
        versions: new Map([["1.0.0", version]]),
        byId: new Map([["ver_1", version]]),
        split: null,
        fallback: [],
        allowPinning: false,
        timeouts: { totalMs: 5000, firstByteMs: 5000, idleMs: 5000 },
        breaker: null,
      },
    ],
  ]),
};

/** A loopback gateway over the simulator, with these token buckets; the log collects entries. */
async function startGateway(
  buckets: TokenBuckets,
  logged: GatewayLogEntry[],
  clock: Clock,
  adapter: ProviderAdapter = createSimulatorAdapter({ clock: systemClock, random: () => 0.5 }),
) {
  const deps: GatewayDeps = {
    routing: { current: () => snapshot, onChange: () => {} },
    authenticate: async (t) => (t === "good" ? { tokenId: "tok_1", name: "bot", roles: ["agent"] } : null),
    adapters: { simulator: adapter } as GatewayDeps["adapters"],
    execute: async (chain, attempt, o) => ({
      result: await attempt(chain[0]!, o.signal, 1),
      servedBy: chain[0]!,
      path: [{ versionId: "ver_1", version: "1.0.0", outcome: "served", attempts: 1, durationMs: 1 }],
    }),
    translate: {
      fromAnthropicRequest: (body) => anthropicToOpenAIRequest(body as never),
      toAnthropicResponse: (resp, model) => ({ ...(openAIToAnthropicResponse(resp) as Json), model }),
      toAnthropicStream: async function* (chunks, model) {
        for await (const e of openAIToAnthropicStream(chunks, { model }))
          yield { event: e.type, data: e as unknown as Json };
      },
    },
    readBody: async (req) => {
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      return Buffer.concat(parts);
    },
    rateLimit: (key) => buckets.take(key),
    log: (e) => logged.push(e),
    now: () => clock.now(),
    feedback: async () => ({ status: 202, body: {} }),
    apiKeyFor: () => undefined,
    bodies: { mode: "off" },
  };
  const handler = createGatewayHandler(deps, createLogger("silent"));
  const server = createServer((req, res) => void handler.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const BURST = 100;

describe("OpenAI's other APIs through the official SDKs", () => {
  const logged: GatewayLogEntry[] = [];
  // A stopped clock: the bucket only drains, so `remaining` falls by one per request.
  const clock = manualClock(new Date("2026-12-07T12:00:00Z"));
  let server: Server;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    const g = await startGateway(createTokenBuckets({ ratePerSec: 2, burst: BURST, clock }), logged, clock);
    server = g.server;
    openai = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: "good", maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: g.url, apiKey: "good", maxRetries: 0 });
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  test("responses.create: a message with output_text, usage, the request id, logged as `responses`", async () => {
    const r = await openai.responses.create({
      model: "chat",
      input: "Where is order 1234?",
      instructions: "Be brief.",
    });
    assert.match(r.id, /^resp_/);
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.equal(r.output[0]?.type, "message");
    assert.ok(r.output_text.length > 0, "the SDK computes output_text from the output items");
    assert.equal(r.usage?.output_tokens, 6);
    assert.equal(r.usage?.total_tokens, (r.usage?.input_tokens ?? 0) + 6);
    const entry = logged.at(-1)!;
    assert.equal(r._request_id, entry.id, "the SDK reads the log's request id");
    assert.equal(r.id, `resp_${entry.id.slice(4)}`);
    assert.deepEqual(
      [entry.endpoint, entry.stream, entry.status, entry.tokensOut],
      ["responses", false, 200, 6],
    );
  });

  test("responses streaming: the SDK's event sequence and final text", async () => {
    const stream = await openai.responses.create({ model: "chat", input: "hello", stream: true });
    const types: string[] = [];
    let text = "";
    let final: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === "response.output_text.delta") text += e.delta;
      if (e.type === "response.completed") final = e.response;
    }
    assert.deepEqual(types.slice(0, 4), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    assert.deepEqual(types.slice(-4), [
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    assert.ok(text.length > 0);
    assert.ok(final);
    assert.equal((final.output[0] as { content: { text: string }[] }).content[0]?.text, text);
    // The SDK's own stream helper assembles the same answer.
    const helper = openai.responses.stream({ model: "chat", input: "hello" });
    const assembled = await helper.finalResponse();
    assert.equal(assembled.output_text, text);
    assert.equal(logged.at(-1)!.endpoint, "responses");
    assert.equal(logged.at(-1)!.stream, true);
  });

  test("a function tool round trip: function_call out, function_call_output in, text back", async () => {
    const tools: OpenAI.Responses.Tool[] = [
      {
        type: "function",
        name: "get_order",
        description: "An order's status",
        parameters: { type: "object", properties: { id: { type: "string" } }, required: ["id"] },
        strict: false,
      },
    ];
    const first = await openai.responses.create({ model: "chat", input: "Where is order 1234?", tools });
    const call = first.output.find((o) => o.type === "function_call");
    assert.ok(call && call.type === "function_call");
    assert.equal(call.name, "get_order");
    assert.ok(call.call_id);
    assert.doesNotThrow(() => JSON.parse(call.arguments));
    assert.equal(first.output_text, "");
    const second = await openai.responses.create({
      model: "chat",
      tools,
      input: [
        { role: "user", content: "Where is order 1234?" },
        call,
        { type: "function_call_output", call_id: call.call_id, output: '{"status":"shipped"}' },
      ],
    });
    assert.equal(second.output[0]?.type, "message");
    assert.ok(second.output_text.length > 0);
    // Streamed, the call's arguments arrive as deltas and the completed response holds the item.
    const stream = await openai.responses.create({
      model: "chat",
      input: "order 1234?",
      tools,
      stream: true,
    });
    let args = "";
    let done: OpenAI.Responses.Response | undefined;
    for await (const e of stream) {
      if (e.type === "response.function_call_arguments.delta") args += e.delta;
      if (e.type === "response.completed") done = e.response;
    }
    const streamed = done?.output[0];
    assert.ok(streamed?.type === "function_call");
    assert.equal(streamed.arguments, args);
    assert.equal(streamed.name, "get_order");
  });

  test("completions.create, plain and streamed, as text_completion", async () => {
    const r = await openai.completions.create({ model: "chat", prompt: "Say this is a test", max_tokens: 4 });
    assert.equal(r.object, "text_completion");
    assert.match(r.id, /^cmpl-/);
    assert.ok(r.choices[0]?.text);
    assert.equal(r.choices[0]?.finish_reason, "length");
    assert.equal(r._request_id, logged.at(-1)!.id);
    assert.equal(logged.at(-1)!.endpoint, "completions");
    const stream = await openai.completions.create({
      model: "chat",
      prompt: "Say this is a test",
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      text += c.choices[0]?.text ?? "";
      usage = c.usage ?? usage;
    }
    assert.ok(text.length > 0);
    assert.equal(usage?.completion_tokens, 6);
    assert.deepEqual([logged.at(-1)!.endpoint, logged.at(-1)!.stream], ["completions", true]);
  });

  test("models.retrieve: a listed model, or 404 in OpenAI's shape", async () => {
    const m = await openai.models.retrieve("chat");
    assert.deepEqual([m.id, m.object, m.owned_by], ["chat", "model", "modelgov"]);
    assert.ok(m._request_id?.startsWith("req_"));
    await assert.rejects(openai.models.retrieve("nope"), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.match(e.message, /'nope' does not exist/);
      assert.ok(e.requestID?.startsWith("req_"), "an error carries the request id too");
      return true;
    });
  });

  test("bad input is a 400 naming the field, which the SDK reads as `param`", async () => {
    const cases: [() => Promise<unknown>, string, RegExp][] = [
      [
        () => openai.responses.create({ model: "chat", input: "x", previous_response_id: "resp_1" }),
        "previous_response_id",
        /keeps no responses/,
      ],
      [() => openai.responses.create({ model: "chat", input: "x", store: true }), "store", /does not store/],
      [
        () => openai.responses.create({ model: "chat", input: "x", tools: [{ type: "web_search" }] }),
        "tools.0.type",
        /web_search/,
      ],
      [() => openai.responses.create({ input: "x" } as never), "model", /required/],
      [() => openai.completions.create({ model: "chat", prompt: "x", echo: true }), "echo", /echo/],
      [() => openai.completions.create({ model: "chat", prompt: ["a", "b"] }), "prompt", /one prompt/],
    ];
    for (const [call, param, message] of cases)
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError, String(e));
        assert.equal(e.param, param);
        assert.match(e.message, message);
        return true;
      });
  });

  test("a refusal before the token is known carries the request id, and no rate-limit headers", async () => {
    const stranger = new OpenAI({ baseURL: openai.baseURL, apiKey: "wrong", maxRetries: 0 });
    await assert.rejects(stranger.responses.create({ model: "chat", input: "hi" }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.AuthenticationError);
      assert.ok(e.requestID?.startsWith("req_"));
      assert.equal(e.headers?.get("request-id"), e.requestID);
      assert.equal(e.headers?.get("x-ratelimit-remaining-requests"), null);
      return true;
    });
  });

  test("x-ratelimit-* headers from the caller's bucket, falling by one per request", async () => {
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { response } = await openai.models.list().withResponse();
      assert.equal(response.headers.get("x-ratelimit-limit-requests"), String(BURST));
      seen.push(Number(response.headers.get("x-ratelimit-remaining-requests")));
      assert.match(response.headers.get("x-ratelimit-reset-requests") ?? "", /^(\d+m)?\d+(\.\d+)?s$/);
    }
    assert.equal(seen[1], seen[0]! - 1);
    assert.equal(seen[2], seen[1]! - 1);
    // The clock stands still: the bucket is full again after (used / 2 per s) seconds.
    const { response } = await openai.models.list().withResponse();
    const used = BURST - Number(response.headers.get("x-ratelimit-remaining-requests"));
    assert.equal(
      response.headers.get("x-ratelimit-reset-requests"),
      `${used / 2}s`.replace(/^(\d+)\.0s$/, "$1s"),
    );
  });

  test("the Anthropic SDK reads the same request id, and its own rate-limit headers", async () => {
    const { data, response, request_id } = await anthropic.messages
      .create({ model: "chat", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    const entry = logged.at(-1)!;
    assert.equal(request_id, entry.id);
    assert.equal((data as { _request_id?: string | null })._request_id, entry.id);
    assert.equal(response.headers.get("x-modelgov-request-id"), entry.id);
    assert.equal(entry.endpoint, "messages");
    assert.equal(response.headers.get("anthropic-ratelimit-requests-limit"), String(BURST));
    const remaining = Number(response.headers.get("anthropic-ratelimit-requests-remaining"));
    assert.equal(String(remaining), response.headers.get("x-ratelimit-remaining-requests"));
    const reset = response.headers.get("anthropic-ratelimit-requests-reset") ?? "";
    assert.match(reset, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const refillMs = ((BURST - remaining) / 2) * 1000;
    assert.equal(Date.parse(reset), Math.ceil((clock.now().getTime() + refillMs) / 1000) * 1000);
    // An error answer carries the id too, where the SDK looks for it.
    await assert.rejects(
      anthropic.messages.create({
        model: "nope",
        max_tokens: 16,
        messages: [{ role: "user", content: "hi" }],
      }),
      (e: unknown) => e instanceof Anthropic.APIError && !!e.requestID?.startsWith("req_"),
    );
  });
});

test("a 429 carries the rate-limit headers too: nothing remains, and when the bucket is full again", async () => {
  const clock = manualClock(new Date("2026-12-07T12:00:00Z"));
  const g = await startGateway(createTokenBuckets({ ratePerSec: 0.5, burst: 1, clock }), [], clock);
  try {
    const openai = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: "good", maxRetries: 0 });
    await openai.models.list();
    await assert.rejects(openai.models.list(), (e: unknown) => {
      assert.ok(e instanceof OpenAI.RateLimitError);
      assert.equal(e.headers?.get("x-ratelimit-remaining-requests"), "0");
      assert.equal(e.headers?.get("x-ratelimit-limit-requests"), "1");
      assert.equal(e.headers?.get("x-ratelimit-reset-requests"), "2s");
      assert.equal(e.headers?.get("retry-after"), "2");
      assert.ok(e.requestID?.startsWith("req_"));
      return true;
    });
  } finally {
    await new Promise<void>((r) => g.server.close(() => r()));
  }
});

test("a stream that breaks after it began ends with an error event the SDK raises; the log says 502", async () => {
  const clock = manualClock();
  const logged: GatewayLogEntry[] = [];
  const breaking: ProviderAdapter = {
    kind: "simulator",
    complete: async () => {
      throw new Error("not used");
    },
    stream: async () => ({
      chunks: (async function* (): AsyncGenerator<ChatChunk> {
        yield {
          id: "c",
          object: "chat.completion.chunk",
          model: "sim",
          choices: [{ index: 0, delta: { content: "Half an ans" }, finish_reason: null }],
        };
        throw new Error("connection reset");
      })(),
      done: Promise.resolve({ inputTokens: 1, outputTokens: 1 }),
    }),
  };
  const g = await startGateway(
    createTokenBuckets({ ratePerSec: 1, burst: 10, clock }),
    logged,
    clock,
    breaking,
  );
  try {
    const openai = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: "good", maxRetries: 0 });
    const stream = await openai.responses.create({ model: "chat", input: "hi", stream: true });
    let text = "";
    await assert.rejects(
      (async () => {
        for await (const e of stream) if (e.type === "response.output_text.delta") text += e.delta;
      })(),
      (e: unknown) => e instanceof OpenAI.APIError && /stream interrupted: connection reset/.test(e.message),
    );
    assert.equal(text, "Half an ans");
    assert.deepEqual([logged.at(-1)?.endpoint, logged.at(-1)?.status], ["responses", 502]);
  } finally {
    await new Promise<void>((r) => g.server.close(() => r()));
  }
});
