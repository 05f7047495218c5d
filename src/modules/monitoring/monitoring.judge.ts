import {
  type Histogram,
  type MetricSums,
  type MonitorRule,
  TOKEN_METRICS,
  testDriftWindow,
  testMetricWindow,
  type WindowVerdict,
} from "../../engines/monitoring/index.ts";
import type { Queryable } from "../../store/db.ts";
import { judgeWindow } from "../bias-drift/index.ts";
import { outcomesByGroups, type WindowMetrics, windowMetrics } from "../request-log/index.ts";
import type { MonitorConfig } from "./monitoring.schemas.ts";
import type { MonitoringDeps } from "./monitoring.service.ts";
import * as store from "./monitoring.store.ts";

// One window of one rule, judged: the sums (or histograms) of the window and of the baseline
// read from the request log's roll-ups (or the approval-time evaluation), then the engine's
// test. The monitoring service walks the windows; this reads and judges each.

const HOUR = 3_600_000;

export function toSums(w: WindowMetrics): MetricSums {
  const extra = w as WindowMetrics & Partial<Pick<MetricSums, "refusals" | "validityChecked" | "valid">>;
  return {
    requests: w.requests,
    errors: w.errors,
    costUsd: w.costUsd,
    costSumSquares: w.costSumSquares ?? 0,
    latencyHistogram: w.latencyHistogram ?? [],
    feedbackCount: w.feedbackCount,
    successes: w.successes,
    scoreCount: w.scoreCount ?? 0,
    scoreSum: w.scoreSum ?? 0,
    scoreSumSquares: w.scoreSumSquares ?? 0,
    refusals: extra.refusals ?? 0,
    validityChecked: extra.validityChecked ?? 0,
    valid: extra.valid ?? 0,
    tokensIn: w.tokensIn,
    tokensOut: w.tokensOut,
  };
}

/** Judged requests of one group as a window's sums (success rate only: the group roll-ups' counts). */
function groupSums(rows: readonly { n: number; successes: number }[]): MetricSums {
  const n = rows.reduce((a, r) => a + r.n, 0);
  const successes = rows.reduce((a, r) => a + r.successes, 0);
  return {
    requests: n,
    errors: 0,
    costUsd: 0,
    costSumSquares: 0,
    latencyHistogram: [],
    feedbackCount: n,
    successes,
    scoreCount: 0,
    scoreSum: 0,
    scoreSumSquares: 0,
    refusals: 0,
    validityChecked: 0,
    valid: 0,
    tokensIn: 0,
    tokensOut: 0,
  };
}

export interface Baseline {
  from: Date;
  to: Date;
  /** The evaluation run that stands for the baseline (kind `evaluation`); null when none exists. */
  evaluation?: { id: string } | null;
}

export async function baselineOf(
  q: Queryable,
  config: MonitorConfig,
  prod: store.Production,
): Promise<Baseline> {
  if (config.baseline.kind === "window")
    return { from: new Date(config.baseline.from), to: new Date(config.baseline.to) };
  if (config.baseline.kind === "evaluation") {
    const run = await store.evaluationRun(q, prod.versionId, prod.since, config.baseline.suite);
    // Windows are judged from the version's production start; the run's own times are shown.
    return run
      ? { from: run.from, to: run.to, evaluation: { id: run.id } }
      : { from: prod.since, to: prod.since, evaluation: null };
  }
  const from = prod.since;
  return { from, to: new Date(from.getTime() + config.baseline.days * 24 * HOUR) };
}

/** The judge of one rule's window against its baseline; `cache` keeps the baseline's reads for a pass. */
export function createWindowJudge(deps: Pick<MonitoringDeps, "gatesFor" | "readFeatures">) {
  return async function judge(
    q: Queryable,
    model: string,
    prod: store.Production,
    rule: MonitorRule,
    from: Date,
    to: Date,
    baseline: Baseline,
    cache: Map<string, unknown>,
  ): Promise<WindowVerdict> {
    const none = (reason: string): WindowVerdict => ({
      status: "insufficient",
      value: null,
      baseline: null,
      threshold: null,
      n: 0,
      p: null,
      reason,
    });
    if (baseline.evaluation === null)
      return none("the version has no completed evaluation from before it reached production");
    if (rule.kind === "metric") {
      const group = rule.group;
      const tokens = (TOKEN_METRICS as readonly string[]).includes(rule.metric);
      const sumsOf = async (f: Date, t: Date): Promise<MetricSums> => {
        if (group)
          return groupSums(
            (await outcomesByGroups(q, model, f, t)).filter(
              (o) => o.versionId === prod.versionId && o.groups[group.attribute] === group.value,
            ),
          );
        const sums = toSums((await windowMetrics(q, model, [prod.versionId], f, t)).get(prod.versionId)!);
        // The token metrics' variance comes from the binned token counts (the feature roll-up).
        if (tokens && deps.readFeatures) {
          const h = await deps.readFeatures(q, model, prod.versionId, f, t);
          sums.tokenHistograms = { in: h.tokens_in ?? {}, out: h.tokens_out ?? {} };
        }
        return sums;
      };
      const key = group
        ? `metric-baseline:${group.attribute}=${group.value}`
        : tokens
          ? "metric-baseline:tokens"
          : "metric-baseline";
      let base = cache.get(key) as MetricSums | undefined;
      if (!base) {
        base = baseline.evaluation
          ? await store.evaluationSums(q, baseline.evaluation.id, group)
          : await sumsOf(baseline.from, baseline.to);
        cache.set(key, base);
      }
      const cur = await sumsOf(from, to);
      return testMetricWindow(rule, cur, base);
    }
    if (rule.kind === "drift") {
      if (baseline.evaluation)
        return none("an evaluation baseline has no request features: drift rules need a window baseline");
      if (!deps.readFeatures)
        return {
          status: "insufficient",
          value: null,
          baseline: null,
          threshold: rule.threshold,
          n: 0,
          p: null,
          reason: "request features are not recorded on this server",
        };
      let base = cache.get("features-baseline") as Record<string, Histogram> | undefined;
      if (!base) {
        base = await deps.readFeatures(q, model, prod.versionId, baseline.from, baseline.to);
        cache.set("features-baseline", base);
      }
      const cur = await deps.readFeatures(q, model, prod.versionId, from, to);
      return testDriftWindow(rule, cur[rule.feature] ?? {}, base[rule.feature] ?? {});
    }
    // Bias: the fairness part of the model's release gates, on the window's judged requests.
    const outcomes = (await outcomesByGroups(q, model, from, to)).filter(
      (o) => o.versionId === prod.versionId,
    );
    const n = outcomes.reduce((s, o) => s + o.n, 0);
    if (n < rule.minSample)
      return {
        status: "insufficient",
        value: null,
        baseline: null,
        threshold: null,
        n,
        p: null,
        reason: `the window has ${n} judged requests with groups, fewer than ${rule.minSample}`,
      };
    const points = judgeWindow(outcomes, await deps.gatesFor(q, prod.modelId));
    if (points.length === 0)
      return {
        status: "insufficient",
        value: null,
        baseline: null,
        threshold: null,
        n,
        p: null,
        reason: "no fairness gate applies to this model",
      };
    const gaps = points.map((p) => p.gapPoints).filter((g): g is number => g !== null);
    const worst = gaps.length ? Math.max(...gaps) : null;
    const breached = points.filter((p) => p.breached);
    const threshold = points.find((p) => p.thresholdPoints !== null)?.thresholdPoints ?? null;
    return {
      status: breached.length ? "breach" : "ok",
      value: worst,
      baseline: null,
      threshold,
      n,
      p: null,
      reason: breached.length
        ? `bias gap over the gate: ${breached.flatMap((p) => p.breaches).join("; ")}`
        : `every group gap within the gate (largest ${worst === null ? "n/a" : `${worst.toFixed(1)} points`})`,
    };
  };
}
