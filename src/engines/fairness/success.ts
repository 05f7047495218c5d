/**
 * Outcome-based fairness when there are no predictions to judge, only outcomes: each row is
 * one request that succeeded or not (e.g. gateway feedback), and the question is whether the
 * success rate differs by group.
 */
import { checkMethod, type Disparity, type DisparityMethod, disparityOf } from "./compare.ts";
import {
  type ExcludedGroup,
  excludedGroups,
  type GroupingOptions,
  type GroupStatus,
  groupRows,
  statusOf,
} from "./groups.ts";
import { type BinaryLabels, minGroupSizeOf, toBinary } from "./validate.ts";

/** Options of {@link successByGroup}. */
export interface SuccessOptions extends GroupingOptions {
  /** Default "between_groups". */
  method?: DisparityMethod;
}

/** One group's successes; the rate is null when the group is too small to compare. */
export interface SuccessGroup {
  key: string;
  values: Record<string, string>;
  n: number;
  successes: number;
  status: GroupStatus;
  successRate: number | null;
}

/** Success per group from outcomes (no predictions), and the spread between the groups. */
export interface SuccessReport {
  kind: "success";
  attributes: string[];
  method: DisparityMethod;
  minGroupSize: number;
  n: number;
  unassigned: number;
  overall: { n: number; successes: number; successRate: number };
  groups: SuccessGroup[];
  excluded: ExcludedGroup[];
  /** The spread of the success rate across the compared groups. */
  disparity: Disparity;
  /** `disparity.difference` in percentage points (0.12 → 12); null with fewer than two compared groups. */
  maxGapPoints: number | null;
}

/** Success rate per group and the largest gap between groups, from one success flag per row. */
export function successByGroup(success: BinaryLabels, options: SuccessOptions): SuccessReport {
  const outcome = toBinary("success", success);
  if (!options) throw new RangeError("options is required (options.sensitiveFeatures)");
  const method = checkMethod(options.method);
  const minGroupSize = minGroupSizeOf(options.minGroupSize);
  const grouping = groupRows(options.sensitiveFeatures, outcome.length, options.attributes, "success");
  const total = outcome.reduce((s, v) => s + v, 0);
  const groups: SuccessGroup[] = grouping.groups.map((g) => {
    const successes = g.rows.reduce((s, i) => s + outcome[i]!, 0);
    const status = statusOf(g.rows.length, minGroupSize);
    return {
      key: g.key,
      values: g.values,
      n: g.rows.length,
      successes,
      status,
      successRate: status === "ok" ? successes / g.rows.length : null,
    };
  });
  const overallRate = total / outcome.length;
  const disparity = disparityOf(
    groups.filter((g) => g.status === "ok").map((g) => ({ key: g.key, value: g.successRate })),
    overallRate,
    method,
  );
  return {
    kind: "success",
    attributes: grouping.attributes,
    method,
    minGroupSize,
    n: outcome.length,
    unassigned: grouping.unassigned.length,
    overall: { n: outcome.length, successes: total, successRate: overallRate },
    groups,
    excluded: excludedGroups(grouping.groups, minGroupSize),
    disparity,
    maxGapPoints: disparity.difference === null ? null : disparity.difference * 100,
  };
}
