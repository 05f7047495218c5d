import { systemContext } from "../../http/context.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ExperimentsService } from "./experiments.service.ts";

/**
 * Looks at every running experiment on an interval (default 1 s) so a breached guardrail
 * or an arm switched off by a kill switch stops it at once, without anyone asking for results. Every replica may run one: `check`
 * locks the experiment's row and re-reads its status, so a second replica finds it stopped
 * and does nothing.
 */
export function createExperimentWatcher(opts: {
  experiments: ExperimentsService;
  logger: Logger;
  intervalMs?: number;
}) {
  const { experiments, logger } = opts;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;
  let ticks = 0;

  async function once(): Promise<void> {
    const ctx = systemContext("experiment-watcher", `exw_${(++ticks).toString(36)}`);
    for (const e of await experiments.running()) {
      try {
        const out = await experiments.check(ctx, e.id);
        if (out?.stopped)
          logger.warn({ experiment: e.id, model: e.model, reason: out.reason }, "experiment stopped");
      } catch (err) {
        logger.warn({ err, experiment: e.id }, "experiment check failed; retried next tick");
      }
    }
  }

  /** One pass over the running experiments; joins the pass under way instead of starting another. */
  function tick(): Promise<void> {
    current ??= once()
      .catch((err) => logger.warn({ err }, "experiment watcher tick failed"))
      .finally(() => {
        current = null;
      });
    return current;
  }

  return {
    tick,
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), opts.intervalMs ?? 1000);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await current;
    },
  };
}

export type ExperimentWatcher = ReturnType<typeof createExperimentWatcher>;
