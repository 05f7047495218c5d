/**
 * The server's background jobs (rollout controller, webhook dispatcher, request-log writer…)
 * as one list: started in order, stopped in reverse, so a job starts after what it uses and
 * stops before it. A start that fails stops what was already started; a stop that throws or
 * hangs is logged and does not keep the others from stopping.
 */
export interface Worker {
  readonly name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/** The part of the logger used here (pino's Logger fits). */
export interface WorkerLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StopFailure {
  name: string;
  error: unknown;
}

export interface RunningWorkers {
  readonly names: readonly string[];
  /** Stops every worker in reverse order, each bounded by the stop timeout; resolves with the ones that failed. */
  stopAll(): Promise<StopFailure[]>;
}

class StopTimeout extends Error {
  constructor(name: string, ms: number) {
    super(`${name} did not stop within ${ms} ms`);
    this.name = "StopTimeout";
  }
}

async function stopOne(w: Worker, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Not unref'd: a stop that hangs on nothing the event loop holds still gets its timeout.
    timer = setTimeout(() => reject(new StopTimeout(w.name, timeoutMs)), timeoutMs);
  });
  try {
    // A synchronous throw becomes a rejection here, like an async one.
    await Promise.race([Promise.resolve().then(() => w.stop()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function stopInReverse(
  started: readonly Worker[],
  logger: WorkerLogger,
  timeoutMs: number,
): Promise<StopFailure[]> {
  const failures: StopFailure[] = [];
  for (const w of [...started].reverse()) {
    const t0 = performance.now();
    try {
      await stopOne(w, timeoutMs);
      logger.debug({ worker: w.name, ms: Math.round(performance.now() - t0) }, "worker stopped");
    } catch (error) {
      failures.push({ name: w.name, error });
      logger.error({ worker: w.name, err: error }, "worker did not stop cleanly");
    }
  }
  return failures;
}

/**
 * Starts the workers one after the other. If one fails to start, those already started are
 * stopped (in reverse) and the start's error is thrown.
 */
export async function startWorkers(
  list: readonly Worker[],
  opts: { logger: WorkerLogger; stopTimeoutMs?: number },
): Promise<RunningWorkers> {
  const { logger } = opts;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 5_000;
  const started: Worker[] = [];
  for (const w of list) {
    const t0 = performance.now();
    try {
      await w.start();
    } catch (err) {
      logger.error({ worker: w.name, err }, "worker failed to start; stopping the ones started");
      await stopInReverse(started, logger, stopTimeoutMs);
      throw err;
    }
    started.push(w);
    logger.debug({ worker: w.name, ms: Math.round(performance.now() - t0) }, "worker started");
  }
  const names = started.map((w) => w.name);
  logger.info({ workers: names }, "workers started");
  let stopping: Promise<StopFailure[]> | undefined;
  return {
    names,
    stopAll: () => (stopping ??= stopInReverse(started, logger, stopTimeoutMs)),
  };
}
