// One look at an experiment (its arms' windows → the engine's results), and how an
// experiment ends (split cleared, status, audit event), both on the caller's transaction.

import { type ExperimentInput, experimentResults } from "../../engines/experiments/index.ts";
import type { SequentialResult } from "../../engines/stats/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import type { RouteConfigService } from "../gateway/index.ts";
import { routerPaths, unitsPerVersion, windowMetrics } from "../request-log/index.ts";
import {
  type ArmPaths,
  type ExperimentRow,
  type ExperimentStatus,
  endExperiment,
  type Look,
  saveLook,
} from "./experiments.store.ts";

/**
 * The previous look's sequential results, so the always-valid p and interval carry on. Only
 * looks past the minimum sample and duration are carried: a tiny early sample can have no
 * variance at all (2 of 2 against 0 of 2), and its p of 0 would then stick for good.
 */
function previousLooks(e: ExperimentRow): Record<string, SequentialResult> {
  const out: Record<string, SequentialResult> = {};
  const last = e.lastResults?.results;
  if (!last?.minimumMet) return out;
  for (const c of last.primary)
    if (c.sequential && c.sequential.se > 0 && c.sequential.alpha === e.alpha) out[c.arm] = c.sequential;
  return out;
}

/** The experiment's input for the engine at `now`: every arm's totals since it started. */
export async function experimentInput(tx: Queryable, e: ExperimentRow, now: Date): Promise<ExperimentInput> {
  const until = new Date(now.getTime() + 1);
  const ids = e.arms.map((a) => a.versionId);
  const windows = await windowMetrics(tx, e.model, ids, e.startedAt, until);
  const units = await unitsPerVersion(tx, e.id);
  return {
    arms: e.arms.map((a) => {
      const w = windows.get(a.versionId)!;
      return {
        name: a.name,
        version: a.version,
        weight: a.weight,
        units: units.get(a.versionId) ?? 0,
        requests: w.requests,
        errors: w.errors,
        feedbackCount: w.feedbackCount,
        successes: w.successes,
        scoreCount: w.scoreCount,
        scoreSum: w.scoreSum,
        scoreSumSquares: w.scoreSumSquares,
        costUsd: w.costUsd,
        costSumSquares: w.costSumSquares,
        latencyP95Ms: w.latencyP95Ms,
        latencyHistogram: w.latencyHistogram,
      };
    }),
    primary: e.primary,
    secondary: e.secondary,
    guardrails: e.guardrails,
    minSamplePerArm: e.minSamplePerArm,
    minDurationMs: e.minDurationMs,
    elapsedMs: now.getTime() - e.startedAt.getTime(),
    alpha: e.alpha,
    plan: {
      samplePerArm: e.plannedSamplePerArm,
      ...(e.baselineRate !== null ? { baselineRate: e.baselineRate } : {}),
      ...(e.scoreVariance !== null ? { scoreVariance: e.scoreVariance } : {}),
    },
    previousLooks: previousLooks(e),
  };
}

/** Computes the results at `now` and keeps them as the experiment's last look. */
export async function takeLook(tx: Tx, e: ExperimentRow, now: Date): Promise<Look> {
  const look = await computeLook(tx, e, now);
  await saveLook(tx, e.id, look);
  return look;
}

/** The results as of `now`, without recording the look (for reads: a GET changes nothing). */
export async function computeLook(q: Queryable, e: ExperimentRow, now: Date): Promise<Look> {
  const input = await experimentInput(q, e, now);
  const look: Look = {
    at: now.toISOString(),
    elapsedMs: input.elapsedMs!,
    results: experimentResults(input),
  };
  const paths = await armPaths(q, e, now);
  return paths.length ? { ...look, paths } : look;
}

/** The arms that are router versions, with their paths since the start (none: no router arm). */
async function armPaths(q: Queryable, e: ExperimentRow, now: Date): Promise<ArmPaths[]> {
  const until = new Date(now.getTime() + 1);
  const routers = await routerPaths(
    q,
    e.model,
    e.arms.map((a) => a.versionId),
    e.startedAt,
    until,
  );
  return e.arms.flatMap((a) => {
    const r = routers.find((x) => x.versionId === a.versionId);
    return r ? [{ arm: a.name, ...r }] : [];
  });
}

/**
 * Ends an experiment: the gateway's split is cleared (all traffic back to production) when
 * it is still this experiment's, the status and reason are set, and the audit event carries
 * the numbers of the final look.
 */
export async function endWith(
  tx: Tx,
  ctx: RequestContext,
  routes: RouteConfigService,
  e: ExperimentRow,
  look: Look,
  end: { status: Exclude<ExperimentStatus, "running">; action: string; reason: string; at: Date },
): Promise<void> {
  const cfg = await routes.getIn(tx, e.model);
  const ours = new Set(e.arms.map((a) => a.version));
  // Someone may have replaced the split since (a manual route change): theirs is left alone.
  if (cfg.split?.every((s) => ours.has(s.version)))
    await routes.set(ctx, e.model, { ...cfg, split: null }, tx);
  await endExperiment(tx, e.id, end.status, end.reason, end.at);
  const r = look.results;
  await recordAudit(tx, ctx, end.at, {
    action: end.action,
    subjectType: "model",
    subjectId: e.modelId,
    before: { experiment: e.id, status: e.status },
    after: {
      experiment: e.id,
      name: e.name,
      status: end.status,
      elapsedMs: look.elapsedMs,
      recommendation: r.recommendation,
      arms: r.arms,
      primary: r.primary,
      guardrails: r.guardrails,
      srm: r.srm,
    },
    reason: end.reason,
  });
}
