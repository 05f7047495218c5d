import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { type Client, createClient } from "../../client/index.ts";
import { loadConfig } from "../../config.ts";
import { startServer } from "../../main.ts";
import { startFakeAnthropic } from "../../test-support/fake-anthropic.ts";
import { startFakeOpenAI } from "../../test-support/fake-openai.ts";
import type { FakeUpstream } from "../../test-support/fake-server.ts";
import { migratedDataDir } from "../../test-support/store-templates.ts";
import { SECTION_KEYS } from "../cards/card-sections.ts";

const ADMIN = "e2e-admin-token-0123456789";
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k}.`])),
  extraSections: [],
};

describe("gateway end to end with the official SDKs", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-gw-"));
  let server: Awaited<ReturnType<typeof startServer>>;
  let fakeOpenAI: FakeUpstream;
  let fakeAnthropic: FakeUpstream;
  let admin: Client;
  let agent: string;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    fakeOpenAI = await startFakeOpenAI();
    fakeAnthropic = await startFakeAnthropic();
    const env = {
      MODELGOV_ADMIN_TOKEN: ADMIN,
      MODELGOV_EGRESS_ALLOW_HOSTS: "127.0.0.1",
      MODELGOV_GATEWAY_RATE_PER_SEC: "1000",
      MODELGOV_GATEWAY_RATE_BURST: "1000",
      MODELGOV_LOG_LEVEL: "silent",
      FAKE_API_KEY: "sk-upstream-secret",
    };
    server = await startServer(
      loadConfig({ port: 0, dataDir: await migratedDataDir(dir), demo: false }, env),
    );
    admin = createClient({ baseUrl: server.url, token: ADMIN });
    const eng = (await admin.tokens.create({ name: "eve", roles: ["engineering"] })).token;
    agent = (await admin.tokens.create({ name: "support-bot", roles: ["agent"] })).token;
    await admin.models.create({ name: "chat", owner: "ml", riskTier: "low", useCases: ["support"] });
    await admin.versions.register("chat", {
      version: "1.0.0",
      provider: "openai-compatible",
      providerModelId: "gpt-fake",
      endpoint: fakeOpenAI.url,
      parameters: { apiKeyEnv: "FAKE_API_KEY" },
      card: CARD,
    });
    await admin.versions.register("chat", {
      version: "1.1.0",
      provider: "anthropic",
      providerModelId: "claude-fake",
      endpoint: fakeAnthropic.url,
      card: CARD,
    });
    const signer = createClient({ baseUrl: server.url, token: eng });
    for (const v of ["1.0.0", "1.1.0"]) {
      const r = await admin.approvals.request("chat", v, `ship ${v}`);
      await signer.approvals.sign(r.id, { role: "engineering", decision: "approve" });
    }
    await admin.aliases.set("chat", "production", "1.0.0", "launch");
    await admin.aliases.set("chat", "claude", "1.1.0", "anthropic-backed");
    await server.gateway.routing.refresh();
    openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: agent, maxRetries: 0 });
    anthropic = new Anthropic({ baseURL: server.url, apiKey: agent, maxRetries: 0 });
  });

  after(async () => {
    await server?.close();
    await fakeOpenAI?.close();
    await fakeAnthropic?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("OpenAI SDK, plain: routed to production, with the modelgov headers; the upstream key is the version's", async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "hello" }], user: "user-1" })
      .withResponse();
    assert.ok(data.choices[0]?.message.content);
    assert.equal(response.headers.get("x-modelgov-model-version"), "chat@1.0.0");
    assert.equal(response.headers.get("x-modelgov-route"), "alias:production");
    assert.match(response.headers.get("x-modelgov-request-id") ?? "", /^req_/);
    assert.equal(fakeOpenAI.lastHeaders?.authorization, "Bearer sk-upstream-secret");
    assert.equal(fakeOpenAI.lastBody?.model, "gpt-fake");
  });

  test("OpenAI SDK, streaming", async () => {
    const stream = await openai.chat.completions.create({
      model: "chat",
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
    });
    let text = "";
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.ok(text.length > 0);
    assert.equal(finish, "stop");
  });

  test("the request log keeps each request's features, never its text (OpenAI and Anthropic SDKs)", async () => {
    const withTools = await openai.chat.completions
      .create({
        model: "chat",
        messages: [{ role: "user", content: "Где мой заказ 7731?" }],
        tools: [{ type: "function", function: { name: "get_order", parameters: { type: "object" } } }],
        metadata: { tenant: "acme" },
      })
      .withResponse();
    assert.equal(withTools.data.choices[0]?.finish_reason, "tool_calls");
    const json = await openai.chat.completions
      .create({
        model: "chat",
        messages: [{ role: "user", content: "order 7731 as JSON" }],
        response_format: { type: "json_object" },
      })
      .withResponse();
    const claude = await anthropic.messages
      .create({ model: "chat@claude", max_tokens: 64, messages: [{ role: "user", content: "hi 7731" }] })
      .withResponse();
    await server.services.requestLog.flush();
    const idOf = (r: { response: Response }) => r.response.headers.get("x-modelgov-request-id")!;
    const rows = await server.services.db.query<{ id: string; features: Record<string, unknown> }>(
      "SELECT id, features FROM request_log WHERE id = ANY($1::text[])",
      [[idOf(withTools), idOf(json), idOf(claude)]],
    );
    const features = (r: { response: Response }) => rows.find((x) => x.id === idOf(r))?.features;
    assert.deepEqual(features(withTools), {
      messages: 1,
      script: "cyrillic",
      toolsOffered: 1,
      toolCalls: 1,
      refusal: false,
      valid: null,
      label: null,
      finishReason: "tool_calls",
      metadata: { tenant: "acme" },
    });
    assert.deepEqual(
      [features(json)?.valid, features(json)?.toolsOffered, features(json)?.finishReason],
      [false, 0, "stop"],
      "the fake's plain-text answer to a JSON request is not valid",
    );
    assert.deepEqual(
      [features(claude)?.script, features(claude)?.finishReason, features(claude)?.refusal],
      ["latin", "stop", false],
    );
    assert.ok(!JSON.stringify(rows).includes("7731"), "neither the prompts nor the answers are stored");
  });

  test("Anthropic SDK, plain and streaming, served by an OpenAI-protocol version (translated both ways)", async () => {
    const msg = await anthropic.messages.create({
      model: "chat",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(msg.type, "message");
    assert.equal(msg.content[0]?.type, "text");
    assert.equal(msg.stop_reason, "end_turn");
    const stream = anthropic.messages.stream({
      model: "chat",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    let text = "";
    stream.on("text", (t) => {
      text += t;
    });
    const final = await stream.finalMessage();
    assert.ok(text.length > 0);
    assert.equal(final.stop_reason, "end_turn");
  });

  test("OpenAI SDK to an Anthropic-protocol version (by alias), plain and streaming", async () => {
    const before = fakeAnthropic.requests;
    const r = await openai.chat.completions.create({
      model: "chat@claude",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.ok(r.choices[0]?.message.content);
    const s = await openai.chat.completions.create({
      model: "chat@claude",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
    });
    let text = "";
    for await (const c of s) text += c.choices[0]?.delta?.content ?? "";
    assert.ok(text.length > 0);
    assert.equal(fakeAnthropic.requests, before + 2);
    assert.equal(fakeAnthropic.lastBody?.model, "claude-fake");
  });

  test("Responses API and legacy completions over both provider protocols, logged with their endpoint", async () => {
    const tools: OpenAI.Responses.Tool[] = [
      { type: "function", name: "get_order", parameters: { type: "object" }, strict: false },
    ];
    const ids: string[] = [];
    for (const model of ["chat", "chat@claude"]) {
      const plain = await openai.responses.create({ model, input: "hi", instructions: "Be brief." });
      assert.ok(plain.output_text.length > 0, model);
      const call = await openai.responses.create({ model, input: "order 7731?", tools });
      const fc = call.output.find((o) => o.type === "function_call");
      assert.ok(fc?.type === "function_call" && fc.name === "get_order", model);
      const after = await openai.responses.create({
        model,
        tools,
        input: [
          { role: "user", content: "order 7731?" },
          fc,
          { type: "function_call_output", call_id: fc.call_id, output: "shipped" },
        ],
      });
      assert.ok(after.output_text.length > 0, model);
      const helper = openai.responses.stream({ model, input: "stream please" });
      assert.ok((await helper.finalResponse()).output_text.length > 0, model);
      const text = await openai.completions.create({ model, prompt: "Say this is a test" });
      assert.ok(text.choices[0]?.text, model);
      ids.push(plain._request_id!, text._request_id!);
    }
    await server.services.requestLog.flush();
    const rows = await server.services.db.query<{ id: string; endpoint: string; status: number }>(
      "SELECT id, endpoint, status FROM request_log WHERE id = ANY($1::text[]) ORDER BY at, id",
      [ids],
    );
    assert.deepEqual(rows.map((r) => [r.endpoint, r.status]).sort(), [
      ["completions", 200],
      ["completions", 200],
      ["responses", 200],
      ["responses", 200],
    ]);
  });

  test("an upstream that fails falls back, and the response and the log say which version served", async () => {
    await admin.routes.set("chat", {
      split: null,
      fallback: ["1.1.0"],
      allowPinning: false,
      prices: { "1.1.0": { inputPer1kUsd: 1, outputPer1kUsd: 2 } },
    });
    await server.gateway.routing.refresh();
    fakeOpenAI.failNext(1000, 503);
    const { response } = await openai.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(response.headers.get("x-modelgov-model-version"), "chat@1.1.0");
    assert.match(
      response.headers.get("x-modelgov-route") ?? "",
      /fallback to 1\.1\.0 after 1\.0\.0 failed \(http 503\)/,
    );
    const id = response.headers.get("x-modelgov-request-id")!;
    // Enough failures open the primary's breaker: it is skipped without being called.
    for (let i = 0; i < 12; i++)
      await openai.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] });
    const calls = fakeOpenAI.requests;
    const skipped = await openai.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.match(skipped.response.headers.get("x-modelgov-route") ?? "", /1\.0\.0 skipped \(breaker open\)/);
    assert.equal(fakeOpenAI.requests, calls, "an open breaker sends nothing upstream");
    fakeOpenAI.reset();
    server.gateway.breakers
      .get(server.gateway.routing.current().models.get("chat")!.versions.get("1.0.0")!.id)
      .reset();
    await server.services.requestLog.flush();
    const rows = await server.services.db.query<{
      version: string;
      fallback_path: { version: string; outcome: string }[];
      cost_usd: number;
      status: number;
      prompt_hash: string | null;
      sampled_body: unknown;
    }>(
      "SELECT version, fallback_path, cost_usd, status, prompt_hash, sampled_body FROM request_log WHERE id = $1",
      [id],
    );
    // By default no body is kept, not even a hash.
    assert.equal(rows[0]?.prompt_hash, null);
    assert.equal(rows[0]?.sampled_body, null);
    assert.equal(rows[0]?.version, "1.1.0");
    assert.deepEqual(
      rows[0]?.fallback_path.map((s) => [s.version, s.outcome]),
      [
        ["1.0.0", "failed"],
        ["1.1.0", "served"],
      ],
    );
    assert.ok((rows[0]?.cost_usd ?? 0) > 0);
    await admin.routes.set("chat", { split: null, fallback: [], allowPinning: false, prices: {} });
    await server.gateway.routing.refresh();
  });

  test("a plain call to a hanging version leaves the fallback its time: cut at the first-byte limit, not the total", async () => {
    // The primary accepts the call and never answers. Without a first-byte limit on plain calls
    // it would spend the whole 20 s deadline and the fallback would be skipped (a 502).
    await admin.routes.set("chat", {
      split: null,
      fallback: ["1.1.0"],
      allowPinning: false,
      prices: {},
      timeouts: { totalMs: 20_000, firstByteMs: 500, idleMs: 500 },
    });
    await server.gateway.routing.refresh();
    fakeOpenAI.knobs.hang = "headers";
    try {
      const { response } = await openai.chat.completions
        .create({ model: "chat", messages: [{ role: "user", content: "hi" }] })
        .withResponse();
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-modelgov-model-version"), "chat@1.1.0");
      assert.match(
        response.headers.get("x-modelgov-route") ?? "",
        /fallback to 1\.1\.0 after 1\.0\.0 failed \(timeout\)/,
      );
    } finally {
      fakeOpenAI.reset();
      server.gateway.breakers
        .get(server.gateway.routing.current().models.get("chat")!.versions.get("1.0.0")!.id)
        .reset();
      await admin.routes.set("chat", { split: null, fallback: [], allowPinning: false, prices: {} });
      await server.gateway.routing.refresh();
    }
  });

  test("a canary whose breaker opens is rolled back by the controller at once, without waiting for an analysis", async () => {
    const rollout = await admin.rollouts.start("chat", "1.1.0", {
      name: "breaker-test",
      steps: [
        { weight: 50, durationMs: 3_600_000 },
        { weight: 100, durationMs: 3_600_000 },
      ],
      analysisIntervalMs: 3_600_000,
      minSamplePerArm: 1000,
      failureLimit: 2,
      metrics: [{ kind: "error_rate", max: 0.01 }],
      // Out of reach: only the breaker can trigger the fast path here.
      fastPath: { windowMs: 60_000, minRequests: 100_000 },
    });
    assert.equal(rollout.weight, 50);
    await server.gateway.routing.refresh();
    fakeAnthropic.failNext(1000, 503);
    for (let i = 0; i < 60; i++)
      await openai.chat.completions
        .create({ model: "chat", user: `user-${i}`, messages: [{ role: "user", content: "hi" }] })
        .catch(() => {});
    // The breaker is open now. A tick that began before it opened may be running: kick()
    // returns that one, and the second kick() a tick begun after (the one queued behind it, or
    // a fresh one). Waiting on ticks, not the clock; the analysis is an hour away either way.
    await server.controller.kick();
    await server.controller.kick();
    const status = await admin.rollouts.status("chat");
    assert.equal(status.status, "rolled_back");
    assert.match(
      status.decisions[0]!.reasons.join(" "),
      /fast path: the candidate's circuit breaker is open/,
    );
    assert.equal((await admin.routes.get("chat")).split, null);
    fakeAnthropic.reset();
    server.gateway.breakers
      .get(server.gateway.routing.current().models.get("chat")!.versions.get("1.1.0")!.id)
      .reset();
    await server.gateway.routing.refresh();
  });

  test("clear refusals the SDKs understand: unknown model 404, no token 401, wrong role 403", async () => {
    await assert.rejects(
      openai.chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.NotFoundError);
        assert.match(e.message, /model 'nope' is not registered/);
        return true;
      },
    );
    const forged = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "mgv_not-a-real-token", maxRetries: 0 });
    await assert.rejects(
      forged.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "x" }] }),
      OpenAI.AuthenticationError,
    );
    const bare = await fetch(`${server.url}/v1/chat/completions`, { method: "POST", body: "{}" });
    assert.equal(bare.status, 401);
    assert.equal(bare.headers.get("content-type"), "application/problem+json");
    const viewer = (await admin.tokens.create({ name: "vic", roles: ["viewer"] })).token;
    const asViewer = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: viewer, maxRetries: 0 });
    await assert.rejects(
      asViewer.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "x" }] }),
      OpenAI.PermissionDeniedError,
    );
    await assert.rejects(
      anthropic.messages.create({ model: "nope", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
      Anthropic.NotFoundError,
    );
  });

  test("an upstream endpoint outside the allow-list, or private, is refused before any connection", async () => {
    await admin.versions.register("chat", {
      version: "1.3.0",
      provider: "openai-compatible",
      providerModelId: "x",
      endpoint: "http://169.254.169.254/latest",
      card: CARD,
    });
    await admin.versions.register("chat", {
      version: "1.3.1",
      provider: "openai-compatible",
      providerModelId: "x",
      endpoint: "https://api.example.org/v1",
      card: CARD,
    });
    const eng = (await admin.tokens.create({ name: "ed", roles: ["engineering"] })).token;
    const signer = createClient({ baseUrl: server.url, token: eng });
    for (const v of ["1.3.0", "1.3.1"]) {
      const r = await admin.approvals.request("chat", v, "probe");
      await signer.approvals.sign(r.id, { role: "engineering", decision: "approve" });
    }
    await admin.aliases.set("chat", "meta", "1.3.0");
    await admin.aliases.set("chat", "elsewhere", "1.3.1");
    await server.gateway.routing.refresh();
    for (const [alias, why] of [
      ["meta", /egress refused: 169\.254\.169\.254/],
      // A public name off the allow-list: refused by the list itself, not as a blocked range.
      ["elsewhere", /egress refused: api\.example\.org:443 is not on the egress allow-list/],
    ] as const) {
      await assert.rejects(
        openai.chat.completions.create({
          model: `chat@${alias}`,
          messages: [{ role: "user", content: "x" }],
        }),
        (e: unknown) => {
          assert.ok(e instanceof OpenAI.APIError);
          assert.equal(e.status, 502);
          assert.match(e.message, why);
          return true;
        },
      );
    }
  });

  test("/v1/models lists what the token may call; /v1/feedback joins an outcome to a request", async () => {
    const list = await openai.models.list();
    const ids = list.data.map((m) => m.id).sort();
    assert.deepEqual(ids, ["chat", "chat@claude", "chat@elsewhere", "chat@meta"]);
    const { response } = await openai.chat.completions
      .create({ model: "chat", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    const id = response.headers.get("x-modelgov-request-id")!;
    const res = await fetch(`${server.url}/v1/feedback`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
      body: JSON.stringify({ requestId: id, success: true, score: 0.9, groups: { age_band: "65+" } }),
    });
    assert.equal(res.status, 202);
    const rows = await server.services.db.query<{ success: boolean }>(
      "SELECT success FROM feedback WHERE request_id = $1",
      [id],
    );
    assert.equal(rows[0]?.success, true);
  });
});
