/**
 * Value axes scaled to what they show. Left to itself, recharts pads an "auto" domain with its own
 * round numbers: an error rate that is 0 at every analysis got an axis from 0 to 400%. A rate
 * lives in [0, 1]; its axis ends at a round number just above the largest value and the threshold
 * drawn on it, and never past 100%.
 */

/** Round ticks covering [lo, hi] (an axis' frame, not a statistic): about `count` steps of 1, 2, 2.5 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.floor(lo / step); k <= Math.ceil(hi / step); k++)
    ticks.push(Number((k * step).toFixed(12)) || 0);
  return ticks;
}

/** As few decimals as percentage ticks need (2.5% needs one). */
export function pctDigits(ticks: number[]): number {
  return (
    [0, 1, 2, 3].find((d) => ticks.every((t) => Math.abs(t * 100 - Number((t * 100).toFixed(d))) < 1e-9)) ?? 3
  );
}

export interface BoundedAxis {
  domain: [number, number];
  ticks: number[];
}

/**
 * An axis over `values` and `refs` (threshold lines), inside [floor, ceiling]. With `zero` the axis
 * starts at the floor (an error rate: how far from none); without, it starts at a round number
 * below the smallest value (a success rate near 1 keeps its detail). Ticks past the bounds are cut
 * and the ceiling becomes the last tick. `minSpan` keeps an axis over all-zero values readable.
 */
export function boundedAxis(
  values: readonly (number | null | undefined)[],
  {
    refs = [],
    floor,
    ceiling,
    zero = false,
    minSpan,
    count = 4,
  }: {
    refs?: readonly (number | null | undefined)[];
    floor: number;
    ceiling: number;
    zero?: boolean;
    minSpan: number;
    count?: number;
  },
): BoundedAxis {
  const xs = [...values, ...refs].filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  const clamp = (x: number) => Math.min(ceiling, Math.max(floor, x));
  let lo = zero || xs.length === 0 ? floor : clamp(Math.min(...xs));
  let hi = xs.length === 0 ? floor : clamp(Math.max(...xs));
  // Room above the top value, so a line at the threshold is not drawn on the frame.
  hi = clamp(hi + Math.max(hi - lo, minSpan) * 0.08);
  if (hi - lo < minSpan) {
    hi = clamp(lo + minSpan);
    lo = clamp(hi - minSpan);
  }
  let ticks = niceTicks(lo, hi, count).filter((t) => t >= floor - 1e-12 && t <= ceiling + 1e-12);
  if (ticks.length === 0) ticks = [lo];
  if (ticks.at(-1)! < hi) ticks.push(ceiling);
  return { domain: [ticks[0]!, ticks.at(-1)!], ticks };
}

/** A rate's axis (0.05 is 5%): in [0, 100%], from zero when `zero`, else from just below the data. */
export function rateAxis(
  values: readonly (number | null | undefined)[],
  refs: readonly (number | null | undefined)[] = [],
  zero = true,
): BoundedAxis {
  return boundedAxis(values, { refs, floor: 0, ceiling: 1, zero, minSpan: 0.01 });
}
