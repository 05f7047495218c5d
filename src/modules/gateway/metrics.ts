import { Hono } from "hono";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AppEnv } from "../../http/context.ts";
import { can } from "../../http/permissions.ts";
import type { WriterStats } from "../../lib/batch-writer.ts";
import { AppError } from "../../lib/errors.ts";

/** 0.5 ms (a refused request) to 60 s (a long streamed answer). */
export const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60,
];

/** Time to first token of a stream: 5 ms to 60 s. */
export const FIRST_TOKEN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60];

export type BreakerState = "closed" | "half_open" | "open";
const BREAKER_STATES: readonly BreakerState[] = ["closed", "half_open", "open"];

/**
 * Why the gateway refused a request before (or instead of) logging it: a closed set, so a
 * caller cannot grow the series. `killed`: a kill switch's 503; `unavailable`: any other 503
 * (the token store down, no tier callable); `upstream`: a 502/504 refusal; `internal`: a bug.
 */
export const REFUSAL_REASONS = [
  "invalid",
  "unauthenticated",
  "forbidden",
  "not_found",
  "timeout",
  "too_large",
  "rate_limited",
  "killed",
  "unavailable",
  "upstream",
  "internal",
] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/** The refusal reason of a status and its problem code (a kill switch's 503 has code `unavailable`). */
export function refusalReason(status: number, code?: string): RefusalReason {
  switch (status) {
    case 400:
      return "invalid";
    case 401:
      return "unauthenticated";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 408:
      return "timeout";
    case 413:
      return "too_large";
    case 429:
      return "rate_limited";
    case 503:
      return code === "unavailable" ? "killed" : "unavailable";
    case 502:
    case 504:
      return "upstream";
    default:
      return status >= 400 && status < 500 ? "invalid" : "internal";
  }
}

/**
 * What `observeRequest` needs; a `RequestLogEntry` has all of it, so the gateway passes the
 * entry it logs. `version` null (nothing answered) is labelled `none`.
 */
export interface ObservedRequest {
  model: string;
  version: string | null;
  endpoint: string;
  status: number;
  errorClass: string | null;
  totalMs: number;
  upstreamMs: number | null;
  /** Tokens and cost of the call (0 when nothing answered). */
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
}

/** A POST /v1/messages/count_tokens: the version counted for, and how. */
export interface ObservedTokenCount {
  model: string;
  version: string;
  method: "provider" | "tiktoken";
  outcome: "ok" | "error";
}

/**
 * The gateway's Prometheus metrics in a registry of their own (not prom-client's global
 * one), so every server and every test counts only what it served. Label values come from
 * the registry (model names, versions) and a closed set of error classes: bounded.
 */
export function createGatewayMetrics(
  opts: { logs?: Record<string, () => WriterStats>; processMetrics?: boolean } = {},
) {
  const registry = new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const logs = opts.logs ?? {};

  const requests = new Counter({
    name: "modelgov_gateway_requests_total",
    help: "Gateway requests answered, by model, version, HTTP status and endpoint",
    labelNames: ["model", "version", "status", "endpoint"] as const,
    registers,
  });
  const duration = new Histogram({
    name: "modelgov_gateway_request_duration_seconds",
    help: "Time from receiving a gateway request to its last byte",
    labelNames: ["model", "version"] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const upstream = new Histogram({
    name: "modelgov_gateway_upstream_duration_seconds",
    help: "Time spent waiting on the provider for the version that answered",
    labelNames: ["model", "version"] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const errors = new Counter({
    name: "modelgov_gateway_errors_total",
    help: "Failed gateway requests, by error class",
    labelNames: ["model", "version", "error_class"] as const,
    registers,
  });
  const refusals = new Counter({
    name: "modelgov_gateway_refusals_total",
    help: "Gateway requests refused with an error before a model answered (never in the request log), by reason and HTTP status",
    labelNames: ["reason", "status"] as const,
    registers,
  });
  const tokens = new Counter({
    name: "modelgov_gateway_tokens_total",
    help: "Tokens of answered gateway calls, by model, version and type (input or output)",
    labelNames: ["model", "version", "type"] as const,
    registers,
  });
  const cost = new Counter({
    name: "modelgov_gateway_cost_usd_total",
    help: "Cost of gateway calls in US dollars, from each version's price table",
    labelNames: ["model", "version"] as const,
    registers,
  });
  const firstToken = new Histogram({
    name: "modelgov_gateway_time_to_first_token_seconds",
    help: "Streamed calls: time from the call's start to the first chunk from the version that answered",
    labelNames: ["model", "version"] as const,
    buckets: FIRST_TOKEN_BUCKETS,
    registers,
  });
  const breaker = new Gauge({
    name: "modelgov_gateway_breaker_state",
    help: "Circuit breaker per version: 1 for its current state (closed, half_open, open), 0 for the others",
    labelNames: ["model", "version", "state"] as const,
    registers,
  });
  const breakerKnown = new Set<string>();
  const killEngaged = new Gauge({
    name: "modelgov_kill_switches_engaged",
    help: "Kill switches engaged, by scope (version or provider), as this replica's routing snapshot has them",
    labelNames: ["scope"] as const,
    registers,
  });
  const killRequests = new Counter({
    name: "modelgov_kill_switch_requests_total",
    help: "Gateway requests a kill switch diverted to a fallback version (diverted) or refused with 503 (refused)",
    labelNames: ["scope", "outcome"] as const,
    registers,
  });
  const tokenCounts = new Counter({
    name: "modelgov_gateway_token_counts_total",
    help: "POST /v1/messages/count_tokens answered: by model, version, how it counted (provider or tiktoken) and outcome (ok or error)",
    labelNames: ["model", "version", "method", "outcome"] as const,
    registers,
  });
  for (const scope of ["version", "provider"]) killEngaged.set({ scope }, 0);
  new Gauge({
    name: "modelgov_gateway_log_queue_depth",
    help: "Log entries in memory, not yet in the database or the spool",
    labelNames: ["log"] as const,
    registers,
    collect() {
      for (const [log, stats] of Object.entries(logs)) this.set({ log }, stats().buffered);
    },
  });
  new Gauge({
    name: "modelgov_gateway_log_spooled_entries",
    help: "Log entries waiting in the disk spool for the database",
    labelNames: ["log"] as const,
    registers,
    collect() {
      for (const [log, stats] of Object.entries(logs)) this.set({ log }, stats().spooledEntries);
    },
  });
  new Gauge({
    name: "modelgov_gateway_log_spooled_files",
    help: "Spool files on disk waiting to be replayed into the database",
    labelNames: ["log"] as const,
    registers,
    collect() {
      for (const [log, stats] of Object.entries(logs)) this.set({ log }, stats().spooledFiles);
    },
  });
  new Gauge({
    name: "modelgov_gateway_log_db_down",
    help: "1 while the log's last database write failed (batches go to the spool until a replay succeeds)",
    labelNames: ["log"] as const,
    registers,
    collect() {
      for (const [log, stats] of Object.entries(logs)) this.set({ log }, stats().dbDown ? 1 : 0);
    },
  });
  new Counter({
    name: "modelgov_gateway_log_rejected_total",
    help: "Log entries the database refused as invalid (kept in the spool's dead-letter file)",
    labelNames: ["log"] as const,
    registers,
    collect() {
      this.reset();
      for (const [log, stats] of Object.entries(logs)) this.inc({ log }, stats().rejected);
    },
  });
  new Counter({
    name: "modelgov_gateway_log_dropped_total",
    help: "Log entries lost because the database and the spool both failed",
    labelNames: ["log"] as const,
    registers,
    collect() {
      this.reset();
      for (const [log, stats] of Object.entries(logs)) this.inc({ log }, stats().dropped);
    },
  });
  new Counter({
    name: "modelgov_gateway_log_written_total",
    help: "Log entries written to the database",
    labelNames: ["log"] as const,
    registers,
    collect() {
      this.reset();
      for (const [log, stats] of Object.entries(logs)) this.inc({ log }, stats().written);
    },
  });

  // The series of each model and version, resolved once: prom-client hashes a label object on
  // every call otherwise, a cost paid on every gateway request.
  type Series = {
    requests: Map<number, ReturnType<typeof requests.labels>>;
    duration: ReturnType<typeof duration.labels>;
    upstream: ReturnType<typeof upstream.labels>;
    tokensIn: ReturnType<typeof tokens.labels>;
    tokensOut: ReturnType<typeof tokens.labels>;
    cost: ReturnType<typeof cost.labels>;
    firstToken: ReturnType<typeof firstToken.labels>;
  };
  const series = new Map<string, Map<string, Series>>();
  const seriesOf = (model: string, version: string): Series => {
    let byVersion = series.get(model);
    if (!byVersion) {
      byVersion = new Map();
      series.set(model, byVersion);
    }
    let s = byVersion.get(version);
    if (!s) {
      s = {
        requests: new Map(),
        duration: duration.labels(model, version),
        upstream: upstream.labels(model, version),
        tokensIn: tokens.labels(model, version, "input"),
        tokensOut: tokens.labels(model, version, "output"),
        cost: cost.labels(model, version),
        firstToken: firstToken.labels(model, version),
      };
      byVersion.set(version, s);
    }
    return s;
  };
  const endpoints = new Map<string, number>();
  const endpointCode = (endpoint: string) => {
    let code = endpoints.get(endpoint);
    if (code === undefined) {
      code = endpoints.size;
      endpoints.set(endpoint, code);
    }
    return code;
  };

  // Refusals by reason and status, each series resolved once (a 429 flood is a hot path too).
  const refusalSeries = new Map<number, ReturnType<typeof refusals.labels>>();
  const reasonIndex = new Map<string, number>(REFUSAL_REASONS.map((r, i) => [r, i]));

  function setBreakerState(labels: { model: string; version: string }, state: BreakerState) {
    breakerKnown.add(`${labels.model}\u0000${labels.version}`);
    for (const s of BREAKER_STATES)
      breaker.set({ model: labels.model, version: labels.version, state: s }, s === state ? 1 : 0);
  }

  return {
    registry,
    /** Call once per request refused without a log entry: its status and problem code. */
    observeRefusal(status: number, code?: string) {
      const reason = refusalReason(status, code);
      const key = status * 16 + reasonIndex.get(reason)!;
      let counter = refusalSeries.get(key);
      if (!counter) {
        counter = refusals.labels(reason, String(status));
        refusalSeries.set(key, counter);
      }
      counter.inc();
    },
    /**
     * Call once per answered request (with the entry given to the request log); `firstTokenMs`:
     * a stream's time to its first chunk.
     */
    observeRequest(r: ObservedRequest, firstTokenMs?: number) {
      const version = r.version ?? "none";
      const s = seriesOf(r.model, version);
      let counter = s.requests.get(r.status * 64 + endpointCode(r.endpoint));
      if (!counter) {
        counter = requests.labels(r.model, version, String(r.status), r.endpoint);
        s.requests.set(r.status * 64 + endpointCode(r.endpoint), counter);
      }
      counter.inc();
      s.duration.observe(r.totalMs / 1000);
      if (r.upstreamMs !== null) s.upstream.observe(r.upstreamMs / 1000);
      if (r.tokensIn) s.tokensIn.inc(r.tokensIn);
      if (r.tokensOut) s.tokensOut.inc(r.tokensOut);
      if (r.costUsd) s.cost.inc(r.costUsd);
      if (firstTokenMs !== undefined) s.firstToken.observe(firstTokenMs / 1000);
      if (r.errorClass) errors.inc({ model: r.model, version, error_class: r.errorClass });
    },
    /** Call on every breaker transition: 1 for the new state, 0 for the others. */
    setBreakerState,
    /** A version the gateway can route to: shown closed until its breaker first moves. */
    knowBreaker(labels: { model: string; version: string }) {
      if (!breakerKnown.has(`${labels.model}\u0000${labels.version}`)) setBreakerState(labels, "closed");
    },
    /** Call on every routing snapshot: the switches it has engaged. */
    setKillSwitches(switches: readonly { scope: "version" | "provider" }[]) {
      killEngaged.set({ scope: "version" }, switches.filter((s) => s.scope === "version").length);
      killEngaged.set({ scope: "provider" }, switches.filter((s) => s.scope === "provider").length);
    },
    /** A request a kill switch diverted or refused. */
    observeKill(scope: "version" | "provider", outcome: "diverted" | "refused") {
      killRequests.inc({ scope, outcome });
    },
    /** A token count (not a model call: no request-log row, no cost). */
    observeTokenCount(c: ObservedTokenCount) {
      tokenCounts.inc({ model: c.model, version: c.version, method: c.method, outcome: c.outcome });
    },
    /** The exposition text and its content type (text/plain; version=0.0.4). */
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;

/**
 * `MODELGOV_METRICS`: `public` (default; the usual for a scrape on a private network),
 * `token` (a bearer token whose roles carry registry:read, e.g. a viewer token for
 * Prometheus' `authorization` setting) or `off` (no route: 404).
 */
export type MetricsMode = "public" | "token" | "off";

/** `GET /metrics`, mounted at the root of the main app, outside /api/v1. */
export function metricsRoutes(deps: {
  metrics: GatewayMetrics;
  mode: MetricsMode;
  authenticate(token: string): Promise<{ roles: string[] } | null>;
}) {
  const app = new Hono<AppEnv>();
  if (deps.mode === "off") return app;
  app.get("/metrics", async (c) => {
    if (deps.mode === "token") {
      const m = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
      const principal = m ? await deps.authenticate(m[1]!) : null;
      if (!principal) {
        c.header("www-authenticate", 'Bearer realm="modelgov"');
        throw new AppError("unauthenticated", "metrics need a bearer token (MODELGOV_METRICS=token)", {
          errors: [{ field: "authorization", reason: m ? "invalid token" : "missing bearer token" }],
        });
      }
      if (!can(principal.roles, "registry:read"))
        throw new AppError("forbidden", "metrics need the 'registry:read' permission", {
          errors: [{ field: "authorization", reason: "missing permission registry:read" }],
        });
    }
    const { contentType, body } = await deps.metrics.render();
    return c.body(body, 200, { "content-type": contentType });
  });
  return app;
}
