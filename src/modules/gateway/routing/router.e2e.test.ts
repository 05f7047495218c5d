import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { ApiError, type Client, createClient } from "../../../client/index.ts";
import { loadConfig } from "../../../config.ts";
import { startServer } from "../../../main.ts";
import { type FakeUpstream, startFakeOpenAI } from "../../../test-support/fake-openai.ts";
import { migratedDataDir } from "../../../test-support/store-templates.ts";
import { SECTION_KEYS } from "../../cards/card-sections.ts";

/*
 * A router is a version: registered with a routing policy, approved, set as production, and
 * then every call to its model is sent to the tier the policy picks. Through the real server
 * and the official OpenAI SDK, on the simulator.
 */

const ADMIN = "router-e2e-admin-token-0123456789";
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k}.`])),
  extraSections: [],
};
const HARD =
  "Compare both designs and explain why the first deadlocks; prove the fix correct step by step.\n```go\nmu.Lock()\ndefer mu.Unlock()\n```\nWhat are the trade-offs?";

describe("a router version through the gateway", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-router-"));
  let server: Awaited<ReturnType<typeof startServer>>;
  let admin: Client;
  let signer: Client;
  let openai: OpenAI;
  /** The classifier's and judges' model: an OpenAI-compatible fake whose reply each test sets. */
  let grader: FakeUpstream;

  const approve = async (model: string, version: string) => {
    const r = await admin.approvals.request(model, version, `ship ${version}`);
    await signer.approvals.sign(r.id, { role: "engineering", decision: "approve" });
  };
  const simulator = (model: string, version: string, output: number, extra: Record<string, unknown> = {}) =>
    admin.versions.register(model, {
      version,
      provider: "simulator",
      providerModelId: `sim-${model}`,
      parameters: {
        latencyMs: { p50: 1, p95: 2 },
        tokens: { output },
        seed: 1,
        quality: { success: 1 },
        ...extra,
      },
      card: CARD,
    });
  const router = async (version: string, parameters: Record<string, unknown>, alias: string) => {
    await admin.versions.register("assistant", {
      version,
      provider: "router",
      providerModelId: `policy-${version}`,
      parameters,
      card: CARD,
    });
    await approve("assistant", version);
    await admin.aliases.set("assistant", alias, version, "try it");
    await server.gateway.routing.refresh();
  };
  const logged = async (requestId: string | null) => {
    await server.services.requestLog.flush();
    const [row] = await server.services.db.query<{
      version: string;
      tokens_out: number;
      cost_usd: number;
      route_reason: string;
      route_key: string;
      route_path: {
        tier: string;
        role?: string;
        version: string | null;
        outcome: string;
        reason: string | null;
        tokensIn: number;
        tokensOut: number;
        costUsd: number;
      }[];
    }>(
      "SELECT version, tokens_out, cost_usd, route_reason, route_key, route_path FROM request_log WHERE id = $1",
      [requestId],
    );
    return row!;
  };

  before(async () => {
    grader = await startFakeOpenAI();
    server = await startServer(
      loadConfig(
        { port: 0, dataDir: await migratedDataDir(dir), demo: false },
        {
          MODELGOV_ADMIN_TOKEN: ADMIN,
          MODELGOV_GATEWAY_RATE_PER_SEC: "1000",
          MODELGOV_GATEWAY_RATE_BURST: "1000",
          MODELGOV_LOG_LEVEL: "silent",
          MODELGOV_EGRESS_ALLOW_HOSTS: "127.0.0.1",
          GRADER_KEY: "sk-grader",
        },
      ),
    );
    admin = createClient({ baseUrl: server.url, token: ADMIN });
    signer = createClient({
      baseUrl: server.url,
      token: (await admin.tokens.create({ name: "eve", roles: ["engineering"] })).token,
    });
    const agent = (await admin.tokens.create({ name: "bot", roles: ["agent"] })).token;
    for (const m of ["small", "large", "shy", "poor", "slow", "assistant", "grader"])
      await admin.models.create({ name: m, owner: "ml", riskTier: "low", useCases: ["support"] });
    await simulator("small", "1.0.0", 20);
    await simulator("large", "1.0.0", 200);
    await simulator("large", "2.0.0", 300); // registered, never approved
    await simulator("shy", "1.0.0", 7, { quality: { success: 0 }, poorAnswer: "refusal" });
    await simulator("poor", "1.0.0", 30, { quality: { success: 0 } });
    await simulator("slow", "1.0.0", 20, { latencyMs: { p50: 1500, p95: 1600 } });
    for (const version of ["1.0.0", "2.0.0"]) // 2.0.0 is never approved
      await admin.versions.register("grader", {
        version,
        provider: "openai-compatible",
        providerModelId: "grader-fake",
        endpoint: grader.url,
        parameters: { apiKeyEnv: "GRADER_KEY" },
        card: CARD,
      });
    for (const [m, v] of [
      ["grader", "1.0.0"],
      ["small", "1.0.0"],
      ["large", "1.0.0"],
      ["shy", "1.0.0"],
      ["poor", "1.0.0"],
      ["slow", "1.0.0"],
    ] as const) {
      await approve(m, v);
      await admin.aliases.set(m, "production", v, "launch");
    }
    await admin.versions.register("assistant", {
      version: "1.0.0",
      provider: "router",
      providerModelId: "complexity-v1",
      parameters: {
        tiers: [
          { name: "cheap", target: "small" },
          { name: "strong", target: "large@1.0.0" },
        ],
        classifier: { kind: "complexity", thresholds: [0.5] },
      },
      card: CARD,
    });
    await approve("assistant", "1.0.0");
    await admin.aliases.set("assistant", "production", "1.0.0", "launch");
    await server.gateway.routing.refresh();
    openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: agent, maxRetries: 0 });
  });
  after(async () => {
    await server?.close();
    await grader?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a simple question goes to the cheap tier, a hard one to the strong; the log counts both under the router's version", async () => {
    const easy = await openai.chat.completions
      .create({ model: "assistant", messages: [{ role: "user", content: "What are your opening hours?" }] })
      .withResponse();
    assert.equal(easy.response.headers.get("x-modelgov-model-version"), "small@1.0.0");
    assert.match(
      easy.response.headers.get("x-modelgov-route") ?? "",
      /^alias:production; router 1\.0\.0 tier cheap \(complexity:0\.\d{3}\) -> small@1\.0\.0 alias:production$/,
    );
    assert.equal(easy.data.usage?.completion_tokens, 20);
    const hard = await openai.chat.completions
      .create({ model: "assistant", messages: [{ role: "user", content: HARD }] })
      .withResponse();
    assert.equal(hard.response.headers.get("x-modelgov-model-version"), "large@1.0.0");
    assert.match(
      hard.response.headers.get("x-modelgov-route") ?? "",
      /tier strong .* -> large@1\.0\.0 pinned$/,
    );

    await server.services.requestLog.flush();
    const rows = await server.services.db.query<{
      model: string;
      routed_version_id: string;
      version_id: string;
      route_key: string;
      route_path: { tier: string; outcome: string; tokensOut: number }[];
    }>(
      `SELECT model, routed_version_id, version_id, route_key, route_path FROM request_log
        WHERE id = ANY($1::text[]) ORDER BY tokens_out`,
      [
        [
          easy.response.headers.get("x-modelgov-request-id"),
          hard.response.headers.get("x-modelgov-request-id"),
        ],
      ],
    );
    const router = await admin.versions.get("assistant", "1.0.0");
    assert.deepEqual(
      rows.map((r) => [r.model, r.routed_version_id]),
      [
        ["assistant", router.id],
        ["assistant", router.id],
      ],
      "logged under the router's model and version: its experiments and rollouts count them",
    );
    const small = await admin.versions.get("small", "1.0.0");
    const large = await admin.versions.get("large", "1.0.0");
    assert.deepEqual(
      rows.map((r) => r.version_id),
      [small.id, large.id],
      "the version that answered is the tier's",
    );
    assert.deepEqual(
      rows.map((r) => [r.route_key, r.route_path.map((m) => [m.tier, m.outcome, m.tokensOut])]),
      [
        ["cheap", [["cheap", "served", 20]]],
        ["strong", [["strong", "served", 200]]],
      ],
      "a route's path is the tier it chose",
    );
  });

  test("a router cannot walk around an approval: a tier on an unapproved version is refused at call time", async () => {
    await admin.versions.register("assistant", {
      version: "1.1.0",
      provider: "router",
      providerModelId: "complexity-v2",
      parameters: {
        tiers: [
          { name: "cheap", target: "small" },
          { name: "strong", target: "large@2.0.0" },
        ],
        classifier: { kind: "complexity", thresholds: [0.5] },
      },
      card: CARD,
    });
    await approve("assistant", "1.1.0");
    await admin.aliases.set("assistant", "canary", "1.1.0", "try it");
    await server.gateway.routing.refresh();
    const err = await openai.chat.completions
      .create({ model: "assistant@canary", messages: [{ role: "user", content: HARD }] })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 502);
    assert.match(
      err.message,
      /router assistant@1\.1\.0 chose tier 'strong' \(large@2\.0\.0\), which cannot serve: large@2\.0\.0 is development without an approval in force/,
    );
    // Its cheap tier still serves what the policy sends there.
    const easy = await openai.chat.completions
      .create({ model: "assistant@canary", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(easy.response.headers.get("x-modelgov-model-version"), "small@1.0.0");
  });

  test("a policy that does not validate is refused at registration, naming the field", async () => {
    const err = await admin.versions
      .register("assistant", {
        version: "1.2.0",
        provider: "router",
        providerModelId: "bad",
        parameters: {
          tiers: [{ name: "cheap", target: "small" }],
          classifier: {
            kind: "rules",
            rules: [{ when: { "user.tier": "x" }, tier: "cheap" }],
            default: "strong",
          },
        },
        card: CARD,
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 400);
    const fields = err.problem.errors?.map((e: { field: string }) => e.field) ?? [];
    assert.ok(fields.includes("parameters.classifier.rules.0.when.user.tier"), JSON.stringify(err.problem));
    assert.ok(fields.includes("parameters.classifier.default"), JSON.stringify(err.problem));
    const schemaErr = await admin.versions
      .register("assistant", {
        version: "1.2.1",
        provider: "router",
        providerModelId: "bad-schema",
        parameters: {
          strategy: "cascade",
          tiers: [
            { name: "cheap", target: "small" },
            { name: "strong", target: "large@1.0.0" },
          ],
          escalateWhen: { jsonSchema: { type: "object", propertys: {} } },
        },
        card: CARD,
      })
      .catch((e: unknown) => e);
    assert.ok(schemaErr instanceof ApiError);
    assert.equal(schemaErr.status, 400);
    assert.deepEqual(
      schemaErr.problem.errors?.map((e: { field: string; reason: string }) => [e.field, e.reason]),
      [["parameters.escalateWhen.jsonSchema", 'unknown keyword: "propertys"']],
    );
  });

  test("a cascade escalates past a refusal to the next tier; the log keeps both calls, their tokens summed", async () => {
    await router(
      "2.0.0",
      {
        strategy: "cascade",
        tiers: [
          { name: "cheap", target: "shy" },
          { name: "strong", target: "large" },
        ],
      },
      "cascade",
    );
    const r = await openai.chat.completions
      .create({
        model: "assistant@cascade",
        messages: [{ role: "user", content: "Explain the refund rules" }],
      })
      .withResponse();
    assert.equal(r.response.headers.get("x-modelgov-model-version"), "large@1.0.0");
    assert.match(r.data.choices[0]?.message.content ?? "", /^SIM-OK/);
    assert.equal(
      r.response.headers.get("x-modelgov-route"),
      "alias:cascade; cascade 2.0.0: cheap (shy@1.0.0) escalated: refusal -> strong (large@1.0.0) served",
    );
    const row = await logged(r.response.headers.get("x-modelgov-request-id"));
    assert.equal(row.version, "1.0.0");
    assert.equal(row.tokens_out, 7 + 200, "both tiers' output tokens");
    assert.deepEqual(
      row.route_path.map((m) => [m.tier, m.version, m.outcome, m.reason, m.tokensOut]),
      [
        ["cheap", "1.0.0", "escalated", "refusal", 7],
        ["strong", "1.0.0", "served", null, 200],
      ],
    );
    assert.equal(row.route_key, "cheap>strong", "a cascade's path: the tiers it called, in order");
    // A cascade checks an answer before sending it: a stream is refused, naming the field.
    const streamed = await openai.chat.completions
      .create({ model: "assistant@cascade", messages: [{ role: "user", content: "hi" }], stream: true })
      .catch((e: unknown) => e);
    assert.ok(streamed instanceof OpenAI.APIError);
    assert.equal(streamed.status, 400);
    assert.match(streamed.message, /answers plain requests only/);
  });

  test("an ensemble: the majority's answer wins and the odd one is outvoted; first-valid skips a refusal", async () => {
    await router(
      "3.0.0",
      {
        strategy: "ensemble",
        tiers: [
          { name: "a", target: "small" },
          { name: "b", target: "poor" },
          { name: "c", target: "large" },
        ],
        combine: { by: "majority" },
      },
      "vote",
    );
    const r = await openai.chat.completions
      .create({ model: "assistant@vote", messages: [{ role: "user", content: "Is the store open?" }] })
      .withResponse();
    assert.equal(
      r.response.headers.get("x-modelgov-model-version"),
      "small@1.0.0",
      "a and c agree; a is first",
    );
    const row = await logged(r.response.headers.get("x-modelgov-request-id"));
    assert.deepEqual(
      row.route_path.map((m) => [m.tier, m.outcome]),
      [
        ["a", "served"],
        ["b", "outvoted"],
        ["c", "outvoted"],
      ],
    );
    assert.equal(row.tokens_out, 20 + 30 + 200);
    assert.match(row.route_reason, /majority chose a/);
    assert.equal(row.route_key, "a", "an ensemble's path: the tier whose answer was chosen");

    await router(
      "4.0.0",
      {
        strategy: "ensemble",
        tiers: [
          { name: "cheap", target: "shy" },
          { name: "strong", target: "large" },
        ],
        combine: { by: "first-valid" },
      },
      "valid",
    );
    const v = await openai.chat.completions
      .create({ model: "assistant@valid", messages: [{ role: "user", content: "hi" }] })
      .withResponse();
    assert.equal(v.response.headers.get("x-modelgov-model-version"), "large@1.0.0");
  });

  test("a cascade escalates on a finish reason and serves the last tier as it is; an ensemble combines what came in time", async () => {
    await router(
      "5.0.0",
      {
        strategy: "cascade",
        tiers: [
          { name: "cheap", target: "small" },
          { name: "strong", target: "large" },
        ],
        escalateWhen: { refusal: false, finishReasons: ["length"] },
      },
      "cut",
    );
    // max_tokens 5 cuts both tiers' answers short: the first escalates, the last serves as it is.
    const r = await openai.chat.completions
      .create({
        model: "assistant@cut",
        max_tokens: 5,
        messages: [{ role: "user", content: "Explain it all" }],
      })
      .withResponse();
    assert.equal(r.response.headers.get("x-modelgov-model-version"), "large@1.0.0");
    const row = await logged(r.response.headers.get("x-modelgov-request-id"));
    assert.deepEqual(
      row.route_path.map((m) => [m.tier, m.outcome, m.reason]),
      [
        ["cheap", "escalated", "finish_reason length"],
        ["strong", "served", "finish_reason length (the last tier: served as it is)"],
      ],
    );

    await router(
      "6.0.0",
      {
        strategy: "ensemble",
        tiers: [
          { name: "slow", target: "slow" },
          { name: "a", target: "small" },
          { name: "b", target: "large" },
        ],
        combine: { by: "majority", maxLatencyMs: 400 },
      },
      "quick",
    );
    const q = await openai.chat.completions
      .create({ model: "assistant@quick", messages: [{ role: "user", content: "Is it open?" }] })
      .withResponse();
    assert.equal(
      q.response.headers.get("x-modelgov-model-version"),
      "small@1.0.0",
      "a and b agree; slow is late",
    );
    const quick = await logged(q.response.headers.get("x-modelgov-request-id"));
    assert.deepEqual(
      quick.route_path.map((m) => [m.tier, m.outcome, m.reason]),
      [
        ["slow", "failed", "no answer within 400 ms"],
        ["a", "served", null],
        ["b", "outvoted", "not in the majority"],
      ],
    );
  });
  test("an LLM classifier names the tier: its call is in the route's path and the request's cost; a reply naming no tier sends the default", async () => {
    const prices = (v: Record<string, { inputPer1kUsd: number; outputPer1kUsd: number }>) => ({
      split: null,
      fallback: [],
      allowPinning: false,
      prices: v,
    });
    await admin.routes.set("grader", prices({ "1.0.0": { inputPer1kUsd: 1, outputPer1kUsd: 2 } }));
    await admin.routes.set("large", prices({ "1.0.0": { inputPer1kUsd: 0.5, outputPer1kUsd: 1 } }));
    await router(
      "7.0.0",
      {
        tiers: [
          { name: "cheap", target: "small" },
          { name: "strong", target: "large" },
        ],
        classifier: {
          kind: "llm",
          target: "grader",
          rubric: "Questions about refunds need the strong tier.",
          default: "cheap",
        },
      },
      "llm",
    );
    grader.knobs.reply = '{"tier": "strong"}';
    const r = await openai.chat.completions
      .create({ model: "assistant@llm", messages: [{ role: "user", content: "Can I get a refund?" }] })
      .withResponse();
    assert.equal(r.response.headers.get("x-modelgov-model-version"), "large@1.0.0");
    assert.match(
      r.response.headers.get("x-modelgov-route") ?? "",
      /^alias:llm; router 7\.0\.0 tier strong \(llm:strong\) -> large@1\.0\.0 alias:production$/,
    );
    const row = await logged(r.response.headers.get("x-modelgov-request-id"));
    assert.deepEqual(
      row.route_path.map((m) => [m.tier, m.role, m.version, m.outcome, m.reason]),
      [
        ["classifier", "classifier", "1.0.0", "served", "tier strong"],
        ["strong", undefined, "1.0.0", "served", null],
      ],
    );
    const [classifier, strong] = row.route_path;
    assert.ok(classifier!.tokensIn > 50, "the rubric and the request were sent");
    const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b}`);
    near(classifier!.costUsd, (classifier!.tokensIn * 1 + classifier!.tokensOut * 2) / 1000);
    near(strong!.costUsd, (strong!.tokensIn * 0.5 + 200 * 1) / 1000);
    assert.ok(
      Math.abs(row.cost_usd - (classifier!.costUsd + strong!.costUsd)) < 1e-9,
      "both calls are counted",
    );
    assert.equal(row.tokens_out, classifier!.tokensOut + 200);

    grader.knobs.reply = "Hard to say, maybe the strong one or the cheap one.";
    const vague = await openai.chat.completions
      .create({ model: "assistant@llm", messages: [{ role: "user", content: "Can I get a refund?" }] })
      .withResponse();
    assert.equal(vague.response.headers.get("x-modelgov-model-version"), "small@1.0.0");
    assert.match(
      vague.response.headers.get("x-modelgov-route") ?? "",
      /tier cheap \(llm:default \(no tier in the answer\)\)/,
    );

    // A classifier without an approval in force cannot route, exactly as a tier could not serve.
    await router(
      "7.1.0",
      {
        tiers: [
          { name: "cheap", target: "small" },
          { name: "strong", target: "large" },
        ],
        classifier: { kind: "llm", target: "grader@2.0.0", rubric: "x", default: "cheap" },
      },
      "llm-unapproved",
    );
    const err = await openai.chat.completions
      .create({ model: "assistant@llm-unapproved", messages: [{ role: "user", content: "hi" }] })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 502);
    assert.match(
      err.message,
      /router assistant@7\.1\.0's classifier cannot serve: grader@2\.0\.0: grader@2\.0\.0 is development without an approval in force/,
    );
  });

  test("an ensemble's judge picks the answer; a cascade's judge scores the cheap answer below the bar and it escalates", async () => {
    await router(
      "8.0.0",
      {
        strategy: "ensemble",
        tiers: [
          { name: "a", target: "small" },
          { name: "b", target: "large" },
        ],
        combine: { by: "judge", judge: "grader" },
      },
      "judged",
    );
    grader.knobs.reply = '{"best": 2, "reason": "more detail"}';
    const r = await openai.chat.completions
      .create({ model: "assistant@judged", messages: [{ role: "user", content: "Is the store open?" }] })
      .withResponse();
    assert.equal(
      r.response.headers.get("x-modelgov-model-version"),
      "large@1.0.0",
      "the judge's pick, not the first",
    );
    const row = await logged(r.response.headers.get("x-modelgov-request-id"));
    assert.deepEqual(
      row.route_path.map((m) => [m.tier, m.outcome, m.reason]),
      [
        ["a", "outvoted", "the judge picked b"],
        ["b", "served", null],
        ["judge", "served", "picked b"],
      ],
    );
    assert.match(row.route_reason, /judge chose b/);

    await router(
      "8.1.0",
      {
        strategy: "cascade",
        tiers: [
          { name: "cheap", target: "small" },
          { name: "strong", target: "large" },
        ],
        escalateWhen: { judge: { target: "grader", rubric: "Answers the question fully.", below: 0.5 } },
      },
      "scored",
    );
    grader.knobs.reply = '{"score": 0.2, "reason": "too short"}';
    const c = await openai.chat.completions
      .create({
        model: "assistant@scored",
        messages: [{ role: "user", content: "Explain the refund rules" }],
      })
      .withResponse();
    assert.equal(c.response.headers.get("x-modelgov-model-version"), "large@1.0.0");
    assert.equal(
      c.response.headers.get("x-modelgov-route"),
      "alias:scored; cascade 8.1.0: cheap (small@1.0.0) escalated: judge score 0.2 below 0.5 -> strong (large@1.0.0) served",
    );
    const path = (await logged(c.response.headers.get("x-modelgov-request-id"))).route_path;
    assert.deepEqual(
      path.map((m) => [m.tier, m.outcome, m.reason]),
      [
        ["cheap", "escalated", "judge score 0.2 below 0.5"],
        ["judge", "served", "score 0.2: too short"],
        ["strong", "served", null],
      ],
    );
    grader.knobs.reply = '{"score": 0.9, "reason": "complete"}';
    const kept = await openai.chat.completions
      .create({
        model: "assistant@scored",
        messages: [{ role: "user", content: "Explain the refund rules" }],
      })
      .withResponse();
    assert.equal(kept.response.headers.get("x-modelgov-model-version"), "small@1.0.0");
  });
});
