/** Input checks shared by the fairness functions. Every failure is a RangeError naming the argument. */

/** Binary labels as given by callers: 0/1 or booleans. */
export type BinaryLabels = ReadonlyArray<number | boolean>;

/** Checks that `values` is a non-empty array of 0/1/booleans and returns it as 0/1 bytes. */
export function toBinary(name: string, values: BinaryLabels): Uint8Array {
  if (!Array.isArray(values)) throw new RangeError(`${name} must be an array`);
  if (values.length === 0) throw new RangeError(`${name} is empty`);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 1 || v === true) out[i] = 1;
    else if (v !== 0 && v !== false)
      throw new RangeError(
        `${name}[${i}] must be 0 or 1 (or a boolean), got ${JSON.stringify(v) ?? String(v)}`,
      );
  }
  return out;
}

/** Checks that `values` is a non-empty array of finite numbers. */
export function toNumbers(name: string, values: ReadonlyArray<number>): Float64Array {
  if (!Array.isArray(values)) throw new RangeError(`${name} must be an array`);
  if (values.length === 0) throw new RangeError(`${name} is empty`);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number" || !Number.isFinite(v))
      throw new RangeError(`${name}[${i}] must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
    out[i] = v;
  }
  return out;
}

/** Throws a RangeError naming both arrays when their lengths differ. */
export function sameLength(name: string, length: number, otherName: string, otherLength: number): void {
  if (length !== otherLength)
    throw new RangeError(`${name} has ${length} values but ${otherName} has ${otherLength}`);
}

/** Groups with fewer rows than this are reported as "insufficient"; 1 (no minimum) unless given. */
export function minGroupSizeOf(value: number | undefined): number {
  if (value === undefined) return 1;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`options.minGroupSize must be an integer >= 1, got ${value}`);
  return value;
}
