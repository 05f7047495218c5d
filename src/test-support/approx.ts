import assert from "node:assert/strict";

// Approximate comparisons for tests that pin numbers to a reference value. Each asserts first
// that the value is a number, so a null, undefined or NaN never passes as "close to 0".

function number(actual: unknown, expected: number, label: string): number {
  assert.ok(
    typeof actual === "number" && !Number.isNaN(actual),
    `${label}: got ${String(actual)}, expected ${expected}`,
  );
  return actual;
}

/** |actual − expected| ≤ rel · |expected|: a relative tolerance (an expected 0 must be met exactly). */
export function near(actual: unknown, expected: number, rel: number, label: string): void {
  const a = number(actual, expected, label);
  assert.ok(
    Math.abs(a - expected) <= rel * Math.abs(expected),
    `${label}: got ${a}, expected ${expected} (relative tolerance ${rel})`,
  );
}

/** |actual − expected| ≤ tol: an absolute tolerance. */
export function within(actual: unknown, expected: number, tol: number, label: string): void {
  const a = number(actual, expected, label);
  assert.ok(Math.abs(a - expected) <= tol, `${label}: got ${a}, expected ${expected} (±${tol})`);
}

/** |actual − expected| ≤ tol · max(1, |expected|): absolute below 1, relative above. */
export function closeTo(actual: unknown, expected: number, tol: number, label: string): void {
  within(actual, expected, tol * Math.max(1, Math.abs(expected)), label);
}

/** `near` element by element, after the lengths agree. */
export function nearAll(
  actual: readonly number[],
  expected: readonly number[],
  rel: number,
  label: string,
): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (const [i, e] of expected.entries()) near(actual[i], e, rel, `${label}[${i}]`);
}
