import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { createApp } from "./http/app.ts";
import { consoleRoutes, findConsoleDir } from "./http/console.ts";
import type { Clock } from "./lib/clock.ts";
import { createLogger, type Logger } from "./lib/logger.ts";
import { approvalRoutes, createApprovalsService } from "./modules/approvals/index.ts";
import { type AuditOptions, auditRoutes, createAuditService } from "./modules/audit/index.ts";
import { biasDriftRoutes, createBiasDriftService } from "./modules/bias-drift/index.ts";
import { cardRoutes, createCardsService } from "./modules/cards/index.ts";
import { createDependentsService, dependentsRoutes } from "./modules/dependents/index.ts";
import { createEvalsService, evalRoutes, latestRunFacts } from "./modules/evals/index.ts";
import { createExperimentsService, experimentRoutes } from "./modules/experiments/index.ts";
import { createFeedbackService, createFeedbackWriter } from "./modules/feedback/index.ts";
import {
  createFlagsService,
  flagChangeRoutes,
  flagsRoutes,
  ofrepRoutes,
  registerFlagMetrics,
} from "./modules/flags/index.ts";
import {
  createGatewayMetrics,
  createRouteConfigService,
  describeGateway,
  type MetricsMode,
  metricsRoutes,
  routeConfigRoutes,
} from "./modules/gateway/index.ts";
import { createIdentityService, identityRoutes } from "./modules/identity/index.ts";
import { createKillSwitchesService, killSwitchRoutes } from "./modules/kill-switches/index.ts";
import {
  createMonitoringService,
  monitoringRoutes,
  registerMonitorMetrics,
} from "./modules/monitoring/index.ts";
import { createRegistryService, type ProductionGate, registryRoutes } from "./modules/registry/index.ts";
import {
  createRequestLogWriter,
  featureBackfillPending,
  featureHistograms,
  registerFeatureBackfillMetrics,
} from "./modules/request-log/index.ts";
import { createRetrainingService, reportOfFiredRule, retrainingRoutes } from "./modules/retraining/index.ts";
import {
  createRolloutsService,
  createShadowService,
  registerRolloutMetrics,
  rolloutRoutes,
  shadowRoutes,
  storedPlans,
} from "./modules/rollouts/index.ts";
import { createRoutersService, routersRoutes } from "./modules/routers/index.ts";
import { createSpecService, specRoutes } from "./modules/spec/index.ts";
import { createTrafficService, trafficRoutes } from "./modules/traffic/index.ts";
import { createWebhooksService, registerWebhookMetrics, webhookRoutes } from "./modules/webhooks/index.ts";
import type { Db } from "./store/db.ts";

export const VERSION = "0.1.0";

/** Builds every service and the HTTP app over one store. main.ts and the tests both wire through here. */
export function createServices({
  db,
  clock,
  openProductionGate = false,
  audit: auditOptions = {},
  logger = createLogger("silent"),
  spoolDir = path.join(os.tmpdir(), `modelgov-spool-${randomBytes(6).toString("hex")}`),
  biasDrift: biasDriftOptions = {},
  evalScorersDir,
  webhookUrlCheck,
}: {
  db: Db;
  clock: Clock;
  /** Tests and benchmarks of registry mechanics only: promote without approvals. */
  openProductionGate?: boolean;
  /** Checkpoint signing key and targets (main.ts); tests get a fresh key and no targets. */
  audit?: AuditOptions;
  logger?: Logger;
  /** Request-log and feedback batches the database cannot take yet (main.ts: <dataDir>/spool). */
  spoolDir?: string;
  /** Bias-drift window length and settle time (main.ts: from config). */
  biasDrift?: { windowMs?: number; settleMs?: number };
  /** Operator-installed custom scorer modules (MODELGOV_EVAL_SCORERS_DIR); unset disables custom scorers. */
  evalScorersDir?: string;
  /** Why a webhook receiver URL is refused (main.ts: the webhook egress guard); unset checks nothing. */
  webhookUrlCheck?: (url: string) => string | null;
}) {
  // Retraining tasks follow their candidate through the registry and the approvals, which call
  // back into it inside their own transactions; `retraining` is built below, before any call.
  const approvals = createApprovalsService({
    db,
    clock,
    onApproved: (tx, ctx, versionId, requestId) => retraining.onApproved(tx, ctx, versionId, requestId),
    // `flags` is built below; these run only on a write, after it is.
    segmentsChanged: (tx) => flags.holdSegments(tx, "this policy", "body.segments"),
  });
  const productionGate: ProductionGate = openProductionGate
    ? async () => ({ ok: true, requestId: null, unmet: [] })
    : (tx, versionId) => approvals.gate(tx, versionId);
  const registry = createRegistryService({
    db,
    clock,
    productionGate,
    retrainedCandidate: {
      check: (tx, model, taskId) => retraining.retrainedCandidate.check(tx, model, taskId),
      registered: (tx, ctx, version) => retraining.retrainedCandidate.registered(tx, ctx, version),
    },
    enteredProduction: (tx, ctx, version) => retraining.onEnteredProduction(tx, ctx, version),
    segmentsAffected: (tx, model, what, field) => flags.holdSegments(tx, what, field, model),
  });
  const cards = createCardsService({
    db,
    clock,
    onRevised: (tx, ctx, versionId, revision) =>
      approvals.voidRequests(tx, ctx, versionId, `card revised (revision ${revision}) after the request`),
  });
  const routes = createRouteConfigService({ db, clock });
  const killSwitches = createKillSwitchesService({ db, clock });
  const traffic = createTrafficService({ db, clock });
  const monitoring = createMonitoringService({
    db,
    clock,
    gatesFor: (q, modelId) => approvals.gatesFor(q, modelId),
    // Drift rules read the request log's hourly feature roll-up (and the raw rows of ragged ends).
    readFeatures: async (q, model, versionId, from, to) =>
      (await featureHistograms(q, model, [versionId], from, to)).get(versionId) ?? {},
    // Hours whose pre-migration rows the backfill job has not summed yet: drift windows wait.
    featuresPending: (q) => featureBackfillPending(q),
    // A rule that fires or keeps breaching opens (or extends) the model's retraining task, in the window's transaction.
    onFire: (tx, ctx, fired) => retraining.openOrExtend(reportOfFiredRule(fired), ctx, tx).then(() => {}),
  });
  const spec = createSpecService({
    db,
    clock,
    registry,
    cards,
    approvals,
    routes,
    traffic,
    monitoring,
    // `flags` is built below (it counts into the metrics registry), before any call.
    flags: { putTx: (...args) => flags.putTx(...args) },
  });
  const identity = createIdentityService({
    db,
    clock,
    declaredRoles: async () => {
      const p = await approvals.getPolicy();
      return [
        ...new Set(
          [
            ...p.rules,
            ...p.flagChanges,
            ...p.segments.map((s) => ({ roles: s.require.roles ?? {} })),
          ].flatMap((r) => Object.keys(r.roles)),
        ),
      ];
    },
  });
  const webhooks = createWebhooksService({
    db,
    clock,
    ...(webhookUrlCheck ? { checkUrl: webhookUrlCheck } : {}),
  });
  const audit = createAuditService({ db, clock, ...auditOptions });
  // Gateway logs: batched off the hot path; main.ts starts and stops the writers.
  const requestLog = createRequestLogWriter({ db, clock, logger, spoolDir });
  const feedbackLog = createFeedbackWriter({ db, clock, logger, spoolDir });
  const feedback = createFeedbackService({ writer: feedbackLog, clock });
  const dependents = createDependentsService({ db, clock });
  const rollouts = createRolloutsService({
    db,
    clock,
    routes,
    registry,
    clusterSync: (q, modelId) => traffic.syncFor(q, modelId),
    servable: (tx, id) => approvals.gate(tx, id),
    plans: () => storedPlans(db),
  });
  const shadow = createShadowService({ db, clock, routes, servable: (tx, id) => approvals.gate(tx, id) });
  const experiments = createExperimentsService({
    db,
    clock,
    routes,
    servable: (tx, id) => approvals.gate(tx, id),
  });
  const evals = createEvalsService({
    db,
    clock,
    approvals,
    cards,
    ...(evalScorersDir ? { scorersDir: evalScorersDir } : {}),
  });
  const routers = createRoutersService({ db, clock, registry, evals, cards });
  const biasDrift = createBiasDriftService({
    db,
    clock,
    gatesFor: (q, modelId) => approvals.gatesFor(q, modelId),
    ...biasDriftOptions,
  });
  const retraining = createRetrainingService({
    db,
    clock,
    approvalOf: (q, versionId) => approvals.gate(q, versionId),
    runs: { get: (id) => evals.getRow(id), cases: (id) => evals.cases(id, {}) },
  });
  const metrics = createGatewayMetrics({
    logs: { request_log: requestLog.stats, feedback: feedbackLog.stats },
  });
  registerMonitorMetrics(metrics.registry, monitoring);
  registerFeatureBackfillMetrics(metrics.registry, db);
  /** modelgov_flag_evaluations_total: OFREP and the API through the service, the gateway's route flags. */
  const countFlagEvaluation = registerFlagMetrics(metrics.registry);
  /** Control plane: the rollout controller's decisions and the webhook dispatcher's passes (main.ts). */
  const countRolloutDecision = registerRolloutMetrics(metrics.registry, rollouts);
  const countWebhookPass = registerWebhookMetrics(metrics.registry, db);
  const flags = createFlagsService({
    db,
    clock,
    servable: (q, id) => approvals.gate(q, id),
    segments: {
      policy: (q) => approvals.getPolicy(q),
      signedRoles: (q, id) => approvals.signedRoles(q, id),
      latestRun: (q, id, suite) => latestRunFacts(q, id, suite),
    },
    policy: (q) => approvals.getPolicy(q),
    onEvaluated: countFlagEvaluation,
  });
  /** Versions outside production that may serve: those with an approval in force. */
  const approvedIds = async (ids: string[]) => {
    const ok = new Set<string>();
    for (const id of ids) if ((await approvals.gate(db, id)).ok) ok.add(id);
    return ok;
  };
  return {
    db,
    clock,
    registry,
    cards,
    spec,
    identity,
    approvals,
    routes,
    killSwitches,
    approvedIds,
    webhooks,
    audit,
    requestLog,
    feedbackLog,
    feedback,
    dependents,
    rollouts,
    traffic,
    shadow,
    experiments,
    biasDrift,
    monitoring,
    evals,
    routers,
    retraining,
    evalScorersDir,
    metrics,
    flags,
    countFlagEvaluation,
    countRolloutDecision,
    countWebhookPass,
  };
}

export type Services = ReturnType<typeof createServices>;

export function createHttpApp(
  services: Services,
  logger: Logger,
  opts: { metrics?: MetricsMode; consoleDir?: string | null; draining?: () => boolean } = {},
) {
  const app = createApp({
    ...(opts.draining ? { draining: opts.draining } : {}),
    db: services.db,
    authenticate: (token) => services.identity.authenticate(token),
    logger,
    version: VERSION,
    api: [
      registryRoutes(services.registry),
      cardRoutes(services.cards),
      specRoutes(services.spec),
      identityRoutes(services.identity),
      approvalRoutes(services.approvals, services.registry),
      routeConfigRoutes(services.routes),
      killSwitchRoutes(services.killSwitches),
      webhookRoutes(services.webhooks),
      auditRoutes(services.audit),
      dependentsRoutes(services.dependents),
      rolloutRoutes(services.rollouts),
      trafficRoutes(services.traffic),
      shadowRoutes(services.shadow),
      experimentRoutes(services.experiments),
      biasDriftRoutes(services.biasDrift),
      monitoringRoutes(services.monitoring),
      evalRoutes(services.evals),
      routersRoutes(services.routers),
      retrainingRoutes(services.retraining),
      flagsRoutes(services.flags),
      flagChangeRoutes(services.flags),
    ],
    root: [
      metricsRoutes({
        metrics: services.metrics,
        mode: opts.metrics ?? "public",
        authenticate: (token) => services.identity.authenticate(token),
      }),
      ofrepRoutes({ flags: services.flags, authenticate: (token) => services.identity.authenticate(token) }),
      // Last: its catch-all answers only page paths (never /api, /v1, probes or /metrics).
      consoleRoutes(opts.consoleDir === undefined ? findConsoleDir() : opts.consoleDir),
    ],
  });
  // The gateway's /v1 is served outside Hono (main.ts); its paths join the one document.
  describeGateway(app.openAPIRegistry);
  return app;
}
