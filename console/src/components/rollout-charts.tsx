/**
 * A rollout's live charts: the candidate's weight per decision (a step line), and per metric the
 * plan judges, the candidate's value against the baseline's at every analysis. Every point is a
 * number from the API's decisions; nothing is smoothed, interpolated or recomputed.
 */
import type { ReactNode } from "react";
import {
  Area,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { type BoundedAxis, boundedAxis, niceTicks, pctDigits, rateAxis } from "../axis.ts";
import { formatClock, timeTick } from "../time.ts";
import {
  AXIS,
  COLORS,
  Figure,
  fmt,
  judgeAnalysis,
  METRIC_LABELS,
  type MetricResult,
  numberOf,
  planMetric,
  type Rollout,
  type RolloutDecision,
  TONES,
  TOOLTIP_STYLE,
  timeTicks,
} from "./rollout-kit.tsx";
import { Badge } from "./ui.tsx";

interface Point {
  t: number;
  decision: string;
  v: Record<string, number | [number, number] | null>;
}

interface Series {
  key: string;
  name: string;
  color: string;
  dashed?: boolean;
}

const byTime = (ds: RolloutDecision[]) => [...ds].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

function tooltipLabel(label: ReactNode, payload: readonly { payload?: Point }[]) {
  const p = payload[0]?.payload;
  if (!p) return label;
  const when = formatClock(p.t);
  return p.decision ? `${when} · ${p.decision}` : when;
}

/** The time axis of every rollout chart; called as a function, since recharts looks for its own elements. */
function timeAxis(points: Point[]) {
  const min = points[0]?.t ?? 0;
  const max = points.at(-1)?.t ?? 0;
  return (
    <XAxis
      dataKey="t"
      type="number"
      scale="time"
      domain={[min, max]}
      ticks={timeTicks(min, max)}
      tickFormatter={timeTick(max - min)}
      minTickGap={24}
      {...AXIS}
    />
  );
}

const DECISION_COLOR: Record<string, string> = {
  rollback: COLORS.bad,
  abort: COLORS.bad,
  promote: COLORS.ok,
  advance: COLORS.candidate,
  pause: "#d9822b",
};

/** The candidate's share of traffic after each decision, as a step line, up to now while it runs. */
export function WeightChart({ rollout }: { rollout: Rollout }) {
  const ds = byTime(rollout.decisions);
  const points: Point[] = [];
  const first = ds[0];
  if (first) points.push({ t: Date.parse(first.at), decision: "", v: { w: first.weightBefore } });
  for (const d of ds) points.push({ t: Date.parse(d.at), decision: d.decision, v: { w: d.weightAfter } });
  const active = rollout.status === "running" || rollout.status === "paused";
  const last = points.at(-1);
  if (active && last)
    points.push({ t: Math.max(Date.now(), last.t), decision: "", v: { w: rollout.weight } });
  const blueGreen = rollout.mode === "blue_green";
  return (
    <Figure
      caption={`${blueGreen ? "Traffic served by" : "Share of traffic routed to"} ${rollout.candidate}, in percent, after each decision (dots; red: rollback or abort, green: promote).${rollout.decisions.length >= 50 ? " The API returns the last 50 decisions." : ""}`}
    >
      <div className="re-chart">
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={points} margin={{ top: 8, right: 28, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
            {timeAxis(points)}
            <YAxis domain={[0, 100]} ticks={[0, 25, 50, 75, 100]} unit="%" width={48} {...AXIS} />
            <Tooltip
              {...TOOLTIP_STYLE}
              labelFormatter={tooltipLabel}
              formatter={(value) => [`${value}%`, "weight"]}
            />
            <Line
              type="stepAfter"
              dataKey={(p: Point) => p.v.w}
              name="weight"
              stroke={COLORS.candidate}
              strokeWidth={2}
              isAnimationActive={false}
              dot={(props) => {
                const p = props.payload as Point;
                const color = DECISION_COLOR[p.decision] ?? COLORS.neutral;
                return p.decision ? (
                  <circle
                    key={`d${props.index}`}
                    cx={props.cx}
                    cy={props.cy}
                    r={3.5}
                    fill={color}
                    stroke="none"
                  />
                ) : (
                  <g key={`d${props.index}`} />
                );
              }}
            />
          </LineChart>
        </ResponsiveContainer>
      </div>
    </Figure>
  );
}

function NoFigures() {
  return <p className="re-nofig muted small">No figures yet: every analysis so far had too little data.</p>;
}

/** A time chart of a few series, with optional fixed reference lines. */
function SeriesChart({
  points,
  series,
  refs = [],
  format,
  axisFormat,
  axis,
  domain,
}: {
  points: Point[];
  series: Series[];
  refs?: { y: number; label: string }[];
  format: (x: number) => string;
  /** A shorter format for the value axis' ticks, where `format` is long. */
  axisFormat?: (x: number) => string;
  /** A fixed frame (rates: rateAxis); else `domain`, recharts rounding its ends. */
  axis?: BoundedAxis;
  domain?: [number | string, number | string];
}) {
  const any = points.some((p) => series.some((s) => p.v[s.key] != null));
  if (!any) return <NoFigures />;
  return (
    <div className="re-chart">
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={points} margin={{ top: 8, right: 28, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
          {timeAxis(points)}
          <YAxis
            tickFormatter={axisFormat ?? format}
            width={76}
            domain={axis?.domain ?? domain ?? ["auto", "auto"]}
            ticks={axis?.ticks}
            interval={axis ? 0 : undefined}
            allowDataOverflow={axis !== undefined}
            {...AXIS}
          />
          <Tooltip
            {...TOOLTIP_STYLE}
            labelFormatter={tooltipLabel}
            formatter={(value, name) => [typeof value === "number" ? format(value) : "–", name]}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {refs.map((r) => (
            <ReferenceLine
              key={`${r.label}${r.y}`}
              y={r.y}
              stroke={COLORS.limit}
              strokeDasharray="4 4"
              label={{ value: r.label, position: "insideTopRight", fontSize: 11, fill: COLORS.limit }}
            />
          ))}
          {series.map((s) => (
            <Line
              key={s.key}
              type="linear"
              dataKey={(p: Point) => p.v[s.key] ?? null}
              name={s.name}
              stroke={s.color}
              strokeWidth={2}
              strokeDasharray={s.dashed ? "5 4" : undefined}
              dot={{ r: 2 }}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

/** The relative lift and its interval per analysis, against the non-inferiority margin. */
function LiftChart({
  points,
  margin,
  confidence,
}: {
  points: Point[];
  margin: number | null;
  confidence: number | null;
}) {
  const label = confidence == null ? "CI" : `${Math.round(confidence * 100)}% CI`;
  if (!points.some((p) => p.v.lift != null)) return <NoFigures />;
  // Round ticks over every interval, the estimate, zero and the margin.
  const values = points.flatMap((p) =>
    [p.v.lift, p.v.ci].flat().filter((x): x is number => typeof x === "number"),
  );
  const ticks = niceTicks(Math.min(0, margin ?? 0, ...values), Math.max(0, ...values), 4);
  const digits = pctDigits(ticks);
  return (
    <div className="re-chart">
      <ResponsiveContainer width="100%" height={180}>
        <ComposedChart data={points} margin={{ top: 8, right: 28, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
          {timeAxis(points)}
          <YAxis
            domain={[ticks[0]!, ticks.at(-1)!]}
            ticks={ticks}
            interval={0}
            tickFormatter={(x: number) => fmt.signedPct(x, digits)}
            width={76}
            {...AXIS}
          />
          <Tooltip
            {...TOOLTIP_STYLE}
            labelFormatter={tooltipLabel}
            formatter={(value, name) => [
              Array.isArray(value)
                ? `${fmt.signedPct(Number(value[0]))} to ${fmt.signedPct(Number(value[1]))}`
                : typeof value === "number"
                  ? fmt.signedPct(value)
                  : "–",
              name,
            ]}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          <ReferenceLine y={0} stroke="var(--muted)" />
          {margin != null && (
            <ReferenceLine
              y={margin}
              stroke={COLORS.limit}
              strokeDasharray="4 4"
              label={{
                value: `margin ${fmt.signedPct(margin, 0)}`,
                position: "insideBottomRight",
                fontSize: 11,
                fill: COLORS.limit,
              }}
            />
          )}
          <Area
            type="linear"
            dataKey={(p: Point) => p.v.ci ?? null}
            name={label}
            stroke="none"
            fill={COLORS.candidate}
            fillOpacity={0.18}
            isAnimationActive={false}
          />
          <Line
            type="linear"
            dataKey={(p: Point) => p.v.lift ?? null}
            name="relative lift"
            stroke={COLORS.candidate}
            strokeWidth={2}
            dot={{ r: 2 }}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

interface MetricView {
  kind: string;
  latest: MetricResult | undefined;
  body: ReactNode;
}

/** One metric's points: every analysis that judged it, with the numbers `pick` takes from it. */
function pointsOf(
  ds: RolloutDecision[],
  kind: string,
  pick: (m: MetricResult) => Point["v"],
): { points: Point[]; latest: MetricResult | undefined; last: (key: string) => number | null } {
  const points: Point[] = [];
  const judged: MetricResult[] = [];
  for (const d of ds) {
    const m = judgeAnalysis(d.analysis)?.metrics.find((x) => x.metric === kind);
    if (!m) continue;
    judged.push(m);
    points.push({ t: Date.parse(d.at), decision: d.decision, v: pick(m) });
  }
  /** A figure of the newest analysis that gave it (one with too little data gives none). */
  const last = (key: string) => {
    for (let i = judged.length - 1; i >= 0; i--) {
      const x = numberOf(judged[i], key);
      if (x !== null) return x;
    }
    return null;
  };
  return { points, latest: judged.at(-1), last };
}

/** Every number the points give for these series (the value axis' frame covers them). */
const valuesOf = (points: Point[], ...keys: string[]) =>
  points.flatMap((p) => keys.map((k) => p.v[k]).filter((x): x is number => typeof x === "number"));

const candBase = (m: MetricResult) => ({ cand: numberOf(m, "candidate"), base: numberOf(m, "baseline") });

function metricView(kind: string, rollout: Rollout, ds: RolloutDecision[]): MetricView | null {
  const cfg = planMetric(rollout.plan, kind);
  const cand: Series = { key: "cand", name: `candidate ${rollout.candidate}`, color: COLORS.candidate };
  const base: Series = {
    key: "base",
    name: `baseline ${rollout.baseline}`,
    color: COLORS.baseline,
    dashed: true,
  };
  switch (kind) {
    case "success_rate":
    case "score_mean": {
      const { points, latest, last } = pointsOf(ds, kind, (m) => {
        const ci = m.numbers.ci;
        return {
          ...candBase(m),
          lift: numberOf(m, "relativeLift"),
          ci: Array.isArray(ci) && ci.length === 2 ? [Number(ci[0]), Number(ci[1])] : null,
        };
      });
      const f = kind === "success_rate" ? (x: number) => fmt.pct(x) : (x: number) => fmt.num(x, 3);
      const axis =
        kind === "success_rate" ? rateAxis(valuesOf(points, "cand", "base"), [], false) : undefined;
      const tick = axis && ((x: number) => fmt.pct(x, pctDigits(axis.ticks)));
      return {
        kind,
        latest,
        body: !points.some((p) => p.v.cand != null) ? (
          <NoFigures />
        ) : (
          <>
            <SeriesChart points={points} series={[cand, base]} format={f} axis={axis} axisFormat={tick} />
            <p className="muted small re-chart-note">
              Relative lift of the candidate over the baseline, with the interval the judge tests against the
              margin:
            </p>
            <LiftChart points={points} margin={last("margin")} confidence={last("confidence")} />
          </>
        ),
      };
    }
    case "error_rate": {
      const { points, latest, last } = pointsOf(ds, kind, candBase);
      const max = last("max") ?? (typeof cfg?.max === "number" ? cfg.max : null);
      const axis = rateAxis(valuesOf(points, "cand", "base"), [max]);
      return {
        kind,
        latest,
        body: (
          <SeriesChart
            points={points}
            series={[cand, base]}
            refs={max == null ? [] : [{ y: max, label: `max ${fmt.pct(max, 2)}` }]}
            format={(x) => fmt.pct(x, 2)}
            axis={axis}
            axisFormat={(x) => fmt.pct(x, pctDigits(axis.ticks))}
          />
        ),
      };
    }
    case "latency_p95_ms":
    case "cost_per_request_usd": {
      // The judge lists its limits in this order: the absolute maximum, then the one relative to the baseline.
      const names: string[] = [];
      if (typeof cfg?.max === "number") names.push("maximum");
      if (typeof cfg?.maxRelativeIncrease === "number")
        names.push(`limit (baseline ${fmt.signedPct(cfg.maxRelativeIncrease, 0)})`);
      const { points, latest } = pointsOf(ds, kind, (m) => {
        const limits = Array.isArray(m.numbers.limits) ? (m.numbers.limits as number[]) : [];
        return { ...candBase(m), ...Object.fromEntries(limits.map((l, i) => [`limit${i}`, l])) };
      });
      const count = Math.max(
        0,
        ...points.map((p) => Object.keys(p.v).filter((k) => k.startsWith("limit")).length),
      );
      const limitSeries: Series[] = Array.from({ length: count }, (_, i) => ({
        key: `limit${i}`,
        name: names[i] ?? "limit",
        color: COLORS.limit,
        dashed: true,
      }));
      return {
        kind,
        latest,
        body: (
          <SeriesChart
            points={points}
            series={[cand, base, ...limitSeries]}
            format={kind === "latency_p95_ms" ? fmt.ms : fmt.usd}
            axisFormat={kind === "latency_p95_ms" ? (x) => `${Math.round(x)} ms` : undefined}
            domain={[0, "auto"]}
          />
        ),
      };
    }
    case "group_success_gap": {
      const attrs = new Set<string>();
      const { points, latest, last } = pointsOf(ds, kind, (m) => {
        const v: Point["v"] = {};
        const list = Array.isArray(m.numbers.attributes) ? m.numbers.attributes : [];
        for (const a of list as { attribute?: unknown; gapPoints?: unknown; baselineGapPoints?: unknown }[]) {
          const name = String(a.attribute);
          attrs.add(name);
          v[`c:${name}`] = typeof a.gapPoints === "number" ? a.gapPoints : null;
          v[`b:${name}`] = typeof a.baselineGapPoints === "number" ? a.baselineGapPoints : null;
        }
        return v;
      });
      const series = [...attrs].flatMap((a, i): Series[] => {
        const color = COLORS.series[i % COLORS.series.length]!;
        return [
          { key: `c:${a}`, name: `${a} (candidate)`, color },
          { key: `b:${a}`, name: `${a} (baseline)`, color, dashed: true },
        ];
      });
      const max = last("maxGapPoints");
      // Percentage points between two groups' success rates: from 0 to at most 100.
      const axis = boundedAxis(valuesOf(points, ...series.map((x) => x.key)), {
        refs: [max],
        floor: 0,
        ceiling: 100,
        zero: true,
        minSpan: 1,
      });
      return {
        kind,
        latest,
        body: (
          <SeriesChart
            points={points}
            series={series}
            refs={max == null ? [] : [{ y: max, label: `max ${max} pts` }]}
            format={(x) => `${fmt.num(x)} pts`}
            axis={axis}
          />
        ),
      };
    }
    case "agreement": {
      const { points, latest, last } = pointsOf(ds, kind, (m) => ({ cand: numberOf(m, "agreement") }));
      const min = last("min");
      const axis = rateAxis(valuesOf(points, "cand"), [min], false);
      return {
        kind,
        latest,
        body: (
          <SeriesChart
            points={points}
            series={[{ ...cand, name: `agreement of ${rollout.candidate}` }]}
            refs={min == null ? [] : [{ y: min, label: `min ${fmt.pct(min)}` }]}
            format={(x) => fmt.pct(x)}
            axis={axis}
            axisFormat={(x) => fmt.pct(x, pctDigits(axis.ticks))}
          />
        ),
      };
    }
    default:
      return null;
  }
}

/** The kinds to chart: the plan's metrics in its order, then any other an analysis judged. */
function kindsOf(rollout: Rollout, ds: RolloutDecision[]): string[] {
  const kinds: string[] = [];
  const plan = rollout.plan as { metrics?: { kind?: unknown }[] };
  for (const m of plan.metrics ?? [])
    if (typeof m.kind === "string" && !kinds.includes(m.kind)) kinds.push(m.kind);
  for (const d of ds)
    for (const m of judgeAnalysis(d.analysis)?.metrics ?? [])
      if (!kinds.includes(m.metric)) kinds.push(m.metric);
  return kinds;
}

/** One panel per metric: candidate against baseline at every analysis, and the latest judgement in words. */
export function MetricCharts({ rollout }: { rollout: Rollout }) {
  const ds = byTime(rollout.decisions);
  const views = kindsOf(rollout, ds)
    .map((k) => metricView(k, rollout, ds))
    .filter((v): v is MetricView => v !== null);
  return (
    <div className="grid two re-metrics">
      {views.map((v) => (
        <section key={v.kind} className="panel re-metric" aria-labelledby={`metric-${v.kind}`}>
          <div className="panel-head">
            <h3 id={`metric-${v.kind}`}>{METRIC_LABELS[v.kind] ?? v.kind}</h3>
            {v.latest && <Badge tone={TONES[v.latest.status]}>{v.latest.status}</Badge>}
          </div>
          {v.latest ? (
            <>
              {v.body}
              <p className="small re-reason">
                <span className="muted">Latest analysis: </span>
                {v.latest.reason}
              </p>
            </>
          ) : (
            <p className="muted small">Not analysed yet: no analysis has judged this metric.</p>
          )}
        </section>
      ))}
    </div>
  );
}
