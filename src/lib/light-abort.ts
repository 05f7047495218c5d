/**
 * What the gateway's own code (resilience, deadlines) and undici use of an abort signal:
 * `aborted`, `reason` and abort listeners. A real AbortSignal fits it.
 */
export interface SignalLike {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/**
 * An abort controller and its signal in one small object. Node 20's AbortController builds
 * an EventTarget per instance, which showed in the gateway's profile (two per request);
 * this is a plain listener list. Listeners run once, in order; one that throws does not
 * stop the others (its error is rethrown asynchronously, as EventTarget reports it).
 * undici accepts it as a request's `signal` (it needs only the members above).
 */
export class LightAbort implements SignalLike {
  /** Where a throwing listener's error goes: by default rethrown asynchronously, like EventTarget. */
  static onListenerError: (err: unknown) => void = (err) =>
    queueMicrotask(() => {
      throw err;
    });

  aborted = false;
  reason: unknown = undefined;
  private listeners: (() => void)[] | null = null;

  get signal(): SignalLike {
    return this;
  }

  addEventListener(_type: "abort", listener: () => void): void {
    if (this.aborted) return;
    if (this.listeners) this.listeners.push(listener);
    else this.listeners = [listener];
  }

  removeEventListener(_type: "abort", listener: () => void): void {
    const l = this.listeners;
    if (!l) return;
    const i = l.indexOf(listener);
    if (i >= 0) l.splice(i, 1);
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException("This operation was aborted", "AbortError");
    const l = this.listeners;
    this.listeners = null;
    if (!l) return;
    for (const listener of l) {
      try {
        listener();
      } catch (err) {
        LightAbort.onListenerError(err);
      }
    }
  }
}
