import path from "node:path";
import { z } from "zod";

/** What the request log keeps of bodies: nothing, SHA-256 hashes, or whole bodies for a sampled share. */
const BodyPolicySchema = z.union([
  z.object({ mode: z.literal("off") }),
  z.object({ mode: z.literal("hash") }),
  z.object({ mode: z.literal("sample"), rate: z.number().min(0).max(1) }),
]);
export type BodyPolicy = z.infer<typeof BodyPolicySchema>;

/**
 * Environment parsed once, validated, frozen. The only place that reads process.env.
 * CLI flags override the environment by being passed in as `overrides`.
 */
const ConfigSchema = z.object({
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  dataDir: z.string().min(1),
  databaseUrl: z.string().url().optional(),
  /**
   * The migrations owner's connection (MODELGOV_MIGRATE_DATABASE_URL), read by `modelgov migrate`
   * and `modelgov db grants` only, never by `serve`: the server can then run as a least-privilege
   * role without the owner's credentials in its environment. Unset: DATABASE_URL.
   */
  migrateDatabaseUrl: z.string().url().optional(),
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
});

export type Config = Readonly<z.infer<typeof ConfigSchema>>;

export function loadConfig(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = {
    host: env.MODELGOV_HOST ?? "127.0.0.1",
    port: env.MODELGOV_PORT ?? 7070,
    dataDir: path.resolve(env.MODELGOV_DATA_DIR ?? ".modelgov"),
    databaseUrl: env.DATABASE_URL || undefined,
    migrateDatabaseUrl: env.MODELGOV_MIGRATE_DATABASE_URL || undefined,
    demo: !env.MODELGOV_NO_DEMO,
    logLevel: env.MODELGOV_LOG_LEVEL ?? "info",
    serverUrl: env.MODELGOV_URL ?? "http://127.0.0.1:7070",
    adminToken: env.MODELGOV_ADMIN_TOKEN || undefined,
    webhookIntervalMs: env.MODELGOV_WEBHOOK_INTERVAL_MS || 1000,
    auditCheckpointFile: env.MODELGOV_AUDIT_CHECKPOINT_FILE || undefined,
    auditCheckpointWebhook: env.MODELGOV_AUDIT_CHECKPOINT_WEBHOOK || undefined,
    auditCheckpointIntervalMs: env.MODELGOV_AUDIT_CHECKPOINT_INTERVAL_MS || 1_000,
    auditCheckpointEveryEvents: env.MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS || 0,
    auditCheckpointStdout: /^(1|true|yes|on)$/i.test(env.MODELGOV_AUDIT_CHECKPOINT_STDOUT ?? ""),
    // A PEM in one line with literal \n (as some secret stores hand it out) works too.
    auditSigningKey: env.MODELGOV_AUDIT_SIGNING_KEY?.replace(/\\n/g, "\n") || undefined,
    auditSigningKeyFile: env.MODELGOV_AUDIT_SIGNING_KEY_FILE || undefined,
    metrics: env.MODELGOV_METRICS || "public",
    spoolDir: env.MODELGOV_SPOOL_DIR || undefined,
    evalScorersDir: env.MODELGOV_EVAL_SCORERS_DIR || undefined,
    consoleDir: env.MODELGOV_CONSOLE_DIR || undefined,
    evalLeaseTtlMs: env.MODELGOV_EVAL_LEASE_TTL_MS || 30_000,
    egressAllowHosts: env.MODELGOV_EGRESS_ALLOW_HOSTS?.split(/[\s,]+/).filter(Boolean) ?? [
      "api.openai.com",
      "api.anthropic.com",
    ],
    webhookAllowHosts: env.MODELGOV_WEBHOOK_ALLOW_HOSTS?.split(/[\s,]+/).filter(Boolean) ?? [],
    gatewayMaxBodyBytes: env.MODELGOV_GATEWAY_MAX_BODY_BYTES || 4 * 1024 * 1024,
    providerKeys: Object.fromEntries(
      Object.entries(env).filter(
        (e): e is [string, string] => /_API_KEY$/.test(e[0]) && typeof e[1] === "string" && e[1] !== "",
      ),
    ),
    gatewayHeadersTimeoutMs: env.MODELGOV_GATEWAY_HEADERS_TIMEOUT_MS || 10_000,
    drainTimeoutMs: env.MODELGOV_DRAIN_TIMEOUT_MS || 10_000,
    gatewayBodyTimeoutMs: env.MODELGOV_GATEWAY_BODY_TIMEOUT_MS || 30_000,
    gatewayRateLimitPerSec: env.MODELGOV_GATEWAY_RATE_PER_SEC || 10,
    gatewayRateLimitBurst: env.MODELGOV_GATEWAY_RATE_BURST || 20,
    gatewayBodies: env.MODELGOV_GATEWAY_BODIES || "off",
    biasDriftIntervalMs: env.MODELGOV_BIAS_DRIFT_INTERVAL_MS || 60_000,
    biasDriftWindowMs: env.MODELGOV_BIAS_DRIFT_WINDOW_MS || 3_600_000,
    biasDriftSettleMs: env.MODELGOV_BIAS_DRIFT_SETTLE_MS || 300_000,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  };
  const parsed = ConfigSchema.refine((c) => !(c.auditSigningKey && c.auditSigningKeyFile), {
    path: ["auditSigningKeyFile"],
    message: "set MODELGOV_AUDIT_SIGNING_KEY or MODELGOV_AUDIT_SIGNING_KEY_FILE, not both",
  }).safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join("\n")}`);
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.dataDir) });
}
