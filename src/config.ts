import path from "node:path";
import { z } from "zod";
import { ENVIRONMENT, type EnvName, envDefault, readEnv } from "./lib/environment.ts";

/** What the request log keeps of bodies: nothing, SHA-256 hashes, or whole bodies for a sampled share. */
const BodyPolicySchema = z.union([
  z.object({ mode: z.literal("off") }),
  z.object({ mode: z.literal("hash") }),
  z.object({ mode: z.literal("sample"), rate: z.number().min(0).max(1) }),
]);
export type BodyPolicy = z.infer<typeof BodyPolicySchema>;

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), "must be an http:// or https:// URL");

/** `k=v,k2=v2` (OTLP exporter headers, values URL-encoded) as a record; undefined when malformed. */
function otlpHeaders(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const part of text.split(",")) {
    if (!part.trim()) continue;
    const i = part.indexOf("=");
    const key = part.slice(0, i).trim();
    if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) return undefined;
    try {
      out[key.toLowerCase()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      return undefined;
    }
  }
  return out;
}

/**
 * Environment parsed once, validated, frozen. The only place that reads process.env, and only
 * the variables described in lib/environment.ts (docs/reference/environment.md is made from it).
 * CLI flags override the environment by being passed in as `overrides`.
 */
export const ConfigSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  dataDir: z.string().min(1),
  databaseUrl: z.string().url().optional(),
  /** LISTEN's own connection (MODELGOV_DATABASE_DIRECT_URL) when DATABASE_URL is a transaction-mode pooler; unset: DATABASE_URL. */
  databaseDirectUrl: z.string().url().optional(),
  /**
   * The migrations owner's connection (MODELGOV_MIGRATE_DATABASE_URL), read by `modelgov migrate`
   * and `modelgov db grants` only, never by `serve`: the server can then run as a least-privilege
   * role without the owner's credentials in its environment. Unset: DATABASE_URL.
   */
  migrateDatabaseUrl: z.string().url().optional(),
  /** production: the demo is never seeded; DATABASE_URL and a shared audit signing key are required (MODELGOV_MODE). */
  mode: z.enum(["development", "production"]),
  demo: z.boolean(),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  serverUrl: z.string().url(),
  /** Development: a fixed admin token (MODELGOV_ADMIN_TOKEN) instead of a generated one. */
  adminToken: z.string().min(16, "MODELGOV_ADMIN_TOKEN must be at least 16 characters").optional(),
  /** Pause between webhook dispatch passes while idle (MODELGOV_WEBHOOK_INTERVAL_MS). */
  webhookIntervalMs: z.coerce.number().int().min(10).max(3_600_000),
  /** Audit checkpoints: appended to this file (default <dataDir>/audit-checkpoints.jsonl). */
  auditCheckpointFile: z.string().min(1).optional(),
  /** Audit checkpoints: also POSTed here (MODELGOV_AUDIT_CHECKPOINT_WEBHOOK). */
  auditCheckpointWebhook: z.string().url().optional(),
  /** Audit checkpoints: how often the head is looked at, signed when it moved (MODELGOV_AUDIT_CHECKPOINT_INTERVAL_MS, default 1 s). */
  auditCheckpointIntervalMs: z.coerce.number().int().min(100).max(86_400_000),
  /** Audit checkpoints: also one as soon as this many events were appended since the last (MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS; 0, the default, is off). */
  auditCheckpointEveryEvents: z.coerce.number().int().min(0).max(1_000_000_000),
  /** Audit checkpoints: also one JSON line each on stdout, for a log shipper (MODELGOV_AUDIT_CHECKPOINT_STDOUT=1). */
  auditCheckpointStdout: z.boolean(),
  /** Ed25519 private key (PEM) signing checkpoints; replicas share it. Default: <dataDir>/audit-signing-key.pem. */
  auditSigningKey: z.string().min(1).optional(),
  /** The same key in a file outside the data folder (MODELGOV_AUDIT_SIGNING_KEY_FILE); it must exist. */
  auditSigningKeyFile: z.string().min(1).optional(),
  /** GET /metrics: public (default), token (a bearer token with registry:read) or off (MODELGOV_METRICS). */
  metrics: z.enum(["public", "token", "off"]),
  /** Where request-log and feedback batches wait while the database is away (default <dataDir>/spool). */
  spoolDir: z.string().min(1).optional(),
  /** Where operator-installed custom scorer modules live (MODELGOV_EVAL_SCORERS_DIR); unset disables them. */
  evalScorersDir: z.string().min(1).optional(),
  /** The built web console to serve at / (MODELGOV_CONSOLE_DIR); default dist/console beside the code. */
  consoleDir: z.string().min(1).optional(),
  /** How long a dead runner's evaluation run stays leased before another takes it (MODELGOV_EVAL_LEASE_TTL_MS). */
  evalLeaseTtlMs: z.coerce.number().int().min(500).max(600_000),
  /** The rollout controller's leader lease: how long it lasts unrenewed (MODELGOV_LEADER_LEASE_TTL_MS). */
  leaderLeaseTtlMs: z.coerce.number().int().min(1000).max(600_000),
  /** Upstreams the gateway may call: hosts, *.wildcards, IPs/CIDRs (MODELGOV_EGRESS_ALLOW_HOSTS, comma-separated). */
  egressAllowHosts: z.array(z.string().min(1)),
  /**
   * Webhook receivers that may be on loopback, private or link-local addresses (any public one
   * is allowed): hosts, *.wildcards, IPs/CIDRs (MODELGOV_WEBHOOK_ALLOW_HOSTS, comma-separated).
   */
  webhookAllowHosts: z.array(z.string().min(1)),
  /** Gateway client limits: body size (413), header/body timeouts (408), per-token rate (429). */
  gatewayMaxBodyBytes: z.coerce.number().int().min(1024).max(104_857_600),
  gatewayHeadersTimeoutMs: z.coerce.number().int().min(500).max(300_000),
  /** On SIGTERM: how long requests in flight may finish before every connection is cut (MODELGOV_DRAIN_TIMEOUT_MS). */
  drainTimeoutMs: z.coerce.number().int().min(100).max(120_000),
  gatewayBodyTimeoutMs: z.coerce.number().int().min(500).max(600_000),
  gatewayRateLimitPerSec: z.coerce.number().positive().max(1_000_000),
  gatewayRateLimitBurst: z.coerce.number().int().min(1).max(1_000_000),
  /** Request/response bodies in the request log: off (default), hash (SHA-256 only), or sample:<rate> (full bodies for that share). */
  gatewayBodies: z.unknown().transform((v, ctx): BodyPolicy => {
    const given = BodyPolicySchema.safeParse(v);
    if (given.success) return given.data;
    if (typeof v === "string" && /^(off|hash|sample:(0(\.\d+)?|1(\.0+)?))$/.test(v))
      return v.startsWith("sample:")
        ? { mode: "sample", rate: Number(v.slice(7)) }
        : { mode: v as "off" | "hash" };
    ctx.addIssue({ code: "custom", message: "off, hash, or sample:<rate between 0 and 1>" });
    return z.NEVER;
  }),
  /** Provider API keys, by environment variable name (`*_API_KEY`); a version names its variable with `apiKeyEnv`. */
  providerKeys: z.record(z.string(), z.string()),
  /** Bias drift on live traffic: how often the job looks (MODELGOV_BIAS_DRIFT_INTERVAL_MS, default 60 s). */
  biasDriftIntervalMs: z.coerce.number().int().min(100).max(86_400_000),
  /** The window length, at most a week (MODELGOV_BIAS_DRIFT_WINDOW_MS, default 1 h). */
  biasDriftWindowMs: z.coerce.number().int().min(1000).max(604_800_000),
  /** How long after a window ends its late feedback is waited for (MODELGOV_BIAS_DRIFT_SETTLE_MS, default 5 min). */
  biasDriftSettleMs: z.coerce.number().int().min(0).max(86_400_000),
  /** Days of raw request-log rows kept (MODELGOV_RETENTION_RAW_DAYS, default 30). */
  retentionRawDays: z.coerce.number().int().min(1).max(36_500),
  /** Days of per-minute roll-ups kept (MODELGOV_RETENTION_AGGREGATE_DAYS, default 400). */
  retentionAggregateDays: z.coerce.number().int().min(1).max(36_500),
  /** Kubeconfig for traffic targets (MODELGOV_KUBECONFIG); unset: client-node's defaults, in-cluster included. */
  kubeconfig: z.string().min(1).optional(),
  /** How often a synced route is re-read to mend drift (MODELGOV_TRAFFIC_RESYNC_MS, default 30 s). */
  trafficResyncMs: z.coerce.number().int().min(1000).max(86_400_000),
  /** OpenTelemetry (docs/tracing.md): OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT); traces go to <url>/v1/traces. */
  otelEndpoint: httpUrl.optional(),
  /** The full traces URL (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), over `otelEndpoint`. Either one turns tracing on. */
  otelTracesEndpoint: httpUrl.optional(),
  /** Headers of every export (OTEL_EXPORTER_OTLP_HEADERS: `k=v,k2=v2`, values URL-encoded). */
  otelHeaders: z.unknown().transform((v, ctx): Record<string, string> => {
    if (v && typeof v === "object") return v as Record<string, string>;
    const parsed = typeof v === "string" ? otlpHeaders(v) : undefined;
    if (parsed) return parsed;
    ctx.addIssue({ code: "custom", message: "comma-separated key=value pairs, values URL-encoded" });
    return z.NEVER;
  }),
  otelServiceName: z.string().min(1),
  otelTracesSampler: z.enum([
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
  ]),
  otelTracesSamplerArg: z.coerce.number().min(0).max(1),
  /** OTEL_SDK_DISABLED=true: no tracing whatever the endpoints say. */
  otelSdkDisabled: z.boolean(),
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

// Every variable that names a Config key names a real one.
const _keysExist: readonly (keyof Config)[] = ENVIRONMENT.flatMap((v) => ("key" in v ? [v.key] : []));
void _keysExist;

/** A comma- or space-separated list; unset is undefined (the default applies), empty is []. */
const list = (v: string | undefined) => v?.split(/[\s,]+/).filter(Boolean);

/**
 * What production mode (MODELGOV_MODE=production) refuses, as sentences; empty when nothing.
 * Replicas share one PostgreSQL and one signing key, so neither may fall back to something each
 * replica makes for itself in its own data folder. Checked by the server at start, not here:
 * `modelgov migrate` and the CLI load the same configuration and need neither.
 */
export function productionProblems(config: Config): string[] {
  if (config.mode !== "production") return [];
  const problems: string[] = [];
  if (!config.databaseUrl)
    problems.push("production mode runs on PostgreSQL shared by every replica: set DATABASE_URL");
  if (!config.auditSigningKey && !config.auditSigningKeyFile)
    problems.push(
      "production mode needs the replicas' shared audit signing key: set MODELGOV_AUDIT_SIGNING_KEY_FILE (or MODELGOV_AUDIT_SIGNING_KEY)",
    );
  return problems;
}

export function loadConfig(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const get = (name: EnvName) => readEnv(env, name);
  const raw = {
    host: get("MODELGOV_HOST") ?? envDefault("MODELGOV_HOST"),
    port: get("MODELGOV_PORT") ?? envDefault("MODELGOV_PORT"),
    dataDir: path.resolve(get("MODELGOV_DATA_DIR") ?? envDefault("MODELGOV_DATA_DIR")),
    databaseUrl: get("DATABASE_URL") || undefined,
    databaseDirectUrl: get("MODELGOV_DATABASE_DIRECT_URL") || undefined,
    migrateDatabaseUrl: get("MODELGOV_MIGRATE_DATABASE_URL") || undefined,
    mode: get("MODELGOV_MODE") || envDefault("MODELGOV_MODE"),
    demo: !get("MODELGOV_NO_DEMO"),
    logLevel: get("MODELGOV_LOG_LEVEL") ?? envDefault("MODELGOV_LOG_LEVEL"),
    serverUrl: get("MODELGOV_URL") ?? envDefault("MODELGOV_URL"),
    adminToken: get("MODELGOV_ADMIN_TOKEN") || undefined,
    webhookIntervalMs: get("MODELGOV_WEBHOOK_INTERVAL_MS") || envDefault("MODELGOV_WEBHOOK_INTERVAL_MS"),
    auditCheckpointFile: get("MODELGOV_AUDIT_CHECKPOINT_FILE") || undefined,
    auditCheckpointWebhook: get("MODELGOV_AUDIT_CHECKPOINT_WEBHOOK") || undefined,
    auditCheckpointIntervalMs:
      get("MODELGOV_AUDIT_CHECKPOINT_INTERVAL_MS") || envDefault("MODELGOV_AUDIT_CHECKPOINT_INTERVAL_MS"),
    auditCheckpointEveryEvents:
      get("MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS") || envDefault("MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS"),
    auditCheckpointStdout: /^(1|true|yes|on)$/i.test(get("MODELGOV_AUDIT_CHECKPOINT_STDOUT") ?? ""),
    // A PEM in one line with literal \n (as some secret stores hand it out) works too.
    auditSigningKey: get("MODELGOV_AUDIT_SIGNING_KEY")?.replace(/\\n/g, "\n") || undefined,
    auditSigningKeyFile: get("MODELGOV_AUDIT_SIGNING_KEY_FILE") || undefined,
    metrics: get("MODELGOV_METRICS") || envDefault("MODELGOV_METRICS"),
    spoolDir: get("MODELGOV_SPOOL_DIR") || undefined,
    evalScorersDir: get("MODELGOV_EVAL_SCORERS_DIR") || undefined,
    consoleDir: get("MODELGOV_CONSOLE_DIR") || undefined,
    evalLeaseTtlMs: get("MODELGOV_EVAL_LEASE_TTL_MS") || envDefault("MODELGOV_EVAL_LEASE_TTL_MS"),
    leaderLeaseTtlMs: get("MODELGOV_LEADER_LEASE_TTL_MS") || envDefault("MODELGOV_LEADER_LEASE_TTL_MS"),
    egressAllowHosts: list(get("MODELGOV_EGRESS_ALLOW_HOSTS")) ?? [
      ...envDefault("MODELGOV_EGRESS_ALLOW_HOSTS"),
    ],
    webhookAllowHosts: list(get("MODELGOV_WEBHOOK_ALLOW_HOSTS")) ?? [
      ...envDefault("MODELGOV_WEBHOOK_ALLOW_HOSTS"),
    ],
    gatewayMaxBodyBytes:
      get("MODELGOV_GATEWAY_MAX_BODY_BYTES") || envDefault("MODELGOV_GATEWAY_MAX_BODY_BYTES"),
    providerKeys: Object.fromEntries(
      Object.entries(env).filter(
        (e): e is [string, string] => /_API_KEY$/.test(e[0]) && typeof e[1] === "string" && e[1] !== "",
      ),
    ),
    gatewayHeadersTimeoutMs:
      get("MODELGOV_GATEWAY_HEADERS_TIMEOUT_MS") || envDefault("MODELGOV_GATEWAY_HEADERS_TIMEOUT_MS"),
    drainTimeoutMs: get("MODELGOV_DRAIN_TIMEOUT_MS") || envDefault("MODELGOV_DRAIN_TIMEOUT_MS"),
    gatewayBodyTimeoutMs:
      get("MODELGOV_GATEWAY_BODY_TIMEOUT_MS") || envDefault("MODELGOV_GATEWAY_BODY_TIMEOUT_MS"),
    gatewayRateLimitPerSec:
      get("MODELGOV_GATEWAY_RATE_PER_SEC") || envDefault("MODELGOV_GATEWAY_RATE_PER_SEC"),
    gatewayRateLimitBurst: get("MODELGOV_GATEWAY_RATE_BURST") || envDefault("MODELGOV_GATEWAY_RATE_BURST"),
    gatewayBodies: get("MODELGOV_GATEWAY_BODIES") || envDefault("MODELGOV_GATEWAY_BODIES"),
    biasDriftIntervalMs:
      get("MODELGOV_BIAS_DRIFT_INTERVAL_MS") || envDefault("MODELGOV_BIAS_DRIFT_INTERVAL_MS"),
    biasDriftWindowMs: get("MODELGOV_BIAS_DRIFT_WINDOW_MS") || envDefault("MODELGOV_BIAS_DRIFT_WINDOW_MS"),
    biasDriftSettleMs: get("MODELGOV_BIAS_DRIFT_SETTLE_MS") || envDefault("MODELGOV_BIAS_DRIFT_SETTLE_MS"),
    retentionRawDays: get("MODELGOV_RETENTION_RAW_DAYS") || envDefault("MODELGOV_RETENTION_RAW_DAYS"),
    retentionAggregateDays:
      get("MODELGOV_RETENTION_AGGREGATE_DAYS") || envDefault("MODELGOV_RETENTION_AGGREGATE_DAYS"),
    kubeconfig: get("MODELGOV_KUBECONFIG") || undefined,
    trafficResyncMs: get("MODELGOV_TRAFFIC_RESYNC_MS") || envDefault("MODELGOV_TRAFFIC_RESYNC_MS"),
    otelEndpoint: get("OTEL_EXPORTER_OTLP_ENDPOINT") || undefined,
    otelTracesEndpoint: get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || undefined,
    otelHeaders: get("OTEL_EXPORTER_OTLP_HEADERS") ?? "",
    otelServiceName: get("OTEL_SERVICE_NAME") || envDefault("OTEL_SERVICE_NAME"),
    otelTracesSampler: get("OTEL_TRACES_SAMPLER")?.trim().toLowerCase() || envDefault("OTEL_TRACES_SAMPLER"),
    otelTracesSamplerArg: get("OTEL_TRACES_SAMPLER_ARG") || envDefault("OTEL_TRACES_SAMPLER_ARG"),
    // The specification's boolean: only "true" (any case) is true.
    otelSdkDisabled: (get("OTEL_SDK_DISABLED") ?? "").trim().toLowerCase() === "true",
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const parsed = ConfigSchema.refine((c) => !(c.auditSigningKey && c.auditSigningKeyFile), {
    path: ["auditSigningKeyFile"],
    message: "set MODELGOV_AUDIT_SIGNING_KEY or MODELGOV_AUDIT_SIGNING_KEY_FILE, not both",
  })
    .refine((c) => c.retentionAggregateDays >= c.retentionRawDays, {
      path: ["retentionAggregateDays"],
      message: "must be at least MODELGOV_RETENTION_RAW_DAYS: the roll-ups outlive the raw rows",
    })
    .safeParse(raw);
  if (!parsed.success) {
    // Name the variable too: the key alone (gatewayRateLimitPerSec) is not what the operator set.
    const lines = parsed.error.issues.map((i) => {
      const variable = ENVIRONMENT.find((v) => "key" in v && v.key === i.path[0])?.name;
      const fromFlag = (overrides as Record<string, unknown>)[String(i.path[0])] !== undefined;
      const from = variable && !fromFlag ? ` (${variable})` : "";
      return `  ${i.path.join(".")}: ${i.message}${from}`;
    });
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze({
    ...parsed.data,
    dataDir: path.resolve(parsed.data.dataDir),
    // Production never seeds the demo, whatever --no-demo (which is always passed) says.
    demo: parsed.data.mode === "production" ? false : parsed.data.demo,
  });
}
