import { systemContext } from "../../http/context.ts";
import { createLease, processHolder } from "../../lib/lease.ts";
import type { Logger } from "../../lib/logger.ts";
import { periodicJob } from "../../lib/periodic.ts";
import type { Db } from "../../store/db.ts";
import type { MonitoringService } from "./monitoring.service.ts";

/**
 * The monitoring job: one across replicas (the "monitoring" lease row). Every tick (default
 * 60 s) it judges the windows that have ended and settled since the last pass, for every
 * watched model's production version. Time comes from the service's clock, so tests and the
 * demo drive it with a manual clock and `tick()`.
 */
export function createMonitoringJob(opts: {
  db: Db;
  monitoring: MonitoringService;
  logger: Logger;
  intervalMs?: number;
  leaseTtlMs?: number;
  holder?: string;
}) {
  const { monitoring, logger } = opts;
  const intervalMs = opts.intervalMs ?? 60_000;
  const holder = opts.holder ?? processHolder();
  const ttlMs = opts.leaseTtlMs ?? Math.max(3 * intervalMs, 30_000);
  const lease = createLease({ db: opts.db, name: "monitoring", holder, ttlMs, logger });
  let ticks = 0;

  /** The pass's outcome per model, or a reason it did no work (another replica holds the lease). */
  async function once(): Promise<PassReport> {
    const fence = await lease.fence();
    if (!fence) return { held: false, models: [] };
    const ctx = systemContext("monitoring", `mon_${(++ticks).toString(36)}`);
    const models = await monitoring.runPass(ctx, { fence });
    for (const r of models) {
      for (const f of r.fired)
        if (f.event === "fired")
          logger.warn(
            { model: f.model, version: f.version, rule: f.rule },
            `monitoring: rule fired: ${f.summary}`,
          );
      if (r.error)
        logger.warn(
          { err: r.error, model: r.model },
          "monitoring pass failed for a model; retried next tick",
        );
    }
    return { held: true, models };
  }

  const job = periodicJob({
    intervalMs,
    once,
    onError: (err) => logger.warn({ err }, "monitoring tick failed"),
    onStop: () => lease.release(),
  });
  return { holder, ...job };
}

export type MonitoringJob = ReturnType<typeof createMonitoringJob>;

export interface PassReport {
  held: boolean;
  models: Awaited<ReturnType<MonitoringService["runPass"]>>;
}
