/**
 * The circuit breaker's memory of recent calls: either the last N calls (count-based) or
 * the calls that completed in the last T seconds (time-based). Both keep running totals
 * so judging a window is O(1) for counts and O(T) for time.
 */

export interface CallRecord {
  failed: boolean;
  slow: boolean;
}

export interface WindowTotals {
  calls: number;
  failed: number;
  slow: number;
}

export interface SlidingWindow {
  readonly type: "count" | "time";
  readonly size: number;
  record(call: CallRecord, nowMs: number): void;
  totals(nowMs: number): WindowTotals;
  clear(): void;
  /** Recorded calls, oldest first, for carrying a count window over a resize (count windows only). */
  entries?(): CallRecord[];
}

export const emptyTotals = (): WindowTotals => ({ calls: 0, failed: 0, slow: 0 });

/** The last `size` calls, in a ring buffer. */
export function countWindow(size: number, carry: CallRecord[] = []): SlidingWindow {
  const ring: (CallRecord | undefined)[] = new Array(size).fill(undefined);
  let next = 0;
  let t = emptyTotals();
  const win: SlidingWindow = {
    type: "count",
    size,
    record(call) {
      const evicted = ring[next];
      if (evicted) {
        t.calls--;
        if (evicted.failed) t.failed--;
        if (evicted.slow) t.slow--;
      }
      ring[next] = call;
      next = (next + 1) % size;
      t.calls++;
      if (call.failed) t.failed++;
      if (call.slow) t.slow++;
    },
    totals: () => ({ ...t }),
    clear() {
      ring.fill(undefined);
      next = 0;
      t = emptyTotals();
    },
    entries() {
      const out: CallRecord[] = [];
      for (let i = 0; i < size; i++) {
        const c = ring[(next + i) % size];
        if (c) out.push(c);
      }
      return out;
    },
  };
  for (const c of carry.slice(-size)) win.record(c, 0);
  return win;
}

/**
 * Calls completed in the last `seconds` seconds, in one bucket per epoch second (as
 * resilience4j does): the window covers the current, partial second and the `seconds − 1`
 * before it, so memory stays bounded whatever the call rate.
 */
export function timeWindow(seconds: number): SlidingWindow {
  const buckets = Array.from({ length: seconds }, () => ({
    sec: Number.NEGATIVE_INFINITY,
    ...emptyTotals(),
  }));
  return {
    type: "time",
    size: seconds,
    record(call, nowMs) {
      const sec = Math.floor(nowMs / 1000);
      const b = buckets[((sec % seconds) + seconds) % seconds]!;
      if (b.sec !== sec) Object.assign(b, { sec, ...emptyTotals() });
      b.calls++;
      if (call.failed) b.failed++;
      if (call.slow) b.slow++;
    },
    totals(nowMs) {
      const sec = Math.floor(nowMs / 1000);
      const t = emptyTotals();
      for (const b of buckets) {
        if (b.sec > sec - seconds && b.sec <= sec) {
          t.calls += b.calls;
          t.failed += b.failed;
          t.slow += b.slow;
        }
      }
      return t;
    },
    clear() {
      for (const b of buckets) Object.assign(b, { sec: Number.NEGATIVE_INFINITY, ...emptyTotals() });
    },
  };
}
