import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Agent } from "undici";
import { createLogger } from "../../../../lib/logger.ts";
import { createAdapters } from "../../../../providers/index.ts";
import type { Json } from "../../../../providers/types.ts";
import type { ObservedTokenCount } from "../../metrics.ts";
import type { ModelRoute, RoutableVersion, RoutingSnapshot } from "../../routing/snapshot.ts";
import { compileSplit } from "../../routing/split.ts";
import type { GatewayDeps, GatewayLogEntry } from "../deps.ts";
import { createGatewayHandler } from "../handler.ts";
import { requestIdOfMessageId } from "./ids.ts";
import { anthropicDialect } from "./translate.ts";

/** The official Anthropic SDK against a loopback gateway: real handler, translation and adapters. */

const listen = async (server: Server) => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
};

/** A loopback Anthropic upstream: count_tokens answers 1234, a plain Messages call one short answer. */
function fakeAnthropicUpstream() {
  const seen: { url: string; headers: IncomingHttpHeaders; body: Json }[] = [];
  const state: { fail?: { status: number; type: string; message: string } } = {};
  const server = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString()) as Json;
    seen.push({ url: req.url ?? "", headers: req.headers, body });
    const fail = state.fail;
    if (fail) {
      state.fail = undefined;
      res.writeHead(fail.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "error", error: { type: fail.type, message: fail.message } }));
      return;
    }
    const answer =
      req.url === "/v1/messages/count_tokens"
        ? { input_tokens: 1234 }
        : req.url === "/v1/messages" && body.stream !== true
          ? {
              id: "msg_01UpstreamOwnId",
              type: "message",
              role: "assistant",
              model: body.model,
              content: [{ type: "text", text: "Sunny." }],
              stop_reason: "end_turn",
              stop_sequence: null,
              usage: { input_tokens: 20, output_tokens: 2 },
            }
          : undefined;
    res.writeHead(answer ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(answer ?? { type: "error", error: { type: "not_found_error", message: "no" } }));
  });
  return { server, seen, state };
}

const version = (over: Partial<RoutableVersion> & Pick<RoutableVersion, "id" | "model" | "version">) =>
  ({
    status: "production",
    provider: "simulator",
    providerModelId: "sim",
    endpoint: null,
    // Seeded, no latency: the same request gets the same answer.
    parameters: { latencyMs: { p50: 0, p95: 0 }, seed: 7 },
    refusal: null,
    price: { inputPer1kUsd: 0, outputPer1kUsd: 0 },
    ...over,
  }) as RoutableVersion;

const route = (name: string, versions: RoutableVersion[], over: Partial<ModelRoute> = {}): ModelRoute => ({
  id: `mdl_${name}`,
  name,
  aliases: { production: versions[0]!.version },
  shadow: null,
  splitScope: null,
  versions: new Map(versions.map((v) => [v.version, v])),
  byId: new Map(versions.map((v) => [v.id, v])),
  split: null,
  fallback: [],
  allowPinning: true,
  timeouts: { totalMs: 5000, firstByteMs: 5000, idleMs: 5000 },
  breaker: null,
  ...over,
});

describe("/v1/messages through the official Anthropic SDK", () => {
  const upstream = fakeAnthropicUpstream();
  const agent = new Agent();
  const logged: GatewayLogEntry[] = [];
  const counted: ObservedTokenCount[] = [];
  let gatewayServer: Server;
  let client: Anthropic;

  before(async () => {
    const upstreamUrl = await listen(upstream.server);
    const sim = version({ id: "ver_sim", model: "sim-chat", version: "1.0.0" });
    const claude = version({
      id: "ver_claude",
      model: "claude-chat",
      version: "1.0.0",
      provider: "anthropic",
      providerModelId: "claude-sonnet-4-5",
      endpoint: upstreamUrl,
      parameters: { temperature: 0.2, max_tokens: 512 },
    });
    // One model split between a simulator version and an Anthropic one, sticky by subject.
    const a = version({ id: "ver_split_a", model: "split-chat", version: "1.0.0" });
    const b = version({ ...claude, id: "ver_split_b", model: "split-chat", version: "2.0.0" });
    const split = compileSplit([
      { target: a, weight: 50 },
      { target: b, weight: 50 },
    ]);
    const snapshot: RoutingSnapshot = {
      position: 1,
      models: new Map([
        ["sim-chat", route("sim-chat", [sim])],
        ["claude-chat", route("claude-chat", [claude])],
        ["split-chat", route("split-chat", [a, b], { split, splitScope: "exp_1" })],
      ]),
    };
    const deps: GatewayDeps = {
      routing: { current: () => snapshot, onChange: () => {} },
      authenticate: async (t) => (t === "good" ? { tokenId: "tok_1", name: "bot", roles: ["agent"] } : null),
      adapters: createAdapters({ dispatcher: agent }) as unknown as GatewayDeps["adapters"],
      execute: async (chain, attempt, o) => ({
        result: await attempt(chain[0]!, o.signal, 1),
        servedBy: chain[0]!,
        path: [
          {
            versionId: chain[0]!.id,
            version: chain[0]!.version,
            outcome: "served",
            attempts: 1,
            durationMs: 1,
          },
        ],
      }),
      translate: anthropicDialect,
      readBody: async (req) => {
        const parts: Buffer[] = [];
        for await (const c of req) parts.push(c as Buffer);
        return Buffer.concat(parts);
      },
      rateLimit: () => ({ ok: true, retryAfterSec: 0, limit: 20, ratePerSec: 10 }),
      log: (e) => logged.push(e),
      observeTokenCount: (c) => counted.push(c),
      feedback: async () => ({ status: 202, body: {} }),
      apiKeyFor: (v) => (v.provider === "anthropic" ? "sk-ant-upstream" : undefined),
      bodies: { mode: "off" },
    };
    const handler = createGatewayHandler(deps, createLogger("silent"));
    gatewayServer = createServer((req, res) => void handler.handle(req, res));
    client = new Anthropic({ baseURL: await listen(gatewayServer), apiKey: "good", maxRetries: 0 });
  });
  after(async () => {
    gatewayServer.close();
    upstream.server.close();
    await agent.close();
  });

  const question = {
    system: "You are a weather bot.",
    messages: [{ role: "user" as const, content: "What is the weather in Oslo today?" }],
  };

  test("a plain answer's id is msg_… and decodes to the request id its log row and header carry", async () => {
    const { data, response } = await client.messages
      .create({ model: "sim-chat", max_tokens: 64, ...question })
      .withResponse();
    assert.match(data.id, /^msg_[0-9A-Za-z]{20,}$/);
    const requestId = response.headers.get("x-modelgov-request-id");
    assert.equal(requestIdOfMessageId(data.id), requestId);
    assert.equal(logged.at(-1)!.id, requestId);
  });

  test("an Anthropic version's own msg_ id is kept (its support can trace it); the header still links the log", async () => {
    const { data, response } = await client.messages
      .create({ model: "claude-chat", max_tokens: 64, ...question })
      .withResponse();
    assert.equal(data.id, "msg_01UpstreamOwnId");
    assert.equal(logged.at(-1)!.id, response.headers.get("x-modelgov-request-id"));
  });

  test("a stream's message_start id is msg_… too, and tool_use ids are toolu_…", async () => {
    const stream = client.messages.stream({
      model: "sim-chat",
      max_tokens: 64,
      ...question,
      tools: [
        {
          name: "get_weather",
          input_schema: { type: "object", properties: { city: { type: "string" } } },
        },
      ],
    });
    const final = await stream.finalMessage();
    assert.match(final.id, /^msg_[0-9A-Za-z]{20,}$/);
    const tool = final.content.find((b) => b.type === "tool_use");
    assert.ok(tool?.type === "tool_use");
    // The simulator's call id is call_sim_…: it reaches the client as toolu_call_sim_….
    assert.match(tool.id, /^toolu_call_sim_/);
    const plain = await client.messages.create({
      model: "sim-chat",
      max_tokens: 64,
      ...question,
      tools: [{ name: "get_weather", input_schema: { type: "object" } }],
    });
    assert.match((plain.content.find((b) => b.type === "tool_use") as { id: string }).id, /^toolu_call_sim_/);
  });

  test("max_tokens is required and must be a positive integer: the SDK's BadRequestError names it", async () => {
    const before = logged.length;
    await assert.rejects(
      client.messages.create({ model: "sim-chat", ...question } as never),
      (err: unknown) =>
        err instanceof Anthropic.BadRequestError &&
        err.status === 400 &&
        (err.error as { error?: { type?: string } }).error?.type === "invalid_request_error" &&
        /max_tokens: Field required/.test(err.message),
    );
    for (const bad of [0, 2.5, "64"])
      await assert.rejects(
        client.messages.create({ model: "sim-chat", max_tokens: bad, ...question } as never),
        (err: unknown) =>
          err instanceof Anthropic.BadRequestError &&
          /max_tokens: must be a positive integer/.test(err.message),
      );
    assert.equal(logged.length, before, "a refused request calls no model");
  });

  test("countTokens on a simulator version: tiktoken (cl100k_base) over the translated messages, same every time", async () => {
    const before = logged.length;
    const { data, response } = await client.messages
      .countTokens({ model: "sim-chat", ...question })
      .withResponse();
    // system (3 framing + 1 role + 6 text) + user (3 + 1 + 8) + 3 reply priming = 25, as tiktoken encodes them.
    assert.deepEqual(data, { input_tokens: 25 });
    assert.equal(response.headers.get("x-modelgov-token-count"), "tiktoken cl100k_base");
    assert.equal(response.headers.get("x-modelgov-model-version"), "sim-chat@1.0.0");
    assert.deepEqual(await client.messages.countTokens({ model: "sim-chat", ...question }), data);
    assert.equal(logged.length, before, "a count is not a model call: not logged");
    assert.deepEqual(counted.at(-1), {
      model: "sim-chat",
      version: "1.0.0",
      method: "tiktoken",
      outcome: "ok",
    });
  });

  test("countTokens on an Anthropic version asks the provider's count endpoint and returns its answer", async () => {
    const data = await client.messages.countTokens({
      model: "claude-chat",
      ...question,
      tools: [
        { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ],
    });
    assert.deepEqual(data, { input_tokens: 1234 });
    assert.deepEqual(counted.at(-1), {
      model: "claude-chat",
      version: "1.0.0",
      method: "provider",
      outcome: "ok",
    });
    const got = upstream.seen.at(-1)!;
    assert.equal(got.url, "/v1/messages/count_tokens");
    assert.deepEqual(got.body, {
      model: "claude-sonnet-4-5",
      messages: [{ role: "user", content: "What is the weather in Oslo today?" }],
      system: "You are a weather bot.",
      tools: [
        { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
      ],
    });
    assert.deepEqual(
      [got.headers["x-api-key"], got.headers["anthropic-version"], got.headers["content-type"]],
      ["sk-ant-upstream", "2023-06-01", "application/json"],
    );
    // The client's own key is the gateway's token: it never reaches the provider.
    assert.ok(!JSON.stringify(got.headers).includes('"good"'));
  });

  test("the provider's refusal of a count: its 400 is the caller's (its message kept), a failure is a 502", async () => {
    upstream.state.fail = {
      status: 400,
      type: "invalid_request_error",
      message: "prompt is too long: 250000 tokens",
    };
    await assert.rejects(
      client.messages.countTokens({ model: "claude-chat", ...question }),
      (err: unknown) =>
        err instanceof Anthropic.BadRequestError &&
        /claude-chat@1\.0\.0: token count failed: prompt is too long/.test(err.message),
    );
    upstream.state.fail = { status: 529, type: "overloaded_error", message: "Overloaded" };
    await assert.rejects(
      client.messages.countTokens({ model: "claude-chat", ...question }),
      (err: unknown) => err instanceof Anthropic.InternalServerError && err.status === 502,
    );
    assert.deepEqual(counted.at(-1), {
      model: "claude-chat",
      version: "1.0.0",
      method: "provider",
      outcome: "error",
    });
  });

  test("countTokens resolves the model as a call would: a split's subject counts on the version that serves it", async () => {
    const seen = new Set<string>();
    for (const subject of ["alice", "bob", "carol", "dave", "erin", "frank"]) {
      const opts = { headers: { "x-modelgov-subject": subject } };
      const call = await client.messages
        .create({ model: "split-chat", max_tokens: 16, ...question }, opts)
        .withResponse();
      const count = await client.messages
        .countTokens({ model: "split-chat", ...question }, opts)
        .withResponse();
      const served = call.response.headers.get("x-modelgov-model-version");
      assert.equal(count.response.headers.get("x-modelgov-model-version"), served, subject);
      assert.equal(count.data.input_tokens, served === "split-chat@2.0.0" ? 1234 : 25, subject);
      seen.add(served!);
    }
    assert.equal(seen.size, 2, "the subjects fall in both arms");
  });

  test("countTokens refuses what a call would: no messages, an unknown model, a bad token", async () => {
    await assert.rejects(
      client.messages.countTokens({ model: "sim-chat", messages: [] }),
      (err: unknown) => err instanceof Anthropic.BadRequestError && /messages: required/.test(err.message),
    );
    await assert.rejects(
      client.messages.countTokens({ model: "nope", ...question }),
      (err: unknown) => err instanceof Anthropic.NotFoundError,
    );
    const stranger = new Anthropic({ baseURL: client.baseURL, apiKey: "bad", maxRetries: 0 });
    await assert.rejects(
      stranger.messages.countTokens({ model: "sim-chat", ...question }),
      (err: unknown) => err instanceof Anthropic.AuthenticationError,
    );
  });
});
