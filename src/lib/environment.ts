/**
 * Every environment variable modelgov reads, described once. config.ts (and the CLI) read the
 * environment only through `readEnv`, which takes a name from this list, so a variable cannot
 * be read without being described; the defaults here are the ones loadConfig applies.
 * docs/reference/environment.md and `modelgov serve --help` are generated from it.
 */

import { OTEL_ENVIRONMENT } from "./environment-otel.ts";

/** Who reads a variable: the server (`modelgov serve`), the CLI, `modelgov migrate` / `db grants`, the console's dev server. */
export type EnvScope = "server" | "cli" | "migrate" | "console";

export interface EnvVariable {
  name: string;
  /** The Config key it sets (config.ts), when it sets one. */
  key?: string;
  /** What a value looks like, for the reference (ranges and choices come from ConfigSchema). */
  type: string;
  /** The value loadConfig applies when the variable is unset (or empty, for most). */
  default?: string | number | boolean | readonly string[];
  /** The default in words, when it is not a fixed value. */
  defaultText?: string;
  /** One line: what it does. Shown by `modelgov serve --help`. */
  description: string;
  /** More, for the reference page. */
  details?: string;
  example: string;
  scope: readonly EnvScope[];
}

export const ENVIRONMENT = [
  {
    name: "MODELGOV_HOST",
    key: "host",
    type: "host name or address",
    default: "127.0.0.1",
    description: "address the server listens on (--host wins)",
    details: "Set `0.0.0.0` to listen on every interface, e.g. in a container.",
    example: "0.0.0.0",
    scope: ["server"],
  },
  {
    name: "MODELGOV_PORT",
    key: "port",
    type: "integer",
    default: 7070,
    description: "port the server listens on; 0 picks a free one (--port wins)",
    details: "The CLI does not read it: set `MODELGOV_URL` to match when you move the server.",
    example: "8080",
    scope: ["server"],
  },
  {
    name: "MODELGOV_DATA_DIR",
    key: "dataDir",
    type: "path",
    default: ".modelgov",
    description: "data folder: embedded database, admin token (the CLI's fallback token), audit key, spool",
    details:
      "The `--data-dir` flag of `serve` and `migrate` wins. Relative to the working directory. Holds `pgdata/` (the embedded database, unused with `DATABASE_URL`), `admin-token`, `audit-signing-key.pem`, `audit-checkpoints.jsonl` and `spool/`. The CLI reads `admin-token` from it when `MODELGOV_TOKEN` is unset.",
    example: "/var/lib/modelgov",
    scope: ["server", "cli", "migrate"],
  },
  {
    name: "DATABASE_URL",
    key: "databaseUrl",
    type: "postgres:// URL",
    defaultText: "unset: the embedded database in `<data dir>/pgdata`",
    description:
      "PostgreSQL connection of the server (and of migrate, without MODELGOV_MIGRATE_DATABASE_URL)",
    example: "postgres://modelgov_app:secret@db:5432/modelgov",
    scope: ["server", "migrate"],
  },
  {
    name: "MODELGOV_DATABASE_DIRECT_URL",
    key: "databaseDirectUrl",
    type: "postgres:// URL",
    defaultText: "`DATABASE_URL`",
    description: "connection used only for LISTEN (change notifications), when DATABASE_URL is a pooler",
    details:
      "LISTEN needs a session of its own, which a pooler in transaction mode (PgBouncer `pool_mode=transaction`) does not keep: point `DATABASE_URL` at the pooler and this at PostgreSQL itself (or at a session-mode pool). One connection per replica. See docs/replicas.md.",
    example: "postgres://modelgov_app:secret@db-primary:5432/modelgov",
    scope: ["server"],
  },
  {
    name: "MODELGOV_MIGRATE_DATABASE_URL",
    key: "migrateDatabaseUrl",
    type: "postgres:// URL",
    defaultText: "`DATABASE_URL`",
    description: "the migrations owner's connection, for `modelgov migrate` and `modelgov db grants`",
    details:
      "Never used by `serve` (which warns when it is set): the server can run as a least-privilege role without the owner's credentials. See docs/audit.md.",
    example: "postgres://modelgov_owner:secret@db:5432/modelgov",
    scope: ["migrate"],
  },
  {
    name: "MODELGOV_MODE",
    key: "mode",
    type: "development or production",
    default: "development",
    description: "production: never seed the demo; require DATABASE_URL and a shared audit signing key",
    details:
      "In `production` the demo workspace is never seeded (whatever `--no-demo` or `MODELGOV_NO_DEMO` say), and the server refuses to start without `DATABASE_URL` (replicas share one PostgreSQL; the embedded store is one process's) or without `MODELGOV_AUDIT_SIGNING_KEY` / `MODELGOV_AUDIT_SIGNING_KEY_FILE` (a key generated into each replica's data folder would differ between replicas). The Kubernetes manifests in `deploy/` set it. See docs/deploy.md.",
    example: "production",
    scope: ["server"],
  },
  {
    name: "MODELGOV_NO_DEMO",
    key: "demo",
    type: "flag (any non-empty value)",
    defaultText: "unset: the demo workspace is seeded into an empty store (never in production mode)",
    description: "do not seed the demo workspace on first start (as --no-demo)",
    example: "1",
    scope: ["server"],
  },
  {
    name: "MODELGOV_LOG_LEVEL",
    key: "logLevel",
    type: "log level",
    default: "info",
    description: "server log level (JSON lines on stdout)",
    example: "debug",
    scope: ["server"],
  },
  {
    name: "MODELGOV_URL",
    key: "serverUrl",
    type: "URL",
    default: "http://127.0.0.1:7070",
    description: "the server the CLI (and `npm run dev:console`) talks to (--url wins)",
    example: "https://modelgov.internal.example",
    scope: ["cli", "console"],
  },
  {
    name: "MODELGOV_TOKEN",
    type: "API token",
    defaultText: "unset: the admin token in `<data dir>/admin-token`, if a local server wrote one",
    description: "API token the CLI sends (Authorization: Bearer)",
    details: "Create one per person and role with `modelgov tokens create <name> --role <role>`.",
    example: "mgv_…",
    scope: ["cli"],
  },
  {
    name: "MODELGOV_ADMIN_TOKEN",
    key: "adminToken",
    type: "string, at least 16 characters",
    defaultText: "unset: an admin token is generated on first start and written to `<data dir>/admin-token`",
    description: "development: a fixed admin token registered on start",
    details:
      "Registered once: a token revoked later is not registered again. In a cluster it can serve as the bootstrap token, kept in a secret: create named tokens with it, then revoke it (docs/deploy.md).",
    example: "dev-admin-token-0123456789",
    scope: ["server"],
  },
  {
    name: "MODELGOV_WEBHOOK_INTERVAL_MS",
    key: "webhookIntervalMs",
    type: "milliseconds",
    default: 1000,
    description: "pause between webhook dispatch passes while idle",
    example: "5000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_WEBHOOK_ALLOW_HOSTS",
    key: "webhookAllowHosts",
    type: "comma-separated list",
    default: [],
    description: "webhook receivers allowed on loopback, private or link-local addresses",
    details:
      "Hosts, `*.wildcards`, IPs or CIDRs. Public receivers are always allowed; private ones only when listed here.",
    example: "hooks.internal.example,10.0.0.0/8",
    scope: ["server"],
  },
  {
    name: "MODELGOV_EGRESS_ALLOW_HOSTS",
    key: "egressAllowHosts",
    type: "comma-separated list",
    default: ["api.openai.com", "api.anthropic.com"],
    description: "upstream hosts the gateway may call (hosts, *.wildcards, IPs/CIDRs)",
    details:
      "A version whose endpoint is not on the list is refused. Listing an address or range also lifts the ban on private addresses for it (e.g. a local vLLM).",
    example: "api.openai.com,*.openai.azure.com,10.1.2.3",
    scope: ["server"],
  },
  {
    name: "MODELGOV_GATEWAY_RATE_PER_SEC",
    key: "gatewayRateLimitPerSec",
    type: "requests per second",
    default: 10,
    description: "gateway rate limit per API token: requests per second, refilled continuously",
    details:
      "Each token has a bucket of `MODELGOV_GATEWAY_RATE_BURST` requests, refilled at this rate; a request that finds it empty gets `429` with `Retry-After`, naming the limit. Per replica. Raise it for load tests and traffic loops.",
    example: "100",
    scope: ["server"],
  },
  {
    name: "MODELGOV_GATEWAY_RATE_BURST",
    key: "gatewayRateLimitBurst",
    type: "requests",
    default: 20,
    description: "gateway rate limit per API token: requests allowed at once before the rate applies",
    example: "200",
    scope: ["server"],
  },
  {
    name: "MODELGOV_GATEWAY_MAX_BODY_BYTES",
    key: "gatewayMaxBodyBytes",
    type: "bytes",
    default: 4 * 1024 * 1024,
    description: "largest gateway request body; larger ones get 413",
    example: "16777216",
    scope: ["server"],
  },
  {
    name: "MODELGOV_GATEWAY_HEADERS_TIMEOUT_MS",
    key: "gatewayHeadersTimeoutMs",
    type: "milliseconds",
    default: 10_000,
    description: "time a client has to send its request headers (408 after)",
    example: "20000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_GATEWAY_BODY_TIMEOUT_MS",
    key: "gatewayBodyTimeoutMs",
    type: "milliseconds",
    default: 30_000,
    description: "time a client has to send its request body (408 after)",
    example: "60000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_GATEWAY_BODIES",
    key: "gatewayBodies",
    type: "off, hash or sample:<rate>",
    default: "off",
    description: "request/response bodies in the request log: off, hash (SHA-256 only) or sample:<0..1>",
    details: "`sample:0.01` keeps the full bodies of 1 % of requests. See docs/request-log.md.",
    example: "sample:0.05",
    scope: ["server"],
  },
  {
    name: "MODELGOV_SPOOL_DIR",
    key: "spoolDir",
    type: "path",
    defaultText: "`<data dir>/spool`",
    description: "where request-log and feedback batches wait while the database is away",
    example: "/var/spool/modelgov",
    scope: ["server"],
  },
  {
    name: "MODELGOV_DRAIN_TIMEOUT_MS",
    key: "drainTimeoutMs",
    type: "milliseconds",
    default: 10_000,
    description: "on SIGTERM, how long requests in flight may finish before connections are cut",
    example: "25000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_METRICS",
    key: "metrics",
    type: "public, token or off",
    default: "public",
    description: "GET /metrics: public, token (a bearer token with registry:read) or off",
    example: "token",
    scope: ["server"],
  },
  {
    name: "MODELGOV_CONSOLE_DIR",
    key: "consoleDir",
    type: "path",
    defaultText: "`dist/console` beside the code",
    description: "the built web console served at /",
    example: "/opt/modelgov/console",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_SIGNING_KEY",
    key: "auditSigningKey",
    type: "Ed25519 private key, PKCS#8 PEM",
    defaultText: "`<data dir>/audit-signing-key.pem`, generated on first start",
    description: "the key signing audit checkpoints; replicas must share one",
    details: "A PEM on one line with literal `\\n` (as some secret stores hand it out) works too.",
    example: "-----BEGIN PRIVATE KEY-----\\nMC4CAQAwBQYDK2VwBCIEI…\\n-----END PRIVATE KEY-----",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_SIGNING_KEY_FILE",
    key: "auditSigningKeyFile",
    type: "path",
    defaultText: "unset (see `MODELGOV_AUDIT_SIGNING_KEY`)",
    description: "the signing key in a file outside the data folder; it must exist",
    details: "Not together with `MODELGOV_AUDIT_SIGNING_KEY`.",
    example: "/run/secrets/modelgov-audit-key.pem",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_CHECKPOINT_FILE",
    key: "auditCheckpointFile",
    type: "path",
    defaultText: "`<data dir>/audit-checkpoints.jsonl`",
    description: "audit checkpoints are appended to this file",
    example: "/mnt/worm/audit-checkpoints.jsonl",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_CHECKPOINT_WEBHOOK",
    key: "auditCheckpointWebhook",
    type: "URL",
    defaultText: "unset: no webhook",
    description: "audit checkpoints are also POSTed here",
    example: "https://notary.internal.example/modelgov",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_CHECKPOINT_STDOUT",
    key: "auditCheckpointStdout",
    type: "1, true, yes or on",
    default: false,
    description: "also write each audit checkpoint as a JSON line on stdout",
    example: "1",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_CHECKPOINT_INTERVAL_MS",
    key: "auditCheckpointIntervalMs",
    type: "milliseconds",
    default: 1000,
    description: "how often the audit head is looked at, and signed when it moved",
    example: "60000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS",
    key: "auditCheckpointEveryEvents",
    type: "integer",
    default: 0,
    description: "also a checkpoint as soon as this many audit events were appended (0: off)",
    example: "1000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_EVAL_SCORERS_DIR",
    key: "evalScorersDir",
    type: "path",
    defaultText: "unset: custom scorers are disabled",
    description: "folder of operator-installed custom scorer modules for evaluations",
    details: "Suites name modules relative to it (`module: ./tone.mjs`). See docs/evals.md.",
    example: "/opt/modelgov/scorers",
    scope: ["server"],
  },
  {
    name: "MODELGOV_EVAL_LEASE_TTL_MS",
    key: "evalLeaseTtlMs",
    type: "milliseconds",
    default: 30_000,
    description: "how long a dead runner's evaluation run stays leased before another takes it",
    example: "60000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_LEADER_LEASE_TTL_MS",
    key: "leaderLeaseTtlMs",
    type: "milliseconds",
    default: 10_000,
    description:
      "how long the rollout controller's leader lease lasts unrenewed: a stopped leader's replacement takes over after it",
    details:
      "The leader renews every second; another replica takes over once the lease has gone unrenewed this long (so failover takes about this, plus a second), and work the old leader still attempts under its old epoch is refused. Below 2 s a slow database round trip could cost a healthy leader its lease. See docs/replicas.md.",
    example: "5000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_BIAS_DRIFT_INTERVAL_MS",
    key: "biasDriftIntervalMs",
    type: "milliseconds",
    default: 60_000,
    description: "how often the bias drift job looks at live traffic",
    example: "300000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_BIAS_DRIFT_WINDOW_MS",
    key: "biasDriftWindowMs",
    type: "milliseconds",
    default: 3_600_000,
    description: "bias drift window length, at most a week",
    example: "86400000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_BIAS_DRIFT_SETTLE_MS",
    key: "biasDriftSettleMs",
    type: "milliseconds",
    default: 300_000,
    description: "how long after a bias drift window ends its late feedback is waited for",
    example: "900000",
    scope: ["server"],
  },
  {
    name: "MODELGOV_RETENTION_RAW_DAYS",
    key: "retentionRawDays",
    type: "integer",
    default: 30,
    description: "days of raw request-log and feedback rows kept (whole UTC days; the roll-ups outlive them)",
    details:
      "Raw rows are partitioned by UTC day; once a whole day is older than this, its partition is dropped. Analyses read the per-minute roll-ups, which are kept for MODELGOV_RETENTION_AGGREGATE_DAYS.",
    example: "7",
    scope: ["server"],
  },
  {
    name: "MODELGOV_RETENTION_AGGREGATE_DAYS",
    key: "retentionAggregateDays",
    type: "integer",
    default: 400,
    description: "days of per-minute request-log roll-ups kept; at least MODELGOV_RETENTION_RAW_DAYS",
    example: "90",
    scope: ["server"],
  },
  {
    name: "MODELGOV_KUBECONFIG",
    key: "kubeconfig",
    type: "path",
    defaultText:
      "unset: `@kubernetes/client-node`'s defaults (`KUBECONFIG`, then `~/.kube/config`, then the in-cluster service account)",
    description: "kubeconfig for writing containerised models' route weights (traffic targets)",
    details:
      "Read only once a model has a traffic target (docs/containers.md). In a pod, leave it unset: the service account's token is used, and it needs get and patch on the routes it steers (deploy/k8s-traffic/rbac.yaml). The API server is reached directly, not through the gateway's egress allow-list.",
    example: "/etc/modelgov/kubeconfig",
    scope: ["server"],
  },
  {
    name: "MODELGOV_TRAFFIC_RESYNC_MS",
    key: "trafficResyncMs",
    type: "milliseconds",
    default: 30_000,
    description: "how often a route already in sync is re-read and any weight edited by hand put back",
    details:
      "Changes reach the route at once (on every route config change, and a look each second); this is only the drift check.",
    example: "60000",
    scope: ["server"],
  },
  ...OTEL_ENVIRONMENT,
  {
    name: "*_API_KEY",
    key: "providerKeys",
    type: "string",
    defaultText: "unset",
    description:
      "provider API keys: OPENAI_API_KEY, ANTHROPIC_API_KEY, or the variable a version names in apiKeyEnv",
    details:
      "Every non-empty variable whose name ends in `_API_KEY` is available to the gateway; a version picks its own with the `apiKeyEnv` parameter.",
    example: "OPENAI_API_KEY=sk-…",
    scope: ["server"],
  },
] as const satisfies readonly EnvVariable[];

/** The name of a variable that can be read (the `*_API_KEY` family is read by pattern in config.ts). */
export type EnvName = Exclude<(typeof ENVIRONMENT)[number]["name"], "*_API_KEY">;

type Entry<N extends EnvName> = Extract<(typeof ENVIRONMENT)[number], { name: N }>;

/** Reads a described variable. */
export function readEnv(env: NodeJS.ProcessEnv, name: EnvName): string | undefined {
  return env[name];
}

/** A variable's default, as loadConfig applies it. */
export function envDefault<N extends EnvName>(
  name: N,
): Entry<N> extends { default: infer D } ? D : undefined {
  const v = ENVIRONMENT.find((e) => e.name === name) as EnvVariable | undefined;
  return v?.default as never;
}

/** A variable's default in a few words: the value, or what unset means. */
export function defaultLabel(v: EnvVariable): string {
  if (Array.isArray(v.default)) return v.default.length ? v.default.join(",") : "(none)";
  if (v.default === false) return "off";
  if (v.default !== undefined) return String(v.default);
  return "(unset)";
}

/** The variables of a scope as help text: name, default, one line each. */
export function environmentHelp(scope: EnvScope, heading = "Environment"): string {
  const vars = (ENVIRONMENT as readonly EnvVariable[]).filter((v) => v.scope.includes(scope));
  const nameWidth = Math.max(...vars.map((v) => v.name.length));
  const defaultWidth = Math.min(24, Math.max(...vars.map((v) => defaultLabel(v).length)));
  const lines = vars.map(
    (v) => `  ${v.name.padEnd(nameWidth)}  ${defaultLabel(v).padEnd(defaultWidth)}  ${v.description}`,
  );
  return [
    "",
    `${heading} (flags win; details in docs/reference/environment.md):`,
    `  ${"name".padEnd(nameWidth)}  ${"default".padEnd(defaultWidth)}  meaning`,
    ...lines,
  ].join("\n");
}
