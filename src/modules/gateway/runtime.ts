import type { Config } from "../../config.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import { createAdapters } from "../../providers/index.ts";
import type { Db } from "../../store/db.ts";
import { chainExecutor } from "./chain-executor.ts";
import { createEgressGuard } from "./egress/index.ts";
import { anthropicDialect } from "./http/anthropic/translate.ts";
import type { GatewayDeps } from "./http/deps.ts";
import { createGatewayHandler } from "./http/handler.ts";
import { createTokenBuckets, readBody } from "./limits/index.ts";
import type { RequestLogEntry } from "./log/index.ts";
import type { GatewayMetrics } from "./metrics.ts";
import { createBreakerRegistry, retryPolicy } from "./resilience/index.ts";
import { createRoutingState } from "./routing/state.ts";
import type { GatewayTracing } from "./tracing/index.ts";

const DEFAULT_KEY_ENV: Record<string, string> = {
  openai: "OPENAI_API_KEY",
  "openai-compatible": "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
};

/**
 * What the data plane uses of the rest of modelgov, and nothing more: the store for the routing
 * state, the approval gate, token lookup, the request log, feedback and the metrics.
 */
export interface GatewayServices {
  db: Db;
  approvedIds(ids: string[]): Promise<Set<string>>;
  identity: { authenticate: GatewayDeps["authenticate"] };
  requestLog: { record(entry: RequestLogEntry): void };
  feedback: { handleFeedback: GatewayDeps["feedback"] };
  metrics: Pick<
    GatewayMetrics,
    | "observeRequest"
    | "observeRefusal"
    | "setBreakerState"
    | "knowBreaker"
    | "setKillSwitches"
    | "observeKill"
    | "observeTokenCount"
  >;
  /** Counts a route flag's evaluations with OFREP's and the API's (modelgov_flag_evaluations_total). */
  countFlagEvaluation?: GatewayDeps["observeFlag"];
}

/** Wires the data plane: routing state, egress guard, adapters, breakers, limits, log, metrics. */
export function createGatewayRuntime(opts: {
  services: GatewayServices;
  config: Pick<
    Config,
    | "egressAllowHosts"
    | "gatewayBodies"
    | "gatewayMaxBodyBytes"
    | "gatewayBodyTimeoutMs"
    | "gatewayRateLimitPerSec"
    | "gatewayRateLimitBurst"
    | "providerKeys"
  >;
  logger: Logger;
  clock: Clock;
  /** OpenTelemetry spans, when configured (tracing/index.ts); unset, off. */
  tracing?: GatewayTracing | undefined;
}) {
  const { services, config, logger, clock } = opts;
  const routing = createRoutingState({ db: services.db, logger, approvedIds: services.approvedIds });
  const guard = createEgressGuard({ allowHosts: config.egressAllowHosts });
  const adapters = createAdapters({ dispatcher: guard.dispatcher });
  const breakers = createBreakerRegistry({ clock });
  const retry = retryPolicy({ maxAttempts: 2, baseMs: 100, maxMs: 2000 });
  const buckets = createTokenBuckets({
    ratePerSec: config.gatewayRateLimitPerSec,
    burst: config.gatewayRateLimitBurst,
    clock,
  });

  // Breaker settings follow the route config; state changes reach the metrics.
  routing.onChange((s) => {
    services.metrics.setKillSwitches(s.killSwitches ?? []);
    for (const m of s.models.values())
      for (const v of m.byId.values()) {
        breakers.update(v.id, (m.breaker ?? {}) as never);
        services.metrics.knowBreaker({ model: v.model, version: v.version });
      }
  });
  breakers.onStateChange((change) => {
    const id = change.name;
    const v = [...routing.current().models.values()].map((m) => m.byId.get(id)).find(Boolean);
    if (v)
      services.metrics.setBreakerState(
        { model: v.model, version: v.version },
        change.to === "CLOSED" ? "closed" : change.to === "OPEN" ? "open" : "half_open",
      );
    logger.warn(
      {
        version: v ? `${v.model}@${v.version}` : id,
        from: change.from,
        to: change.to,
        reason: change.reason,
      },
      "circuit breaker",
    );
  });

  const deps: GatewayDeps = {
    routing,
    authenticate: (token) => services.identity.authenticate(token),
    adapters,
    execute: chainExecutor({ breakers, retry, clock }),
    translate: anthropicDialect,
    readBody: (req) =>
      readBody(req, { maxBytes: config.gatewayMaxBodyBytes, timeoutMs: config.gatewayBodyTimeoutMs }),
    rateLimit: (key) => buckets.take(key),
    log: (entry) => services.requestLog.record(entry),
    // Rows carry the runtime's time, so a manual clock (tests, `modelgov demo monitor`) places them.
    now: () => clock.now(),
    feedback: (principal, body) => services.feedback.handleFeedback(principal, body),
    observe: (entry, firstTokenMs) => services.metrics.observeRequest(entry, firstTokenMs),
    observeRefusal: (status, code) => services.metrics.observeRefusal(status, code),
    observeKill: (scope, outcome) => services.metrics.observeKill(scope, outcome),
    observeTokenCount: (c) => services.metrics.observeTokenCount(c),
    observeFlag: services.countFlagEvaluation,
    bodies: config.gatewayBodies,
    apiKeyFor: (v) => {
      const name =
        (typeof v.parameters.apiKeyEnv === "string" ? v.parameters.apiKeyEnv : undefined) ??
        DEFAULT_KEY_ENV[v.provider];
      return name ? config.providerKeys[name] : undefined;
    },
    ...(opts.tracing ? { tracing: opts.tracing } : {}),
  };
  const handler = createGatewayHandler(deps, logger);
  return {
    handler,
    routing,
    breakers,
    /** The guarded adapters and key lookup, for callers outside the data plane (evaluation runs). */
    adapters,
    apiKeyFor: deps.apiKeyFor as (v: {
      provider: string;
      parameters: Record<string, unknown>;
    }) => string | undefined,
    start: () => routing.start(),
    stop: async () => {
      await routing.stop();
      await guard.dispatcher.close().catch(() => {});
    },
  };
}

export type GatewayRuntime = ReturnType<typeof createGatewayRuntime>;
