/**
 * A MetricFrame-like breakdown (Fairlearn `MetricFrame`): any metric, per group and overall,
 * with group min/max and the difference and ratio by both of Fairlearn's methods.
 */
import { type Disparity, disparityOf, type GroupValue } from "./compare.ts";
import {
  type ExcludedGroup,
  excludedGroups,
  type GroupingOptions,
  type GroupStatus,
  groupRows,
  statusOf,
} from "./groups.ts";
import type { GroupMetric } from "./metrics.ts";
import { minGroupSizeOf, sameLength, toNumbers } from "./validate.ts";

/** Input of {@link metricFrame}: metrics by name, the per-row arrays and the grouping. */
export interface MetricFrameInput extends GroupingOptions {
  /** Metrics by name, each called on the rows of one group as `metric(yTrue, yPred)`. */
  metrics: Readonly<Record<string, GroupMetric>>;
  yTrue: readonly number[];
  /** Omit for a per-row measure (a score, a latency): metrics then get `yTrue` twice. */
  yPred?: readonly number[];
}

/** A group, its size and whether it is compared. */
export interface GroupInfo {
  key: string;
  values: Record<string, string>;
  n: number;
  status: GroupStatus;
}

/** One metric across groups. Values of groups with status "insufficient" are null and not compared. */
export interface MetricBreakdown {
  /** The metric on every row (Fairlearn `overall`). */
  overall: number | null;
  /** Fairlearn `by_group`, keyed by group key. */
  byGroup: Record<string, number | null>;
  /** Fairlearn `group_min()` / `group_max()`, with the group that holds it. */
  groupMin: GroupValue | null;
  groupMax: GroupValue | null;
  /** Fairlearn `difference(method="between_groups")`: max − min. */
  difference: number | null;
  /** Fairlearn `ratio(method="between_groups")`: min / max. */
  ratio: number | null;
  /** Fairlearn `difference(method="to_overall")`. */
  differenceToOverall: number | null;
  /** Fairlearn `ratio(method="to_overall")`. */
  ratioToOverall: number | null;
  compared: string[];
  undefinedFor: string[];
}

/** The result of {@link metricFrame}: the groups and, per metric, its breakdown. */
export interface MetricFrame {
  attributes: string[];
  minGroupSize: number;
  n: number;
  unassigned: number;
  groups: GroupInfo[];
  excluded: ExcludedGroup[];
  metrics: Record<string, MetricBreakdown>;
}

/** Evaluates every metric per group and overall, and how far apart the groups are. */
export function metricFrame(input: MetricFrameInput): MetricFrame {
  if (!input) throw new RangeError("input is required (metrics, yTrue, sensitiveFeatures)");
  const yTrue = Array.from(toNumbers("yTrue", input.yTrue));
  const yPred = input.yPred === undefined ? yTrue : Array.from(toNumbers("yPred", input.yPred));
  sameLength("yTrue", yTrue.length, "yPred", yPred.length);
  const minGroupSize = minGroupSizeOf(input.minGroupSize);
  const names = Object.keys(input.metrics ?? {});
  if (names.length === 0) throw new RangeError("metrics is empty");
  for (const name of names)
    if (typeof input.metrics[name] !== "function") throw new RangeError(`metrics.${name} must be a function`);
  const grouping = groupRows(input.sensitiveFeatures, yTrue.length, input.attributes, "yTrue");

  const slices = grouping.groups.map((g) => ({
    key: g.key,
    ok: statusOf(g.rows.length, minGroupSize) === "ok",
    yTrue: g.rows.map((i) => yTrue[i]!),
    yPred: g.rows.map((i) => yPred[i]!),
  }));
  const metrics: Record<string, MetricBreakdown> = {};
  for (const name of names) {
    const metric = input.metrics[name]!;
    const overall = metric(yTrue, yPred);
    const values = slices.map((s) => ({ key: s.key, value: s.ok ? metric(s.yTrue, s.yPred) : null }));
    const eligible = values.filter((_, j) => slices[j]!.ok);
    const between: Disparity = disparityOf(eligible, overall, "between_groups");
    const toOverall = disparityOf(eligible, overall, "to_overall");
    metrics[name] = {
      overall,
      byGroup: Object.fromEntries(values.map((v) => [v.key, v.value])),
      groupMin: between.min,
      groupMax: between.max,
      difference: between.difference,
      ratio: between.ratio,
      differenceToOverall: toOverall.difference,
      ratioToOverall: toOverall.ratio,
      compared: between.compared,
      undefinedFor: between.undefinedFor,
    };
  }
  return {
    attributes: grouping.attributes,
    minGroupSize,
    n: yTrue.length,
    unassigned: grouping.unassigned.length,
    groups: grouping.groups.map((g) => ({
      key: g.key,
      values: g.values,
      n: g.rows.length,
      status: statusOf(g.rows.length, minGroupSize),
    })),
    excluded: excludedGroups(grouping.groups, minGroupSize),
    metrics,
  };
}
