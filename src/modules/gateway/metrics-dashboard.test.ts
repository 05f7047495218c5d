import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createClient } from "../../client/index.ts";
import { loadConfig } from "../../config.ts";
import { startServer } from "../../main.ts";
import { migratedDataDir } from "../../test-support/store-templates.ts";
import { SECTION_KEYS } from "../cards/card-sections.ts";

const DASHBOARD = fileURLToPath(new URL("../../../deploy/grafana/modelgov-dashboard.json", import.meta.url));
const DOCS = fileURLToPath(new URL("../../../docs/metrics.md", import.meta.url));
const ADMIN = "metrics-admin-token-0123456789";
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k}.`])),
  extraSections: [],
};

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

/** Every metric name a PromQL expression uses (label names and functions are not modelgov_…). */
const namesIn = (expr: string) => [...expr.matchAll(/\bmodelgov_[a-z0-9_]+/g)].map((m) => m[0]);

/** The sample value of one series line, e.g. `name{a="b"}`. */
const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("the Grafana dashboard against a running server's /metrics", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-metrics-"));
  let server: Awaited<ReturnType<typeof startServer>>;
  let scrape = "";

  const chat = (token: string, body: Record<string, unknown>) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "hello" }], ...body }),
    });

  before(async () => {
    const env = {
      MODELGOV_ADMIN_TOKEN: ADMIN,
      // A burst of 4 and next to no refill: the 5th call of a token is refused with 429;
      // a body over 4 KiB is refused with 413.
      MODELGOV_GATEWAY_RATE_PER_SEC: "0.001",
      MODELGOV_GATEWAY_RATE_BURST: "4",
      MODELGOV_GATEWAY_MAX_BODY_BYTES: "4096",
      MODELGOV_LOG_LEVEL: "silent",
    };
    server = await startServer(
      loadConfig({ port: 0, dataDir: await migratedDataDir(dir), demo: false }, env),
    );
    const admin = createClient({ baseUrl: server.url, token: ADMIN });
    const eng = (await admin.tokens.create({ name: "eve", roles: ["engineering"] })).token;
    const agent = (await admin.tokens.create({ name: "bot", roles: ["agent"] })).token;
    const flood = (await admin.tokens.create({ name: "flood", roles: ["agent"] })).token;
    await admin.models.create({ name: "chat", owner: "ml", riskTier: "low", useCases: ["support"] });
    await admin.versions.register("chat", {
      version: "1.0.0",
      provider: "simulator",
      providerModelId: "sim",
      parameters: { latencyMs: { p50: 1, p95: 2 }, tokens: { input: 30, output: 20 } },
      card: CARD,
    });
    const r = await admin.approvals.request("chat", "1.0.0", "ship it");
    await createClient({ baseUrl: server.url, token: eng }).approvals.sign(r.id, {
      role: "engineering",
      decision: "approve",
    });
    await admin.aliases.set("chat", "production", "1.0.0", "launch");
    await admin.routes.set("chat", {
      split: null,
      fallback: [],
      allowPinning: false,
      prices: { "1.0.0": { inputPer1kUsd: 1, outputPer1kUsd: 2 } },
    });
    await server.gateway.routing.refresh();

    const plain = (await (await chat(agent, { model: "chat" })).json()) as { object: string };
    assert.equal(plain.object, "chat.completion");
    const streamed = await chat(agent, { model: "chat", stream: true });
    assert.match(await streamed.text(), /\[DONE\]/);
    assert.equal((await chat("mgv_no_such_token", { model: "chat" })).status, 401);
    const malformed = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
      body: "{not json",
    });
    assert.equal(malformed.status, 400);
    assert.equal((await chat(agent, { model: "chat", pad: "x".repeat(5000) })).status, 413);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await chat(flood, { model: "nope" })).status);
    assert.deepEqual(statuses, [404, 404, 404, 404, 429]);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    scrape = await res.text();
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("every metric the dashboard queries is one the server exposes", () => {
    const types = new Map([...scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const));
    const used = new Set(queries.flatMap(namesIn));
    assert.ok(used.size >= 25, `the dashboard uses ${used.size} metrics`);
    const missing = [...used].filter((name) => {
      if (types.has(name)) return false;
      // A histogram's series: name_bucket, name_sum, name_count.
      const base = name.replace(/_(bucket|sum|count)$/, "");
      return types.get(base) !== "histogram";
    });
    assert.deepEqual(missing, [], "metrics the dashboard uses but /metrics does not expose");
  });

  test("every modelgov metric the server exposes is documented in docs/metrics.md", () => {
    const documented = new Set(
      [...readFileSync(DOCS, "utf8").matchAll(/^\| `(modelgov_[a-z0-9_]+)` \| (\w+)/gm)].map((m) => m[1]!),
    );
    const exposed = [...scrape.matchAll(/^# TYPE (modelgov_\S+) /gm)].map((m) => m[1]!);
    assert.ok(exposed.length >= 30, `${exposed.length} exposed`);
    assert.deepEqual(
      exposed.filter((n) => !documented.has(n)),
      [],
      "exposed but not in the table of docs/metrics.md",
    );
  });

  test("the traffic above shows in the series the dashboard reads", () => {
    const l = 'model="chat",version="1.0.0"';
    assert.equal(
      sample(scrape, `modelgov_gateway_requests_total{${l},status="200",endpoint="chat.completions"}`),
      2,
    );
    assert.equal(sample(scrape, `modelgov_gateway_tokens_total{${l},type="input"}`), 60);
    assert.equal(sample(scrape, `modelgov_gateway_tokens_total{${l},type="output"}`), 40);
    // 2 × (30/1000 × $1 + 20/1000 × $2)
    assert.equal(sample(scrape, `modelgov_gateway_cost_usd_total{${l}}`), 0.14);
    assert.equal(
      sample(scrape, `modelgov_gateway_time_to_first_token_seconds_count{${l}}`),
      1,
      "the stream only",
    );
    assert.equal(sample(scrape, `modelgov_gateway_breaker_state{${l},state="closed"}`), 1);
    assert.equal(sample(scrape, `modelgov_gateway_breaker_state{${l},state="open"}`), 0);
    const refused = (reason: string, status: number) =>
      sample(scrape, `modelgov_gateway_refusals_total{reason="${reason}",status="${status}"}`);
    assert.equal(refused("unauthenticated", 401), 1);
    assert.equal(refused("not_found", 404), 4);
    assert.equal(refused("rate_limited", 429), 1);
    assert.equal(refused("invalid", 400), 1);
    assert.equal(refused("too_large", 413), 1);
    assert.equal(sample(scrape, "modelgov_webhook_deliveries_pending"), 0);
    assert.equal(sample(scrape, 'modelgov_gateway_log_queue_depth{log="request_log"}') !== undefined, true);
  });

  test("the dashboard asks for its Prometheus data source and covers every area", () => {
    const ds = dashboard.templating.list.find((v) => v.type === "datasource");
    assert.equal(ds?.query, "prometheus");
    for (const p of dashboard.panels.filter((x) => x.type !== "row"))
      assert.equal(p.datasource?.uid, `\${${ds!.name}}`, `${p.title}: the data source variable`);
    const uses = (name: string) => queries.some((q) => namesIn(q).includes(name));
    for (const name of [
      "modelgov_gateway_requests_total",
      "modelgov_gateway_refusals_total",
      "modelgov_gateway_request_duration_seconds_bucket",
      "modelgov_gateway_time_to_first_token_seconds_bucket",
      "modelgov_gateway_tokens_total",
      "modelgov_gateway_cost_usd_total",
      "modelgov_gateway_breaker_state",
      "modelgov_rollout_weight",
      "modelgov_rollout_step",
      "modelgov_rollout_decisions_total",
      "modelgov_webhook_deliveries_pending",
      "modelgov_webhook_attempts_total",
      "modelgov_gateway_log_queue_depth",
      "modelgov_gateway_log_spooled_entries",
    ])
      assert.ok(uses(name), `a panel shows ${name}`);
  });
});
