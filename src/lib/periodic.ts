/**
 * A job that runs `once` at start and every `intervalMs`: a pass never overlaps the one
 * under way (`tick()` joins it), a failed pass is logged and retried at the next tick, and
 * `stop()` waits for the pass under way, then runs `onStop` (releasing a lease, say).
 */
export interface PeriodicJob<T> {
  tick(): Promise<T | null>;
  start(): void;
  stop(): Promise<void>;
}

export function periodicJob<T>(opts: {
  intervalMs: number;
  once: () => Promise<T | null>;
  onError: (err: unknown) => void;
  onStop?: () => Promise<void>;
}): PeriodicJob<T> {
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<T | null> | null = null;
  function tick(): Promise<T | null> {
    current ??= opts
      .once()
      .catch((err) => {
        opts.onError(err);
        return null;
      })
      .finally(() => {
        current = null;
      });
    return current;
  }
  return {
    tick,
    start() {
      if (timer) return;
      timer = setInterval(() => void tick(), opts.intervalMs);
      timer.unref();
      void tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await current;
      await opts.onStop?.().catch(() => {});
    },
  };
}
