import { LightAbort, type SignalLike } from "../../lib/light-abort.ts";
import { UpstreamError, type UpstreamTarget } from "../types.ts";

/**
 * The three clocks of one upstream call, plus the caller's abort signal, folded into one
 * AbortSignal handed to the transport. The first thing to fire wins and is remembered, so
 * whatever error the transport then throws (undici rethrows the abort reason, sockets say
 * "other side closed") is reported as what really happened.
 *
 * totalMs bounds the whole call; firstByteMs runs until `firstByte()` (response headers for
 * plain calls, the first event for streams); idleMs then bounds each wait on the upstream
 * for its next event. Time the consumer spends on an event (between `hold()` and the next
 * `activity()`, e.g. a slow client being written to) is not the upstream's silence.
 */
export class Deadlines {
  readonly signal: SignalLike;
  private readonly controller = new LightAbort();
  private cause: UpstreamError | undefined;
  private total: NodeJS.Timeout | undefined;
  private phase: NodeJS.Timeout | undefined;
  private idle = false;
  private held = false;
  private listeners: Array<(e: UpstreamError) => void> = [];
  private readonly onAbort = () =>
    this.fail(new UpstreamError("aborted", `${this.label}: call aborted by the caller`));

  constructor(
    private readonly timeouts: UpstreamTarget["timeouts"],
    private readonly callerSignal: SignalLike,
    private readonly label: string,
  ) {
    this.signal = this.controller.signal;
    if (callerSignal.aborted) {
      this.onAbort();
      return;
    }
    callerSignal.addEventListener("abort", this.onAbort, { once: true });
    this.total = timer(timeouts.totalMs, () =>
      this.timeout(`no complete answer within ${timeouts.totalMs} ms`),
    );
    // A first-byte bound no shorter than the total adds nothing (plain calls): one timer fewer.
    if (timeouts.firstByteMs < timeouts.totalMs)
      this.phase = timer(timeouts.firstByteMs, () =>
        this.timeout(`no first byte within ${timeouts.firstByteMs} ms`),
      );
  }

  /** The first byte arrived; with `thenIdle`, gaps from now on are timed against idleMs. */
  firstByte(thenIdle = false): void {
    if (this.phase) clearTimeout(this.phase);
    this.phase = undefined;
    if (thenIdle && !this.cause) {
      this.idle = true;
      this.phase = timer(this.timeouts.idleMs, () => {
        if (!this.held) this.timeout(`stream idle for ${this.timeouts.idleMs} ms`);
      });
    }
  }

  /** An event was handed to the consumer: the idle clock stops until `activity()`. */
  hold(): void {
    this.held = true;
  }

  /** Waiting on the upstream again: the idle clock restarts (a timer that fired while held re-arms). */
  activity(): void {
    this.held = false;
    if (this.idle) this.phase?.refresh();
  }

  /** What fired, if anything did. */
  get error(): UpstreamError | undefined {
    return this.cause;
  }

  /** Throws at once when something already fired (for code that waits on its own timers). */
  check(): void {
    if (this.cause) throw this.cause;
  }

  onFail(listener: (e: UpstreamError) => void): void {
    if (this.cause) listener(this.cause);
    else this.listeners.push(listener);
  }

  dispose(): void {
    if (this.total) clearTimeout(this.total);
    if (this.phase) clearTimeout(this.phase);
    this.total = this.phase = undefined;
    this.listeners = [];
    this.callerSignal.removeEventListener("abort", this.onAbort);
  }

  private timeout(why: string): void {
    this.fail(new UpstreamError("timeout", `${this.label}: ${why}`));
  }

  private fail(e: UpstreamError): void {
    if (this.cause) return;
    this.cause = e;
    const listeners = this.listeners;
    this.dispose();
    this.controller.abort(e);
    for (const l of listeners) l(e);
  }
}

function timer(ms: number, fn: () => void): NodeJS.Timeout {
  const t = setTimeout(fn, ms);
  // A stream nobody reads must not keep the process alive; the call itself holds a socket anyway.
  t.unref();
  return t;
}

/** Resolves after `ms`, or rejects with the deadline's error as soon as one fires. */
export function sleep(ms: number, deadlines: Deadlines): Promise<void> {
  deadlines.check();
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(t);
      reject(deadlines.error ?? new UpstreamError("aborted", "aborted"));
    };
    const t = setTimeout(() => {
      deadlines.signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    deadlines.signal.addEventListener("abort", onAbort, { once: true });
  });
}
