import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { systemContext } from "../../http/context.ts";
import { createLease, LeaseLost } from "../../lib/lease.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Db } from "../../store/db.ts";
import type { CountRolloutDecision } from "./rollouts.metrics.ts";
import type { RolloutsService } from "./rollouts.service.ts";

export type BreakerStateOf = (versionId: string) => "closed" | "half_open" | "open" | undefined;

/**
 * The rollout controller: one across replicas (a lease row in PostgreSQL). Every tick
 * (default 1 s) it looks for kill switches on each active rollout's versions (a switched-off
 * candidate rolls back, a switched-off baseline pauses), runs the fast path (the candidate's
 * breaker and its error rate over a short window: a breach rolls back at once) and the full analysis of
 * those whose interval is due. `kick()` runs a tick now (a breaker just opened).
 */
export function createRolloutController(opts: {
  db: Db;
  rollouts: RolloutsService;
  logger: Logger;
  tickMs?: number;
  leaseTtlMs?: number;
  breakerState?: BreakerStateOf;
  holder?: string;
  /** Each decision made, after its transaction committed (modelgov_rollout_decisions_total). */
  onDecision?: CountRolloutDecision;
}) {
  const { rollouts, logger } = opts;
  const tickMs = opts.tickMs ?? 1000;
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  const ttlMs = opts.leaseTtlMs ?? 10_000;
  const lease = createLease({
    db: opts.db,
    name: "rollout-controller",
    holder,
    ttlMs,
    logger,
  });
  let timer: NodeJS.Timeout | null = null;
  let renewal: NodeJS.Timeout | null = null;
  let renewing: Promise<unknown> | null = null;
  let current: Promise<void> | null = null;
  let again = false;
  let ticks = 0;

  async function once(): Promise<void> {
    const l = await lease.acquire();
    if (!l.held || l.epoch === null) return;
    const epoch = l.epoch;
    const fence = (tx: Parameters<typeof lease.guard>[0]) => lease.guard(tx, epoch);
    const ctx = systemContext("rollout-controller", `ctl_${(++ticks).toString(36)}`);
    for (const r of await rollouts.active()) {
      try {
        const killed = await rollouts.killCheck(r.id, ctx, fence);
        if (killed) {
          opts.onDecision?.(killed.action, "kill_switch");
          logger.warn(
            { rollout: r.id, model: r.model, killSwitch: killed.killSwitch.id, action: killed.action },
            "rollout stopped by a kill switch",
          );
          if (killed.action === "rollback") continue;
        }
        const fast = await rollouts.fastCheck(r.id, ctx, opts.breakerState?.(r.candidateVersionId), fence);
        if (fast?.rollback) {
          opts.onDecision?.("rollback", "fast_path");
          logger.warn(
            { rollout: r.id, model: r.model, reason: fast.reason },
            "rollout rolled back (fast path)",
          );
          continue;
        }
        if (r.nextAnalysisAt <= rollouts.now()) {
          const out = await rollouts.analyze(r.id, ctx, fence);
          if (out) opts.onDecision?.(out.decision.action, out.judgement.verdict);
          if (out && out.decision.action !== "hold")
            logger.info(
              { rollout: r.id, model: r.model, action: out.decision.action, weight: out.decision.weight },
              "rollout decision",
            );
        }
      } catch (err) {
        if (err instanceof LeaseLost) {
          // Paused past the lease (GC, SIGSTOP) and another replica leads now: its work stands, ours is rolled back.
          logger.warn({ rollout: r.id, epoch: err.epoch }, "lease lost mid-work: stale-epoch work refused");
          return;
        }
        logger.warn({ err, rollout: r.id }, "rollout analysis failed; retried next tick");
      }
    }
  }

  /** Runs a tick unless one is running; then one more follows it. */
  function tick(): Promise<void> {
    if (current) {
      again = true;
      return current;
    }
    current = once()
      .catch((err) => logger.warn({ err }, "rollout controller tick failed"))
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
    holder,
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), tickMs);
      timer.unref();
      // Renewed apart from the ticks too: an analysis slower than the TTL keeps the lease; only a
      // leader that stops running (paused, partitioned, dead) loses it.
      renewal = setInterval(
        () => {
          renewing ??= lease
            .acquire()
            .catch(() => {})
            .finally(() => {
              renewing = null;
            });
        },
        Math.max(100, ttlMs / 3),
      );
      renewal.unref();
      void tick();
    },
    kick: () => tick(),
    async stop() {
      if (timer) clearInterval(timer);
      if (renewal) clearInterval(renewal);
      timer = renewal = null;
      // A renewal still under way would take the lease back after the release.
      await Promise.all([current, renewing]);
      await lease.release().catch(() => {});
    },
  };
}

export type RolloutController = ReturnType<typeof createRolloutController>;
