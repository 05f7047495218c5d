export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock tests move by hand, so "at time T" questions have exact answers. */
export function manualClock(start = new Date("2026-01-01T00:00:00Z")): Clock & { advance(ms: number): Date } {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
      return new Date(t);
    },
  };
}
