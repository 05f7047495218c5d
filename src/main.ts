import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import path from "node:path";
import { getRequestListener } from "@hono/node-server";
import { type Config, productionProblems } from "./config.ts";
import { seedDemo } from "./demo/seed.ts";
import { findConsoleDir } from "./http/console.ts";
import { createDrain } from "./http/drain.ts";
import { systemClock } from "./lib/clock.ts";
import { createLogger } from "./lib/logger.ts";
import { startWorkers } from "./lib/workers.ts";
import { loadSigningKey } from "./modules/audit/index.ts";
import { createBiasDriftJob } from "./modules/bias-drift/index.ts";
import { createEvalInvoker, createEvalWorker } from "./modules/evals/index.ts";
import { createExperimentWatcher } from "./modules/experiments/index.ts";
import { createTracing, tracingSettings } from "./modules/gateway/index.ts";
import { serverTimeoutOptions } from "./modules/gateway/limits/index.ts";
import { createGatewayRuntime } from "./modules/gateway/runtime.ts";
import { createMonitoringJob } from "./modules/monitoring/index.ts";
import { createFeatureBackfillJob, createRetentionJob } from "./modules/request-log/index.ts";
import { createRolloutController } from "./modules/rollouts/index.ts";
import { createKubeApplier, createTrafficReconciler } from "./modules/traffic/index.ts";
import { createWebhookDispatcher, createWebhookEgress } from "./modules/webhooks/index.ts";
import { createHttpApp, createServices, VERSION } from "./services.ts";
import { openDb } from "./store/db.ts";
import { migrateOnStart } from "./store/migrate.ts";

/** Composition root: config → store → services → http → listen. */
export async function startServer(config: Config) {
  const refused = productionProblems(config);
  if (refused.length) throw new Error(`MODELGOV_MODE=production:\n  ${refused.join("\n  ")}`);
  const logger = createLogger(config.logLevel);
  if (!config.databaseUrl) mkdirSync(config.dataDir, { recursive: true });
  const db = await openDb({
    databaseUrl: config.databaseUrl,
    directUrl: config.databaseDirectUrl,
    dataDir: config.databaseUrl ? undefined : `${config.dataDir}/pgdata`,
  });
  // Under a least-privilege role (docs/audit.md) nothing is migrated here: pending migrations stop the start, saying what to run.
  const { applied, status } = await migrateOnStart(db);
  // The embedded store has no autovacuum: without statistics every search becomes a full scan.
  if (db.kind === "pglite") await db.exec("ANALYZE");
  logger.info(
    {
      store: db.kind,
      where: config.databaseUrl ? "DATABASE_URL" : config.dataDir,
      ...(config.databaseUrl && config.databaseDirectUrl ? { listen: "MODELGOV_DATABASE_DIRECT_URL" } : {}),
      applied,
    },
    "store ready",
  );
  if (config.databaseDirectUrl && !config.databaseUrl)
    logger.warn(
      "MODELGOV_DATABASE_DIRECT_URL is set without DATABASE_URL: the embedded store has no use for it",
    );
  if (db.kind === "postgres" && status.canMigrate)
    logger.warn(
      { role: status.role },
      "the server's database role owns the tables: it could disable the audit log's triggers; run it as a least-privilege role (modelgov db grants, docs/audit.md)",
    );
  if (config.migrateDatabaseUrl)
    logger.warn(
      "MODELGOV_MIGRATE_DATABASE_URL is set in the server's environment; the server never uses it, and the owner's credentials are safer kept to the migrate job",
    );
  // Audit checkpoints are signed with a key that never enters the database, and written outside it.
  const signing = loadSigningKey({
    pem: config.auditSigningKey,
    keyFile: config.auditSigningKeyFile ? path.resolve(config.auditSigningKeyFile) : undefined,
    file: path.join(config.dataDir, "audit-signing-key.pem"),
  });
  const checkpointFile = path.resolve(
    config.auditCheckpointFile ?? path.join(config.dataDir, "audit-checkpoints.jsonl"),
  );
  logger.info(
    {
      keyId: signing.key.keyId,
      key: signing.source,
      file: checkpointFile,
      webhook: !!config.auditCheckpointWebhook,
      stdout: config.auditCheckpointStdout,
      intervalMs: config.auditCheckpointIntervalMs,
      everyEvents: config.auditCheckpointEveryEvents || undefined,
    },
    "audit checkpoints",
  );
  // Webhook receivers: any public host; loopback, private and metadata only when allow-listed.
  const webhookEgress = createWebhookEgress({ allowHosts: config.webhookAllowHosts });
  const services = createServices({
    db,
    clock: systemClock,
    logger,
    webhookUrlCheck: webhookEgress.checkUrl,
    spoolDir: path.resolve(config.spoolDir ?? path.join(config.dataDir, "spool")),
    ...(config.evalScorersDir ? { evalScorersDir: path.resolve(config.evalScorersDir) } : {}),
    biasDrift: { windowMs: config.biasDriftWindowMs, settleMs: config.biasDriftSettleMs },
    audit: {
      key: signing.key,
      checkpointFile,
      webhookUrl: config.auditCheckpointWebhook,
      // Whole lines, written synchronously on Linux pipes and files: never interleaved with the log's.
      stdout: config.auditCheckpointStdout ? (line) => void process.stdout.write(line) : undefined,
      intervalMs: config.auditCheckpointIntervalMs,
      everyEvents: config.auditCheckpointEveryEvents,
      logger,
    },
  });
  const boot = await services.identity.bootstrapAdmin(config.adminToken);
  if (boot.created && !config.adminToken) {
    // Shown once: written where only this user can read it, and never logged.
    mkdirSync(config.dataDir, { recursive: true });
    const file = path.join(config.dataDir, "admin-token");
    writeFileSync(file, `${boot.token}\n`, { mode: 0o600 });
    logger.warn({ file }, "created the first admin token; it is in this file, readable only by you");
  } else if (boot.created) logger.info("registered MODELGOV_ADMIN_TOKEN as an admin token");
  if (config.demo && (await seedDemo(services)))
    logger.info(
      "seeded the demo workspace (models support-assistant and support-embeddings); --no-demo skips it",
    );
  const app = createHttpApp(services, logger, {
    // From the start of shutdown: readiness answers 503 (drain is created with the server below).
    draining: () => drain.draining(),
    metrics: config.metrics,
    consoleDir: findConsoleDir(config.consoleDir ? path.resolve(config.consoleDir) : undefined),
  });
  // Delivers outbox events to webhook subscribers; replicas share the work through row claims.
  const webhooks = createWebhookDispatcher({
    db,
    clock: systemClock,
    logger,
    intervalMs: config.webhookIntervalMs,
    fetch: webhookEgress.fetch,
    onPass: services.countWebhookPass,
  });
  // OpenTelemetry spans of gateway calls, only with an OTLP endpoint (the SDK is loaded then only).
  const traces = tracingSettings(config, VERSION);
  const tracing = await createTracing(traces);
  if (traces) logger.info({ url: traces.url, sampler: traces.sampler }, "OpenTelemetry traces exported");
  // The data plane: routing state in memory, refreshed on every committed change.
  const gateway = createGatewayRuntime({ services, config, logger, clock: systemClock, tracing });
  // Rollouts: one controller across replicas (a lease row); a breaker opening kicks it at once.
  const controller = createRolloutController({
    db,
    rollouts: services.rollouts,
    logger,
    leaseTtlMs: config.leaderLeaseTtlMs,
    onDecision: services.countRolloutDecision,
    breakerState: (versionId) => {
      const s = gateway.breakers.get(versionId).state();
      return s === "CLOSED" ? "closed" : s === "OPEN" ? "open" : "half_open";
    },
  });
  gateway.breakers.onStateChange((change) => {
    if (change.to === "OPEN") void controller.kick();
  });
  // Containerised models: their cluster routes follow the split and the production alias. One
  // across replicas; a committed route change (any replica, via NOTIFY) makes it look at once.
  const trafficReconciler = createTrafficReconciler({
    db,
    clock: systemClock,
    logger,
    resyncMs: config.trafficResyncMs,
    applier: () => createKubeApplier(config.kubeconfig ? { kubeconfigPath: config.kubeconfig } : {}),
  });
  gateway.routing.onChange(() => void trafficReconciler.kick());
  // Experiments: every replica looks at the running ones; a breached guardrail stops one at once.
  const experimentWatcher = createExperimentWatcher({ experiments: services.experiments, logger });
  // Evaluation runs: any replica takes a run it can lease, through the gateway's guarded adapters.
  const evalWorker = createEvalWorker({
    db,
    clock: systemClock,
    evals: services.evals,
    invoker: createEvalInvoker({ db, adapters: gateway.adapters, apiKeyFor: gateway.apiKeyFor }),
    logger,
    leaseTtlMs: config.evalLeaseTtlMs,
    ...(services.evalScorersDir ? { scorersDir: services.evalScorersDir } : {}),
  });
  // Bias drift: one job across replicas (a lease row) recomputes per-group success per window.
  const biasDriftJob = createBiasDriftJob({
    db,
    drift: services.biasDrift,
    logger,
    intervalMs: config.biasDriftIntervalMs,
  });
  // Monitoring: one job across replicas judges the production versions' ended windows.
  const monitoringJob = createMonitoringJob({ db, monitoring: services.monitoring, logger });
  // Request log retention: one job across replicas makes partitions ahead and drops expired days.
  const retentionJob = createRetentionJob({
    db,
    clock: systemClock,
    logger,
    policy: { rawDays: config.retentionRawDays, aggregateDays: config.retentionAggregateDays, aheadDays: 3 },
  });
  // The features migration's backfill: one job across replicas sums the rows logged before it,
  // an hour per transaction, newest first; a no-op once done (feature-backfill.ts).
  const featureBackfillJob = createFeatureBackfillJob({ db, logger });
  // Started in this order, stopped in reverse: the request log and feedback writers first
  // (replaying what a previous run spooled) and last to stop (flushing to the database, else
  // the spool), the gateway before the jobs that use its breakers and adapters, the rollout
  // controller last started and first stopped.
  const workers = await startWorkers(
    [
      {
        name: "feedback log",
        start: () => services.feedbackLog.start(),
        stop: () => services.feedbackLog.stop(),
      },
      {
        name: "request log",
        start: () => services.requestLog.start(),
        stop: () => services.requestLog.stop(),
      },
      {
        name: "audit checkpoints",
        start: () => services.audit.checkpointer.start(),
        stop: () => services.audit.checkpointer.stop(),
      },
      { name: "webhook dispatcher", start: () => webhooks.start(), stop: () => webhooks.stop() },
      { name: "gateway routing", start: () => gateway.start(), stop: () => gateway.stop() },
      { name: "bias drift job", start: () => biasDriftJob.start(), stop: () => biasDriftJob.stop() },
      { name: "monitoring job", start: () => monitoringJob.start(), stop: () => monitoringJob.stop() },
      { name: "log retention", start: () => retentionJob.start(), stop: () => retentionJob.stop() },
      {
        name: "feature backfill",
        start: () => featureBackfillJob.start(),
        stop: () => featureBackfillJob.stop(),
      },
      { name: "eval worker", start: () => evalWorker.start(), stop: () => evalWorker.stop() },
      {
        name: "experiment watcher",
        start: () => experimentWatcher.start(),
        stop: () => experimentWatcher.stop(),
      },
      {
        name: "traffic reconciler",
        start: () => trafficReconciler.start(),
        stop: () => trafficReconciler.stop(),
      },
      { name: "rollout controller", start: () => controller.start(), stop: () => controller.stop() },
    ],
    { logger },
  );
  // One server: /v1/* goes straight to the gateway (no framework on the hot path), the rest
  // to the control plane. Slow clients are cut off (headers and whole request timeouts,
  // checked every second).
  const controlPlane = getRequestListener(app.fetch);
  const server: Server = createServer(
    serverTimeoutOptions({
      headersTimeoutMs: config.gatewayHeadersTimeoutMs,
      requestTimeoutMs: Math.max(config.gatewayBodyTimeoutMs, config.gatewayHeadersTimeoutMs) + 5_000,
      keepAliveTimeoutMs: 5_000,
    }),
    (req, res) => {
      drain.track(res);
      if (gateway.handler.handles(req.url)) void gateway.handler.handle(req, res);
      else void controlPlane(req, res);
    },
  );
  // Shutdown: each connection's current answer is its last; what is still open at the deadline is cut.
  const drain = createDrain(server, { timeoutMs: config.drainTimeoutMs });
  await new Promise<void>((resolve) => server.listen(config.port, config.host, () => resolve()));
  logger.info(
    {
      url: `http://${config.host}:${(server.address() as { port: number }).port}`,
      openapi: "/api/v1/openapi.json",
      gateway: "/v1",
      mode: config.mode,
    },
    "modelgov listening",
  );
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  let closing: Promise<void> | undefined;
  /**
   * Graceful shutdown, in order: readiness turns 503 and no new connection is taken; requests
   * in flight finish, each keep-alive connection closing after its current answer (src/http/
   * drain.ts), whatever is open at the drain deadline is cut; then the workers stop in reverse
   * order of start (the request log and feedback last, flushed to the database, else the
   * spool), a stop that fails or hangs logged without holding up the others; the store closes.
   */
  const close = () =>
    (closing ??= (async () => {
      const d = await drain.close();
      logger.info({ ms: d.ms, cut: d.cut }, "connections drained");
      await workers.stopAll();
      // The last spans are exported (the requests that made them have ended).
      await tracing?.shutdown().catch((err) => logger.warn({ err }, "exporting the last spans failed"));
      await db.close();
    })());
  return { app, services, gateway, controller, port, url: `http://${config.host}:${port}`, close, logger };
}
