import { systemContext } from "../../http/context.ts";
import { createLease, processHolder } from "../../lib/lease.ts";
import type { Logger } from "../../lib/logger.ts";
import { periodicJob } from "../../lib/periodic.ts";
import type { Db } from "../../store/db.ts";
import type { BiasDriftService } from "./bias-drift.service.ts";

/**
 * The bias-drift job: one across replicas (the "bias-drift" lease row). Every tick (default
 * 60 s) it computes the windows that have ended and settled since the last pass, for every
 * model with live traffic, catching up at most `catchUpWindows` (default 3) after downtime.
 * Time comes from the service's clock, so tests drive it with a manual clock and `tick()`.
 */
export function createBiasDriftJob(opts: {
  db: Db;
  drift: BiasDriftService;
  logger: Logger;
  intervalMs?: number;
  leaseTtlMs?: number;
  catchUpWindows?: number;
  holder?: string;
}) {
  const { drift, logger } = opts;
  const intervalMs = opts.intervalMs ?? 60_000;
  const holder = opts.holder ?? processHolder();
  // Outlives a tick or two, so the holder keeps it between ticks; a dead holder's expires.
  const ttlMs = opts.leaseTtlMs ?? Math.max(3 * intervalMs, 30_000);
  const lease = createLease({ db: opts.db, name: "bias-drift", holder, ttlMs, logger });
  let ticks = 0;

  async function once(): Promise<void> {
    const fence = await lease.fence();
    if (!fence) return;
    const ctx = systemContext("bias-drift", `bdj_${(++ticks).toString(36)}`);
    for (const w of await drift.dueWindows(opts.catchUpWindows ?? 3)) {
      const out = await drift.runWindow(ctx, w, fence);
      for (const a of out.alerts)
        logger.warn(
          {
            model: a.model,
            version: a.version,
            attribute: a.attribute,
            gap: a.gapPoints,
            max: a.thresholdPoints,
          },
          "bias drift: a group gap widened past the policy",
        );
      for (const f of out.failed)
        logger.warn(
          { err: f.error, model: f.model, window: w.start },
          "bias drift failed; retried next tick",
        );
    }
  }

  const job = periodicJob({
    intervalMs,
    once,
    onError: (err) => logger.warn({ err }, "bias-drift tick failed"),
    onStop: () => lease.release(),
  });
  return { holder, ...job };
}

export type BiasDriftJob = ReturnType<typeof createBiasDriftJob>;
