import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { WriterStats } from "../../lib/batch-writer.ts";
import { createLogger } from "../../lib/logger.ts";
import { createHttpApp } from "../../services.ts";
import { type Harness, openHarness, readJson, storeTargets } from "../../test-support/stores.ts";
import { createGatewayMetrics, type ObservedRequest, REFUSAL_REASONS } from "./metrics.ts";

const req = (over: Partial<ObservedRequest> = {}): ObservedRequest => ({
  model: "support-assistant",
  version: "1.2.0",
  endpoint: "chat.completions",
  status: 200,
  errorClass: null,
  totalMs: 42,
  upstreamMs: 40,
  ...over,
});

const stats =
  (s: Partial<WriterStats>): (() => WriterStats) =>
  () => ({
    buffered: 0,
    spooledFiles: 0,
    spooledEntries: 0,
    written: 0,
    dropped: 0,
    rejected: 0,
    dbDown: false,
    lastError: null,
    ...s,
  });

/** The value of one sample line, e.g. `name{a="b"}`. */
const sample = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("gateway metrics", () => {
  test("requests, durations, errors and breakers, labelled by model and version", async () => {
    const m = createGatewayMetrics({ processMetrics: false });
    m.observeRequest(req());
    m.observeRequest(req({ totalMs: 0.4, upstreamMs: null }));
    m.observeRequest(req({ status: 502, errorClass: "upstream_5xx", totalMs: 31_000, upstreamMs: 30_000 }));
    m.observeRequest(
      req({ version: null, status: 503, errorClass: "no_version", endpoint: "messages", upstreamMs: null }),
    );
    m.setBreakerState({ model: "support-assistant", version: "1.2.0" }, "open");
    m.setBreakerState({ model: "support-assistant", version: "1.3.0" }, "half_open");
    const { contentType, body } = await m.render();
    assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
    const l = 'model="support-assistant",version="1.2.0"';
    assert.equal(
      sample(body, `modelgov_gateway_requests_total{${l},status="200",endpoint="chat.completions"}`),
      2,
    );
    assert.equal(
      sample(body, `modelgov_gateway_requests_total{${l},status="502",endpoint="chat.completions"}`),
      1,
    );
    assert.equal(
      sample(
        body,
        'modelgov_gateway_requests_total{model="support-assistant",version="none",status="503",endpoint="messages"}',
      ),
      1,
    );
    // Seconds, with buckets from 0.5 ms to 60 s.
    assert.equal(sample(body, `modelgov_gateway_request_duration_seconds_bucket{le="0.0005",${l}}`), 1);
    assert.equal(sample(body, `modelgov_gateway_request_duration_seconds_bucket{le="0.05",${l}}`), 2);
    assert.equal(sample(body, `modelgov_gateway_request_duration_seconds_bucket{le="30",${l}}`), 2);
    assert.equal(sample(body, `modelgov_gateway_request_duration_seconds_bucket{le="60",${l}}`), 3);
    assert.equal(sample(body, `modelgov_gateway_request_duration_seconds_count{${l}}`), 3);
    assert.equal(
      sample(body, `modelgov_gateway_upstream_duration_seconds_count{${l}}`),
      2,
      "only when an upstream answered",
    );
    assert.equal(sample(body, `modelgov_gateway_upstream_duration_seconds_sum{${l}}`), 30.04);
    assert.equal(sample(body, `modelgov_gateway_errors_total{${l},error_class="upstream_5xx"}`), 1);
    assert.equal(
      sample(
        body,
        'modelgov_gateway_errors_total{model="support-assistant",version="none",error_class="no_version"}',
      ),
      1,
    );
    // A labelled state set: 1 for the current state, 0 for the others.
    const state = (version: string, s: string, text: string) =>
      sample(
        text,
        `modelgov_gateway_breaker_state{model="support-assistant",version="${version}",state="${s}"}`,
      );
    assert.deepEqual(
      ["closed", "half_open", "open"].map((s) => state("1.2.0", s, body)),
      [0, 0, 1],
    );
    assert.deepEqual(
      ["closed", "half_open", "open"].map((s) => state("1.3.0", s, body)),
      [0, 1, 0],
    );
    m.setBreakerState({ model: "support-assistant", version: "1.2.0" }, "closed");
    m.knowBreaker({ model: "support-assistant", version: "1.2.0" });
    m.knowBreaker({ model: "support-assistant", version: "1.4.0" });
    const after = (await m.render()).body;
    assert.deepEqual(
      ["closed", "half_open", "open"].map((s) => state("1.2.0", s, after)),
      [1, 0, 0],
    );
    assert.deepEqual(
      ["closed", "half_open", "open"].map((s) => state("1.4.0", s, after)),
      [1, 0, 0],
      "a routable version shows closed before its breaker first moves",
    );
    m.knowBreaker({ model: "support-assistant", version: "1.3.0" });
    assert.equal(
      state("1.3.0", "half_open", (await m.render()).body),
      1,
      "knowing it does not reset a state",
    );
  });

  test("tokens, cost and time to first token per model and version", async () => {
    const m = createGatewayMetrics({ processMetrics: false });
    m.observeRequest(req({ tokensIn: 1000, tokensOut: 500, costUsd: 2 }));
    m.observeRequest(req({ tokensIn: 10, tokensOut: 5, costUsd: 0.25 }), 120);
    m.observeRequest(req({ version: "1.3.0", tokensIn: 7, tokensOut: 3, costUsd: 0.5 }), 2_000);
    m.observeRequest(req({ version: null, status: 502, errorClass: "all_failed" }));
    const body = (await m.render()).body;
    const l = 'model="support-assistant",version="1.2.0"';
    assert.equal(sample(body, `modelgov_gateway_tokens_total{${l},type="input"}`), 1010);
    assert.equal(sample(body, `modelgov_gateway_tokens_total{${l},type="output"}`), 505);
    assert.equal(sample(body, `modelgov_gateway_cost_usd_total{${l}}`), 2.25);
    assert.equal(
      sample(body, 'modelgov_gateway_cost_usd_total{model="support-assistant",version="1.3.0"}'),
      0.5,
    );
    assert.equal(
      sample(body, 'modelgov_gateway_tokens_total{model="support-assistant",version="none",type="input"}'),
      undefined,
      "nothing answered: no token series",
    );
    // Only streams report a first token: one observation per version, in seconds.
    assert.equal(sample(body, `modelgov_gateway_time_to_first_token_seconds_count{${l}}`), 1);
    assert.equal(sample(body, `modelgov_gateway_time_to_first_token_seconds_sum{${l}}`), 0.12);
    assert.equal(sample(body, `modelgov_gateway_time_to_first_token_seconds_bucket{le="0.1",${l}}`), 0);
    assert.equal(sample(body, `modelgov_gateway_time_to_first_token_seconds_bucket{le="0.25",${l}}`), 1);
    assert.equal(
      sample(
        body,
        'modelgov_gateway_time_to_first_token_seconds_bucket{le="2.5",model="support-assistant",version="1.3.0"}',
      ),
      1,
    );
  });

  test("refusals by a closed set of reasons, with the status", async () => {
    const m = createGatewayMetrics({ processMetrics: false });
    for (const [status, code] of [
      [401, "unauthenticated"],
      [401, "unauthenticated"],
      [403, "forbidden"],
      [404, "not_found"],
      [413, "invalid_input"],
      [408, "invalid_input"],
      [429, "precondition_failed"],
      [400, "invalid_input"],
      [503, "unavailable"],
      [503, "upstream_error"],
      [502, "upstream_error"],
      [500, "internal"],
    ] as const)
      m.observeRefusal(status, code);
    const body = (await m.render()).body;
    const count = (reason: string, status: number) =>
      sample(body, `modelgov_gateway_refusals_total{reason="${reason}",status="${status}"}`);
    assert.equal(count("unauthenticated", 401), 2);
    assert.equal(count("forbidden", 403), 1);
    assert.equal(count("not_found", 404), 1);
    assert.equal(count("too_large", 413), 1);
    assert.equal(count("timeout", 408), 1);
    assert.equal(count("rate_limited", 429), 1);
    assert.equal(count("invalid", 400), 1);
    assert.equal(count("killed", 503), 1, "a kill switch's 503 (code unavailable)");
    assert.equal(count("unavailable", 503), 1);
    assert.equal(count("upstream", 502), 1);
    assert.equal(count("internal", 500), 1);
    const reasons = new Set(
      [...body.matchAll(/^modelgov_gateway_refusals_total\{reason="(\w+)"/gm)].map((x) => x[1]),
    );
    for (const r of reasons) assert.ok(REFUSAL_REASONS.includes(r as never), `${r} is in the closed set`);
  });

  test("log writer queues are read at scrape time; process metrics are there by default", async () => {
    let buffered = 7;
    const m = createGatewayMetrics({
      logs: {
        request_log: () => stats({ buffered, spooledEntries: 1200, written: 9000, dropped: 3 })(),
        feedback: stats({ written: 12, spooledFiles: 2, dbDown: true, rejected: 4 }),
      },
    });
    let body = (await m.render()).body;
    assert.equal(sample(body, 'modelgov_gateway_log_queue_depth{log="request_log"}'), 7);
    assert.equal(sample(body, 'modelgov_gateway_log_spooled_entries{log="request_log"}'), 1200);
    assert.equal(sample(body, 'modelgov_gateway_log_dropped_total{log="request_log"}'), 3);
    assert.equal(sample(body, 'modelgov_gateway_log_written_total{log="feedback"}'), 12);
    assert.equal(sample(body, 'modelgov_gateway_log_spooled_files{log="request_log"}'), 0);
    assert.equal(sample(body, 'modelgov_gateway_log_spooled_files{log="feedback"}'), 2);
    assert.equal(sample(body, 'modelgov_gateway_log_db_down{log="feedback"}'), 1);
    assert.equal(sample(body, 'modelgov_gateway_log_rejected_total{log="feedback"}'), 4);
    assert.equal(sample(body, 'modelgov_gateway_log_db_down{log="request_log"}'), 0);
    assert.match(body, /^process_cpu_user_seconds_total \d/m);
    assert.match(body, /^nodejs_eventloop_lag_seconds /m);
    buffered = 0;
    body = (await m.render()).body;
    assert.equal(sample(body, 'modelgov_gateway_log_queue_depth{log="request_log"}'), 0);
    assert.equal(
      sample(body, 'modelgov_gateway_log_written_total{log="request_log"}'),
      9000,
      "not added up twice",
    );
  });

  test("each instance has its own registry: one server's (or test's) counts are not another's", async () => {
    const a = createGatewayMetrics({ processMetrics: false });
    const b = createGatewayMetrics({ processMetrics: false });
    a.observeRequest(req());
    const series =
      'modelgov_gateway_requests_total{model="support-assistant",version="1.2.0",status="200",endpoint="chat.completions"}';
    assert.equal(sample((await a.render()).body, series), 1);
    assert.equal(sample((await b.render()).body, series), undefined);
  });

  test("token counts are counted apart from requests: by version, method and outcome", async () => {
    const m = createGatewayMetrics({ processMetrics: false });
    m.observeTokenCount({ model: "chat", version: "1.0.0", method: "provider", outcome: "ok" });
    m.observeTokenCount({ model: "chat", version: "1.0.0", method: "provider", outcome: "ok" });
    m.observeTokenCount({ model: "chat", version: "1.0.0", method: "provider", outcome: "error" });
    const body = (await m.render()).body;
    const series = (outcome: string) =>
      `modelgov_gateway_token_counts_total{model="chat",version="1.0.0",method="provider",outcome="${outcome}"}`;
    assert.equal(sample(body, series("ok")), 2);
    assert.equal(sample(body, series("error")), 1);
    assert.doesNotMatch(body, /modelgov_gateway_requests_total\{/);
  });
});

describe("GET /metrics on the main app", () => {
  let h: Harness;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
  });
  after(() => h.cleanup());
  const logger = createLogger("silent");
  const get = (app: ReturnType<typeof createHttpApp>, token?: string) =>
    app.request("/metrics", token ? { headers: { authorization: `Bearer ${token}` } } : {});

  test("public by default: no token needed, Prometheus text format, the log queue visible", async () => {
    h.services.metrics.observeRequest(req());
    h.services.requestLog.record({
      id: "req_metrics_1",
      at: h.clock.now(),
      tokenId: "tok",
      client: "c",
      model: "m",
      versionId: null,
      version: null,
      routeReason: "alias:production",
      endpoint: "chat.completions",
      stream: false,
      status: 404,
      errorClass: "not_found",
      totalMs: 1,
      upstreamMs: null,
      tokensIn: 0,
      tokensOut: 0,
      costUsd: 0,
      fallbackPath: [],
    });
    const res = await get(h.app);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const body = await res.text();
    assert.match(body, /^modelgov_gateway_requests_total\{.*status="200".*\} 1$/m);
    assert.equal(sample(body, 'modelgov_gateway_log_queue_depth{log="request_log"}'), 1);
    await h.services.requestLog.flush();
    assert.equal(
      sample(await (await get(h.app)).text(), 'modelgov_gateway_log_queue_depth{log="request_log"}'),
      0,
    );
  });

  test("MODELGOV_METRICS=token: 401 without a token, 403 without registry:read, 200 for a viewer", async () => {
    const app = createHttpApp(h.services, logger, { metrics: "token" });
    const none = await get(app);
    assert.equal(none.status, 401);
    assert.equal(none.headers.get("content-type"), "application/problem+json");
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal((await get(app, "mgv_not_a_token_at_all")).status, 401);
    const agent = await get(app, await h.tokenFor("scraper-agent", ["agent"]));
    assert.equal(agent.status, 403);
    assert.equal((await readJson(agent)).errors[0].reason, "missing permission registry:read");
    const viewer = await get(app, await h.tokenFor("prometheus", ["viewer"]));
    assert.equal(viewer.status, 200);
    assert.match(await viewer.text(), /modelgov_gateway_requests_total/);
  });

  test("MODELGOV_METRICS=off: there is no such route", async () => {
    const res = await get(createHttpApp(h.services, logger, { metrics: "off" }));
    assert.equal(res.status, 404);
    assert.equal((await readJson(res)).code, "not_found");
  });
});
