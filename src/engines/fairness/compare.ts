/**
 * Fairlearn's MetricFrame aggregations over per-group values: group min/max, and the
 * difference and ratio either between groups (max − min, min / max) or to the overall value
 * (largest |group − overall|, smallest of group/overall and overall/group).
 */

/** Fairlearn's `method`: compare groups with each other, or each group with the overall value. */
export type DisparityMethod = "between_groups" | "to_overall";

/** One group's value of a metric. */
export interface GroupValue {
  group: string;
  value: number;
}

/** The spread of one metric across the compared groups. */
export interface Disparity {
  /** max − min (between_groups) or largest |group − overall| (to_overall); null with fewer than two comparable groups. */
  difference: number | null;
  /** min / max (between_groups) or smallest min(g/o, o/g) (to_overall); null also when it would be 0/0. */
  ratio: number | null;
  /** The group with the smallest value (first in group order on ties). */
  min: GroupValue | null;
  /** The group with the largest value (first in group order on ties). */
  max: GroupValue | null;
  /** Groups whose values were compared. */
  compared: string[];
  /** Groups large enough to compare whose value is undefined (e.g. no actual positives for a TPR). */
  undefinedFor: string[];
}

/** Checks `options.method`; default "between_groups", as Fairlearn. */
export function checkMethod(method: string | undefined): DisparityMethod {
  const m = method ?? "between_groups";
  if (m !== "between_groups" && m !== "to_overall")
    throw new RangeError(`options.method must be "between_groups" or "to_overall", got ${JSON.stringify(m)}`);
  return m;
}

/** Compares the values of the eligible groups (those with status "ok"). */
export function disparityOf(
  values: ReadonlyArray<{ key: string; value: number | null }>,
  overall: number | null,
  method: DisparityMethod,
): Disparity {
  const defined = values.filter((v): v is { key: string; value: number } => v.value !== null);
  const undefinedFor = values.filter((v) => v.value === null).map((v) => v.key);
  let min: GroupValue | null = null;
  let max: GroupValue | null = null;
  for (const { key, value } of defined) {
    if (!min || value < min.value) min = { group: key, value };
    if (!max || value > max.value) max = { group: key, value };
  }
  const compared = defined.map((v) => v.key);
  if (defined.length < 2 || !min || !max)
    return { difference: null, ratio: null, min, max, compared, undefinedFor };
  if (method === "between_groups")
    return {
      difference: max.value - min.value,
      ratio: max.value === 0 ? null : min.value / max.value,
      min,
      max,
      compared,
      undefinedFor,
    };
  if (overall === null) return { difference: null, ratio: null, min, max, compared, undefinedFor };
  let difference = 0;
  let ratio: number | null = null;
  for (const { value } of defined) {
    difference = Math.max(difference, Math.abs(value - overall));
    const hi = Math.max(value, overall);
    // 0/0 tells nothing about this group; pandas skips the NaN it gives, and so do we.
    if (hi === 0) continue;
    const r = Math.min(value, overall) / hi;
    ratio = ratio === null ? r : Math.min(ratio, r);
  }
  return { difference, ratio, min, max, compared, undefinedFor };
}
