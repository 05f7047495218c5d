/**
 * Runs the evaluation runs that are `running`: every replica looks every second, takes a
 * run it can lease (controller_leases, name `eval:<run id>`), runs its unrecorded cases, and
 * completes it. A runner that dies stops renewing; once the lease expires another runner
 * (or the same process after a restart) takes the run over and does only what is missing.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../../lib/clock.ts";
import { createLease } from "../../lib/lease.ts";
import { LightAbort } from "../../lib/light-abort.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Db } from "../../store/db.ts";
import type { EvalsService } from "./evals.service.ts";
import type { EvalInvoker } from "./invoker.ts";
import { runPending } from "./runner.ts";

export interface EvalWorkerOptions {
  db: Db;
  clock: Clock;
  evals: EvalsService;
  invoker: EvalInvoker;
  logger: Logger;
  scorersDir?: string;
  /** How often to look for runs (default 1 s). */
  intervalMs?: number;
  /** How long a run stays held without renewal (default 30 s; renewed every third of it). */
  leaseTtlMs?: number;
  /** Runs this process works on at once (default 2). */
  maxRuns?: number;
  holder?: string;
}

export function createEvalWorker(o: EvalWorkerOptions) {
  const holder = o.holder ?? `evals-${randomBytes(6).toString("hex")}`;
  const ttl = o.leaseTtlMs ?? 30_000;
  const active = new Map<string, { abort: LightAbort; done: Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  let looking: Promise<void> | undefined;
  let stopped = false;
  let unsubscribe: (() => void) | undefined;

  async function execute(
    id: string,
    lease: ReturnType<typeof createLease>,
    epoch: number,
    abort: LightAbort,
  ) {
    let lost = false;
    const renew = setInterval(
      () => {
        lease
          .acquire()
          .then((l) => {
            if (l.held && l.epoch === epoch) return;
            lost = true; // taken over: stop at once, the new holder does the rest
            abort.abort();
          })
          .catch(() => {});
      },
      Math.max(50, ttl / 3),
    );
    try {
      const run = await o.evals.getRow(id);
      if (run?.status !== "running") return;
      const suite = await o.evals.suiteOf(run.suiteHash);
      if (!suite) throw new Error(`suite ${run.suiteHash} of run ${id} is missing`);
      const { recorded, started, aborted } = await runPending(
        {
          db: o.db,
          clock: o.clock,
          invoker: o.invoker,
          resolveRef: (ref) => o.evals.resolveRef(ref),
          ...(o.scorersDir ? { scorersDir: o.scorersDir } : {}),
        },
        { run, suite, signal: abort.signal },
      );
      if (aborted) return;
      const done = await o.evals.complete(id, (tx) => lease.guard(tx, epoch));
      if (done)
        o.logger.info(
          {
            run: id,
            version: `${run.model}@${run.version}`,
            // Cases this runner called the model for: after a takeover, only the missing ones.
            started,
            recorded,
            success: done.report?.aggregate.successRate,
          },
          "evaluation run completed",
        );
    } finally {
      clearInterval(renew);
      // A graceful stop hands the run over at once; a crash leaves the lease to expire.
      if (!lost) await lease.release().catch(() => {});
    }
  }

  async function look() {
    if (stopped) return;
    const ids = await o.evals.runningIds();
    for (const id of ids) {
      if (active.has(id) || active.size >= (o.maxRuns ?? 2)) continue;
      const lease = createLease({ db: o.db, name: `eval:${id}`, holder, ttlMs: ttl });
      const l = await lease.acquire();
      if (!l.held || l.epoch === null || stopped) continue;
      const abort = new LightAbort();
      const done = execute(id, lease, l.epoch, abort)
        .catch((err) =>
          o.logger.error({ run: id, err }, "evaluation run failed; it resumes on the next look"),
        )
        .finally(() => active.delete(id));
      active.set(id, { abort, done });
    }
  }

  /** Looks now (after a run was started) and keeps looking every interval. */
  function kick(): Promise<void> {
    looking ??= look()
      .catch((err) => o.logger.warn({ err }, "evaluation worker: look failed"))
      .finally(() => {
        looking = undefined;
      });
    return looking;
  }

  return {
    holder,
    kick,
    start() {
      stopped = false;
      unsubscribe = o.evals.onStart(() => void kick());
      timer = setInterval(() => void kick(), o.intervalMs ?? 1000);
      void kick();
    },
    /** Stops at once: cases in flight are dropped (never half-recorded); leases lapse. */
    async stop() {
      stopped = true;
      unsubscribe?.();
      if (timer) clearInterval(timer);
      for (const a of active.values()) a.abort.abort();
      await looking;
      await Promise.all([...active.values()].map((a) => a.done));
    },
    /** Waits until this worker has no run in hand (tests). */
    async idle() {
      await looking;
      await Promise.all([...active.values()].map((a) => a.done));
    },
    activeRuns: () => [...active.keys()],
  };
}

export type EvalWorker = ReturnType<typeof createEvalWorker>;
