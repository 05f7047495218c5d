import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type { Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { loadConfig } from "../../../config.ts";
import { startFakeAnthropic } from "../../../test-support/fake-anthropic.ts";
import { type FakeUpstream, startFakeOpenAI } from "../../../test-support/fake-openai.ts";
import { type OtlpReceiver, startOtlpReceiver } from "../../../test-support/otlp-receiver.ts";
import { modelRoute, routableVersion, snapshotOf } from "../../../test-support/routing-snapshot.ts";
import { hermeticEnv } from "../../../test-support/serve-child.ts";
import { startTracedGateway } from "../../../test-support/traced-gateway.ts";
import { createTracing, type GatewayTracing, tracingSettings } from "./index.ts";

const run = promisify(execFile);
const CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_PARENT = "00f067aa0ba902b7";
const TRACEPARENT = `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

const chat = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: "Bearer good", "content-type": "application/json", ...headers },
    body: JSON.stringify({ messages: [{ role: "user", content: "a secret prompt" }], ...body }),
  });

const embed = (url: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: "Bearer good", "content-type": "application/json", ...headers },
    body: JSON.stringify({ input: ["a secret text"], encoding_format: "float", ...body }),
  });

/** An embedding version on a fake OpenAI-compatible upstream. */
const embeddingVersion = (model: string, fake: FakeUpstream) =>
  routableVersion(model, "1.0.0", null, {
    provider: "openai-compatible",
    providerModelId: `up-${model}`,
    endpoint: fake.url,
    parameters: { embedding: { dimensions: 8 } },
  });

const upstreamVersion = (model: string, v: string, fake: FakeUpstream) =>
  routableVersion(model, v, null, {
    provider: "openai-compatible",
    providerModelId: `up-${v}`,
    endpoint: fake.url,
    parameters: { temperature: 0.3 },
  });

/** The traceparent an upstream got, split: [version, trace id, parent id, flags]. */
const parts = (h: string | string[] | undefined) => String(h).split("-");

describe("OpenTelemetry spans of gateway calls, exported over OTLP/HTTP JSON", () => {
  const servers: Server[] = [];
  let receiver: OtlpReceiver;
  let tracing: GatewayTracing;
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let url = "";
  before(async () => {
    receiver = await startOtlpReceiver();
    primary = await startFakeOpenAI();
    backup = await startFakeOpenAI();
    // The settings are given, never read from this process's OTEL_* variables.
    tracing = (await createTracing({
      url: receiver.url,
      headers: { "x-collector-key": "k1" },
      serviceName: "modelgov-test",
      serviceVersion: "9.9.9",
      sampler: "parentbased_always_on",
      samplerArg: 1,
    }))!;
    const v1 = upstreamVersion("m", "1.0.0", primary);
    const v2 = upstreamVersion("m", "2.0.0", backup);
    const sim = routableVersion("sim", "1.0.0", null, { parameters: { seed: 1 } });
    const snapshot = snapshotOf(
      modelRoute("m", [v1, v2], { fallback: [v2] }),
      modelRoute("sim", [sim]),
      modelRoute("emb", [embeddingVersion("emb", primary)]),
    );
    const g = await startTracedGateway(snapshot, tracing);
    servers.push(g.server);
    url = g.url;
  });
  after(async () => {
    for (const s of servers) s.close();
    await tracing.shutdown();
    await Promise.all([receiver.close(), primary.close(), backup.close()]);
  });

  /** The spans of one trace, once exported. */
  async function traceOf(traceId: string) {
    await tracing.flush();
    return receiver.spans.filter((s) => s.traceId === traceId);
  }

  test("a call is a server span under the client's traceparent, its attempt a client span whose context the upstream got", async () => {
    primary.reset();
    const res = await chat(url, { model: "m", max_tokens: 20, top_p: 0.9 }, { traceparent: TRACEPARENT });
    assert.equal(res.status, 200);
    const spans = await traceOf(CLIENT_TRACE);
    const server = spans.find((s) => s.kind === SERVER)!;
    const attempts = spans.filter((s) => s.kind === CLIENT);
    assert.ok(server, `spans: ${spans.map((s) => s.name).join(", ")}`);
    assert.equal(server.name, "chat m");
    assert.equal(server.parentSpanId, CLIENT_PARENT, "the client's span is the parent");
    assert.equal(attempts.length, 1);
    const [attempt] = attempts;
    assert.equal(attempt!.parentSpanId, server.spanId);
    assert.equal(attempt!.name, "chat up-1.0.0");
    // The upstream's traceparent: the same trace, the attempt span as its parent, sampled.
    const [version, traceId, parentId, flags] = parts(primary.lastHeaders?.traceparent);
    assert.deepEqual([version, traceId, parentId, flags], ["00", CLIENT_TRACE, attempt!.spanId, "01"]);
    const requestId = res.headers.get("x-modelgov-request-id");
    assert.deepEqual(
      {
        ...attempt!.attributes,
        "gen_ai.response.id": typeof attempt!.attributes["gen_ai.response.id"],
      },
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "up-1.0.0",
        "gen_ai.request.max_tokens": 20,
        // The version's default (registered parameter), as sent upstream.
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "server.address": "127.0.0.1",
        "server.port": primary.port,
        "modelgov.version": "m@1.0.0",
        "modelgov.version_id": "ver_m_1.0.0",
        "modelgov.provider": "openai-compatible",
        "modelgov.attempt": 1,
        "modelgov.request_id": requestId,
        "gen_ai.response.id": "string",
        "gen_ai.response.model": "up-1.0.0",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": attempt!.attributes["gen_ai.usage.input_tokens"],
        "gen_ai.usage.output_tokens": attempt!.attributes["gen_ai.usage.output_tokens"],
      },
    );
    assert.ok((attempt!.attributes["gen_ai.usage.output_tokens"] as number) > 0);
    assert.equal(server.attributes["gen_ai.request.model"], "m");
    assert.equal(server.attributes["gen_ai.response.model"], "m@1.0.0");
    assert.equal(server.attributes["modelgov.route"], "alias:production");
    assert.equal(server.attributes["modelgov.request_id"], requestId);
    assert.equal(server.attributes["http.response.status_code"], 200);
    assert.equal(
      server.attributes["gen_ai.usage.output_tokens"],
      attempt!.attributes["gen_ai.usage.output_tokens"],
    );
    assert.equal(server.resource["service.name"], "modelgov-test");
    assert.equal(server.resource["service.version"], "9.9.9");
    // Neither the prompt nor the answer is recorded anywhere.
    assert.ok(!JSON.stringify(spans).includes("secret prompt"));
    assert.equal(receiver.exports.at(-1)?.["x-collector-key"], "k1");
    assert.match(String(receiver.exports.at(-1)?.["content-type"]), /application\/json/);
  });

  test("an embeddings call is traced as the embeddings operation, its upstream given the attempt's context", async () => {
    primary.reset();
    const trace = "5b8efff798038103d269b633813fc60c";
    const res = await embed(url, { model: "emb" }, { traceparent: `00-${trace}-${CLIENT_PARENT}-01` });
    assert.equal(res.status, 200, await res.clone().text());
    const spans = await traceOf(trace);
    const server = spans.find((s) => s.kind === SERVER)!;
    const attempts = spans.filter((s) => s.kind === CLIENT);
    assert.equal(server?.name, "embeddings emb", `spans: ${spans.map((s) => s.name).join(", ")}`);
    assert.equal(server.parentSpanId, CLIENT_PARENT);
    assert.equal(server.attributes["gen_ai.operation.name"], "embeddings");
    assert.equal(server.attributes["modelgov.version"], "emb@1.0.0");
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]!.name, "embeddings up-emb");
    assert.equal(attempts[0]!.parentSpanId, server.spanId);
    assert.equal(attempts[0]!.attributes["gen_ai.operation.name"], "embeddings");
    assert.ok((attempts[0]!.attributes["gen_ai.usage.input_tokens"] as number) > 0);
    const [, traceId, parentId] = parts(primary.lastHeaders?.traceparent);
    assert.deepEqual([traceId, parentId], [trace, attempts[0]!.spanId]);
    assert.ok(!JSON.stringify(spans).includes("secret text"));
  });

  test("a fallback shows every attempt: the failed ones with error.type, then the one that served", async () => {
    primary.reset();
    backup.reset();
    primary.failNext(2, 503);
    const trace = "0af7651916cd43dd8448eb211c80319c";
    const res = await chat(url, { model: "m" }, { traceparent: `00-${trace}-b7ad6b7169203331-01` });
    assert.equal(res.status, 200);
    assert.match(String(res.headers.get("x-modelgov-route")), /fallback to 2\.0\.0/);
    const spans = await traceOf(trace);
    const server = spans.find((s) => s.kind === SERVER)!;
    const attempts = spans.filter((s) => s.kind === CLIENT).sort((a, b) => order(a) - order(b));
    assert.deepEqual(
      attempts.map((a) => [
        a.attributes["modelgov.version"],
        a.attributes["modelgov.attempt"],
        a.attributes["error.type"],
        a.status,
      ]),
      [
        ["m@1.0.0", 1, "503", ERROR],
        ["m@1.0.0", 2, "503", ERROR],
        ["m@2.0.0", 1, undefined, 0],
      ],
    );
    for (const a of attempts) assert.equal(a.parentSpanId, server.spanId);
    // Each upstream saw its own attempt's span as the parent.
    assert.equal(parts(primary.lastHeaders?.traceparent)[2], attempts[1]!.spanId);
    assert.equal(parts(backup.lastHeaders?.traceparent)[2], attempts[2]!.spanId);
    assert.equal(server.attributes["gen_ai.response.model"], "m@2.0.0");
    assert.equal(server.attributes["error.type"], undefined);
  });

  test("a chain that fails everywhere: the server span is an error with the failure's class", async () => {
    primary.reset();
    backup.reset();
    primary.failNext(2, 500);
    backup.failNext(2, 500);
    const trace = "11111111111111111111111111111111";
    const res = await chat(url, { model: "m" }, { traceparent: `00-${trace}-2222222222222222-01` });
    assert.equal(res.status, 502);
    const spans = await traceOf(trace);
    const server = spans.find((s) => s.kind === SERVER)!;
    assert.equal(server.status, ERROR);
    assert.equal(server.attributes["http.response.status_code"], 502);
    assert.ok(server.attributes["error.type"], "error.type is set");
    assert.equal(spans.filter((s) => s.kind === CLIENT && s.attributes["error.type"] === "500").length, 4);
  });

  test("a stream's attempt span ends with the stream: its usage and finish reason", async () => {
    primary.reset();
    const trace = "33333333333333333333333333333333";
    const res = await chat(
      url,
      { model: "m", stream: true },
      { traceparent: `00-${trace}-4444444444444444-01` },
    );
    assert.equal(res.status, 200);
    assert.match(await res.text(), /\[DONE\]/);
    const spans = await traceOf(trace);
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    assert.deepEqual(attempt.attributes["gen_ai.response.finish_reasons"], ["stop"]);
    assert.ok((attempt.attributes["gen_ai.usage.output_tokens"] as number) > 0);
    assert.equal(parts(primary.lastHeaders?.traceparent)[2], attempt.spanId);
  });

  test("without a client traceparent a new trace starts; the simulator's attempt has no server address", async () => {
    const before = new Set(receiver.spans.map((s) => s.spanId));
    const res = await chat(url, { model: "sim" });
    assert.equal(res.status, 200);
    await tracing.flush();
    const spans = receiver.spans.filter((s) => !before.has(s.spanId));
    const server = spans.find((s) => s.kind === SERVER)!;
    const attempt = spans.find((s) => s.kind === CLIENT)!;
    assert.equal(server.parentSpanId, undefined, "a root span");
    assert.equal(attempt.traceId, server.traceId);
    assert.equal(attempt.attributes["gen_ai.provider.name"], "modelgov.simulator");
    assert.equal(attempt.attributes["server.address"], undefined);
  });

  test("a refused request (unknown model) is still a span, with error.type its status", async () => {
    const trace = "55555555555555555555555555555555";
    const res = await chat(url, { model: "nope" }, { traceparent: `00-${trace}-6666666666666666-01` });
    assert.equal(res.status, 404);
    const [server] = await traceOf(trace);
    assert.equal(server?.name, "chat nope");
    assert.equal(server?.attributes["error.type"], "404");
    assert.equal(server?.status, ERROR);
  });
});

/** Attempts in the order they ran: by version, then attempt number. */
const order = (s: { attributes: Record<string, unknown> }) =>
  (String(s.attributes["modelgov.version"]).endsWith("2.0.0") ? 10 : 0) +
  Number(s.attributes["modelgov.attempt"]);

describe("with tracing off", () => {
  test("nothing is made, and the client's trace context reaches the upstream unchanged (OpenAI and Anthropic)", async () => {
    const receiver = await startOtlpReceiver();
    const openai = await startFakeOpenAI();
    const anthropic = await startFakeAnthropic();
    // An endpoint is configured, but the SDK is disabled: no tracer at all.
    const settings = tracingSettings(
      loadConfig({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: "true" }),
      "1.0.0",
    );
    const claude = routableVersion("c", "1.0.0", null, {
      provider: "anthropic",
      providerModelId: "claude-test",
      endpoint: anthropic.url,
    });
    const g = await startTracedGateway(
      snapshotOf(
        modelRoute("m", [upstreamVersion("m", "1.0.0", openai)]),
        modelRoute("c", [claude]),
        modelRoute("emb", [embeddingVersion("emb", openai)]),
      ),
      await createTracing(settings),
    );
    try {
      for (const [model, upstream] of [
        ["m", openai],
        ["c", anthropic],
      ] as const) {
        const res = await chat(
          g.url,
          { model },
          { traceparent: TRACEPARENT, tracestate: "congo=t61rcWkgMzE" },
        );
        assert.equal(res.status, 200, model);
        assert.equal(upstream.lastHeaders?.traceparent, TRACEPARENT, model);
        assert.equal(upstream.lastHeaders?.tracestate, "congo=t61rcWkgMzE", model);
      }
      // An embeddings call forwards it the same way.
      const e = await embed(g.url, { model: "emb" }, { traceparent: TRACEPARENT });
      assert.equal(e.status, 200, await e.clone().text());
      assert.equal(openai.lastHeaders?.traceparent, TRACEPARENT, "embeddings");
      // A malformed traceparent is not passed on; no traceparent, none sent.
      await chat(g.url, { model: "m" }, { traceparent: "00-xyz-01" });
      assert.equal(openai.lastHeaders?.traceparent, undefined);
      await chat(g.url, { model: "m" }, { traceparent: `00-${"0".repeat(32)}-${CLIENT_PARENT}-01` });
      assert.equal(openai.lastHeaders?.traceparent, undefined, "an all-zero trace id is invalid");
      await chat(g.url, { model: "m" });
      assert.equal(openai.lastHeaders?.traceparent, undefined);
      assert.equal(receiver.exports.length, 0);
    } finally {
      await g.close();
      await Promise.all([receiver.close(), openai.close(), anthropic.close()]);
    }
  });
});

test("off, not one module of the OpenTelemetry SDK is loaded, from the composition root down", async () => {
  // A fresh process: this one loaded the SDK for the tests above. (prom-client loads the API itself.)
  const script = `
    import { createRequire } from "node:module";
    const { createTracing } = await import(${JSON.stringify(new URL("./index.ts", import.meta.url).href)});
    await import(${JSON.stringify(new URL("../../../main.ts", import.meta.url).href)});
    await createTracing(undefined);
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => /@opentelemetry[\\/](?!api[\\/])/.test(k));
    console.log(JSON.stringify(loaded));`;
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env: hermeticEnv({ NODE_OPTIONS: "" }),
  });
  assert.deepEqual(JSON.parse(stdout.trim().split("\n").at(-1)!), []);
});

describe("tracing settings from the OTEL_* variables", () => {
  const load = (env: Record<string, string>) => tracingSettings(loadConfig({}, env), "1.2.3");

  test("off unless an endpoint is set, and off whenever OTEL_SDK_DISABLED=true", () => {
    assert.equal(load({}), undefined);
    assert.equal(
      load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "TRUE" }),
      undefined,
    );
    // The specification's boolean: anything but "true" is false.
    assert.ok(load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "1" }));
  });

  test("the general endpoint gets /v1/traces; the traces endpoint is used as it is and wins", () => {
    assert.equal(load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" })?.url, "http://c:4318/v1/traces");
    assert.equal(
      load({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://t.example/otlp/traces",
      })?.url,
      "https://t.example/otlp/traces",
    );
  });

  test("headers, service name and sampler are read; defaults otherwise", () => {
    const s = load({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20abc, x-tenant=ops",
      OTEL_SERVICE_NAME: "gw",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
    });
    assert.deepEqual(s, {
      url: "http://c:4318/v1/traces",
      headers: { authorization: "Bearer abc", "x-tenant": "ops" },
      serviceName: "gw",
      serviceVersion: "1.2.3",
      sampler: "parentbased_traceidratio",
      samplerArg: 0.25,
    });
    const d = load({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" });
    assert.deepEqual(
      [d?.serviceName, d?.sampler, d?.samplerArg, d?.headers],
      ["modelgov", "parentbased_always_on", 1, {}],
    );
  });

  test("a bad value is refused naming its variable", () => {
    assert.throws(
      () => load({ OTEL_EXPORTER_OTLP_ENDPOINT: "grpc://c:4317" }),
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    assert.throws(() => load({ OTEL_EXPORTER_OTLP_HEADERS: "no-equals-sign" }), /OTEL_EXPORTER_OTLP_HEADERS/);
    assert.throws(() => load({ OTEL_TRACES_SAMPLER: "sometimes" }), /OTEL_TRACES_SAMPLER/);
    assert.throws(() => load({ OTEL_TRACES_SAMPLER_ARG: "2" }), /OTEL_TRACES_SAMPLER_ARG/);
  });
});
