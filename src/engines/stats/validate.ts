// Input checks shared by the stats engine. Every failure is a RangeError whose message
// starts with the function and names the argument, so a caller can surface it as is.

export function fail(fn: string, arg: string, reason: string): never {
  throw new RangeError(`${fn}: ${arg} ${reason}`);
}

export function requireFinite(fn: string, arg: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v)) fail(fn, arg, `must be a finite number (got ${v})`);
}

export function requirePositive(fn: string, arg: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(fn, arg, `must be > 0 (got ${v})`);
}

export function requireNonNegative(fn: string, arg: string, v: number): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(fn, arg, `must be >= 0 (got ${v})`);
}

/** A count: a non-negative integer. */
export function requireCount(fn: string, arg: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) fail(fn, arg, `must be a non-negative integer (got ${v})`);
}

/** A sample size: an integer of at least `min` (1 unless a variance needs 2). */
export function requireSampleSize(fn: string, arg: string, v: number, min = 1): void {
  if (!Number.isSafeInteger(v) || v < min) fail(fn, arg, `must be an integer >= ${min} (got ${v})`);
}

/** A probability in the closed [0, 1], or the open (0, 1) when `open` is set. */
export function requireProbability(fn: string, arg: string, v: number, open = false): void {
  const ok = typeof v === "number" && (open ? v > 0 && v < 1 : v >= 0 && v <= 1);
  if (!ok) fail(fn, arg, `must be a probability in ${open ? "(0, 1)" : "[0, 1]"} (got ${v})`);
}

export function requireSameLength(
  fn: string,
  argA: string,
  a: readonly unknown[],
  argB: string,
  b: readonly unknown[],
): void {
  if (a.length !== b.length) {
    fail(fn, `${argA} and ${argB}`, `must have the same length (got ${a.length} and ${b.length})`);
  }
}

export function requireMinLength(fn: string, arg: string, a: readonly unknown[], min: number): void {
  if (!Array.isArray(a) || a.length < min) {
    fail(fn, arg, `must be an array of at least ${min} element(s) (got ${Array.isArray(a) ? a.length : a})`);
  }
}
