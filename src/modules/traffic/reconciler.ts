import { systemContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { createLease, processHolder } from "../../lib/lease.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Db, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { ClusterError, type TrafficApplier } from "./kube.ts";
import { desiredWeights, sameWeights } from "./traffic.service.ts";
import { allTargets, markApplied, markFailed, type TargetRow } from "./traffic.store.ts";

export interface ReconcilerOptions {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Built on first use, so a server with no traffic target never loads cluster credentials. */
  applier: () => TrafficApplier;
  /** A look at every target (default 1 s); `kick()` looks at once (a route config changed). */
  tickMs?: number;
  /** Re-read a synced route this often and mend drift (default 30 s). */
  resyncMs?: number;
  /** Wait after a failed apply: base·2^(n−1), capped (defaults 1 s and 60 s). */
  retryBaseMs?: number;
  retryCapMs?: number;
  leaseTtlMs?: number;
  holder?: string;
}

/**
 * Drives each traffic target's route towards the weights the database says (the gateway's
 * split, else the production alias). One across replicas (a lease). The cluster is written
 * outside any transaction, idempotently (the same weights write nothing); the outcome is then
 * recorded with its audit event in one transaction, fenced by the lease. A failed apply is
 * retried with backoff and shows as `failing` in the target's and the rollout's status; the
 * rollout itself never waits for the cluster.
 */
export function createTrafficReconciler(opts: ReconcilerOptions) {
  const { db, clock, logger } = opts;
  const tickMs = opts.tickMs ?? 1000;
  const resyncMs = opts.resyncMs ?? 30_000;
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const retryCapMs = opts.retryCapMs ?? 60_000;
  const lease = createLease({
    db,
    name: "traffic-reconciler",
    holder: opts.holder ?? processHolder(),
    ttlMs: opts.leaseTtlMs ?? 10_000,
  });
  const ctx = systemContext("traffic-reconciler", "traffic");
  let applier: TrafficApplier | null = null;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;
  let again = false;
  const listeners = new Set<() => void>();

  /** Backing off after failures, unless the weights wanted changed since (a rollback goes at once). */
  const backingOff = (row: TargetRow, desired: Record<string, number> | null, now: number) =>
    row.failures > 0 &&
    !!row.nextAttemptAt &&
    Date.parse(row.nextAttemptAt) > now &&
    (desired === null ? row.attempted === null : sameWeights(row.attempted, desired));

  const due = (row: TargetRow, desired: Record<string, number>, now: number) => {
    if (backingOff(row, desired, now)) return false;
    if (!sameWeights(row.applied, desired)) return true;
    return !row.appliedAt || now - Date.parse(row.appliedAt) >= resyncMs;
  };

  async function fail(
    row: TargetRow,
    reason: string,
    attempted: Record<string, number> | null,
    fence: (tx: Tx) => Promise<boolean>,
  ) {
    const now = clock.now();
    const wait = Math.min(retryCapMs, retryBaseMs * 2 ** row.failures);
    await db.transaction(async (tx) => {
      if (!(await fence(tx))) return;
      await markFailed(
        tx,
        row.modelId,
        reason,
        now.toISOString(),
        new Date(now.getTime() + wait).toISOString(),
        attempted,
      );
      // The first failure of a streak, and a new reason, are audited (and reach webhooks); retries are not.
      if (row.failures === 0 || row.lastError !== reason)
        await recordAudit(tx, ctx, now, {
          action: "traffic.apply_failed",
          subjectType: "model",
          subjectId: row.modelId,
          before: { applied: row.applied },
          after: { target: row.target, error: reason, failures: row.failures + 1 },
          reason,
        });
    });
    logger.warn(
      { model: row.model, failures: row.failures + 1, err: reason },
      "traffic target not applied; retried",
    );
  }

  async function reconcile(row: TargetRow, fence: (tx: Tx) => Promise<boolean>) {
    const now = clock.now().getTime();
    const d = desiredWeights(row);
    if ("error" in d) {
      if (!backingOff(row, null, now)) await fail(row, d.error, null, fence);
      return;
    }
    if (!due(row, d.weights, now)) return;
    let result: Awaited<ReturnType<TrafficApplier["apply"]>>;
    try {
      applier ??= opts.applier();
      result = await applier.apply(row.target, new Map(Object.entries(d.weights)));
    } catch (err) {
      await fail(
        row,
        err instanceof ClusterError ? err.message : `cluster write failed: ${String(err)}`,
        d.weights,
        fence,
      );
      return;
    }
    const at = clock.now();
    await db.transaction(async (tx) => {
      if (!(await fence(tx))) return;
      if (
        !(await markApplied(tx, row.modelId, row.target, d.weights, result.resourceVersion, at.toISOString()))
      )
        return;
      if (result.changed || row.failures > 0 || !sameWeights(row.applied, d.weights))
        await recordAudit(tx, ctx, at, {
          action: "traffic.applied",
          subjectType: "model",
          subjectId: row.modelId,
          before: { weights: row.applied },
          after: {
            kind: row.target.kind,
            namespace: row.target.namespace,
            name: row.target.name,
            weights: d.weights,
            resourceVersion: result.resourceVersion,
            conflicts: result.conflicts,
          },
          reason: result.changed
            ? `${row.target.kind} ${row.target.namespace}/${row.target.name} set to ${Object.entries(
                d.weights,
              )
                .map(([k, v]) => `${k}=${v}`)
                .join(", ")}`
            : `${row.target.kind} ${row.target.namespace}/${row.target.name} already carried these weights`,
        });
    });
  }

  async function once(): Promise<void> {
    // Kicked on every committed change: without a target, one read and no lease write.
    const rows = await allTargets(db);
    if (!rows.length) return;
    const fence = await lease.fence();
    if (!fence) return;
    for (const row of rows) {
      try {
        await reconcile(row, fence);
      } catch (err) {
        logger.warn({ err, model: row.model }, "traffic reconcile failed; retried next tick");
      }
    }
    for (const l of listeners) l();
  }

  /** Runs a pass unless one is running; then one more follows it. */
  function tick(): Promise<void> {
    if (current) {
      again = true;
      return current;
    }
    current = once()
      .catch((err) => logger.warn({ err }, "traffic reconciler pass failed"))
      .finally(() => {
        current = null;
        if (again) {
          again = false;
          void tick();
        }
      });
    return current;
  }

  return {
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), tickMs);
      timer.unref();
      void tick();
    },
    /** Resolves once a pass that started after the call has finished. */
    async kick(): Promise<void> {
      if (current) {
        again = true;
        await current;
      }
      await (current ?? tick());
    },
    /** Called after every pass (tests wait on it instead of sleeping). */
    onPass(fn: () => void): () => void {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await current;
      await lease.release().catch(() => {});
    },
  };
}

export type TrafficReconciler = ReturnType<typeof createTrafficReconciler>;
