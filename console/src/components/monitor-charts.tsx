/**
 * A monitor rule's windows: a chart of each window's value (a dot coloured by its status) against
 * the baseline and the threshold, the band between them shaded, and a table of the windows with
 * their numbers and reasons. Every point and figure is one the API's history gave.
 */
import {
  Area,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { type BoundedAxis, boundedAxis, pctDigits, rateAxis } from "../axis.ts";
import {
  type MonitorRuleView,
  type ValueUnit,
  valueName,
  valuesOf,
  WINDOW_TONES,
  type WindowPoint,
  type WindowStatus,
} from "../monitor-series.ts";
import { formatSpan, timeTick } from "../time.ts";
import { AXIS, COLORS, Figure, fmt, TOOLTIP_STYLE, timeTicks } from "./rollout-kit.tsx";
import { Badge, Table, Time } from "./ui.tsx";

/** A value in the rule's unit (display only). */
export function formatValue(unit: ValueUnit, x: number | null | undefined): string {
  switch (unit) {
    case "rate":
      return fmt.pct(x, x != null && Math.abs(x) < 0.1 ? 2 : 1);
    case "usd":
      return fmt.usd(x);
    case "ms":
      return fmt.ms(x);
    case "points":
      return fmt.points(x);
    case "tokens":
      return x == null ? "–" : `${fmt.num(x, 1)} tokens`;
    default:
      return fmt.num(x, 3);
  }
}

const STATUS_COLOR: Record<WindowStatus, string> = {
  breach: COLORS.bad,
  ok: COLORS.ok,
  insufficient: COLORS.neutral,
};

/** The value axis' frame: rates inside [0, 100%], the rest from recharts' own rounding (from zero). */
function axisOf(unit: ValueUnit, points: WindowPoint[], risesAreBad: boolean): BoundedAxis | undefined {
  const values = valuesOf(points);
  if (unit === "rate") return rateAxis(values, [], risesAreBad);
  if (unit === "points") return boundedAxis(values, { floor: 0, ceiling: 100, zero: true, minSpan: 1 });
  return undefined;
}

/** The rule's windows over time: value against baseline and threshold, the baseline band shaded. */
export function WindowChart({
  rule,
  points,
  unit,
}: {
  rule: MonitorRuleView;
  points: WindowPoint[];
  unit: ValueUnit;
}) {
  if (!points.some((p) => p.value !== null))
    return (
      <p className="muted small mo-nofig">
        No window has a value yet: every window judged so far had too little data (see the reasons below).
      </p>
    );
  const min = points[0]!.t;
  const max = points.at(-1)!.t;
  const format = (x: number) => formatValue(unit, x);
  const risesAreBad = points.some(
    (p) => p.baseline !== null && p.threshold !== null && p.threshold > p.baseline,
  );
  const axis = axisOf(unit, points, risesAreBad);
  // Ticks are round numbers of the axis, not the API's values: as many digits as they need.
  const tick =
    unit === "rate" && axis
      ? (x: number) => fmt.pct(x, pctDigits(axis.ticks))
      : unit === "points"
        ? (x: number) => `${fmt.num(x, 2)} pts`
        : format;
  const hasBand = points.some((p) => p.band !== null);
  const hasBaseline = points.some((p) => p.baseline !== null);
  const what = valueName(rule);
  return (
    <Figure
      caption={
        <>
          The {what} of each {rule.windowHours === 1 ? "hour" : "day"} (dots: red a breach, green within, grey
          too little data to judge)
          {hasBaseline ? ", the baseline (dashed grey)" : ""}, and the threshold past which a window breaches
          (dashed red){hasBand ? "; the band between baseline and threshold is shaded" : ""}.
        </>
      }
    >
      <div className="re-chart">
        <ResponsiveContainer width="100%" height={220}>
          <ComposedChart data={points} margin={{ top: 8, right: 28, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" vertical={false} />
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
            <YAxis
              tickFormatter={tick}
              width={76}
              domain={
                axis?.domain ??
                (unit === "statistic" || unit === "ms" || unit === "usd" || unit === "tokens"
                  ? [0, "auto"]
                  : ["auto", "auto"])
              }
              ticks={axis?.ticks}
              interval={axis ? 0 : undefined}
              allowDataOverflow={axis !== undefined}
              {...AXIS}
            />
            <Tooltip
              {...TOOLTIP_STYLE}
              labelFormatter={(label, payload) => {
                const p = (payload as readonly { payload?: WindowPoint }[])[0]?.payload;
                return p ? `${formatSpan(p.window.windowStart, p.window.windowEnd)} · ${p.status}` : label;
              }}
              formatter={(value, name) => [
                Array.isArray(value)
                  ? `${format(Number(value[0]))} to ${format(Number(value[1]))}`
                  : typeof value === "number"
                    ? format(value)
                    : "–",
                name,
              ]}
            />
            <Legend wrapperStyle={{ fontSize: 12 }} />
            {hasBand && (
              <Area
                type="linear"
                dataKey={(p: WindowPoint) => p.band}
                name="baseline band"
                stroke="none"
                fill={COLORS.baseline}
                fillOpacity={0.2}
                isAnimationActive={false}
              />
            )}
            {hasBaseline && (
              <Line
                type="linear"
                dataKey={(p: WindowPoint) => p.baseline}
                name="baseline"
                stroke={COLORS.baseline}
                strokeDasharray="5 4"
                strokeWidth={1.5}
                dot={false}
                isAnimationActive={false}
              />
            )}
            <Line
              type="linear"
              dataKey={(p: WindowPoint) => p.threshold}
              name="threshold"
              stroke={COLORS.limit}
              strokeDasharray="4 4"
              strokeWidth={1.5}
              dot={false}
              isAnimationActive={false}
            />
            <Line
              type="linear"
              dataKey={(p: WindowPoint) => p.value}
              name={what}
              stroke={COLORS.candidate}
              strokeWidth={2}
              isAnimationActive={false}
              dot={(props) => {
                const p = props.payload as WindowPoint;
                return p.value === null || props.cy == null ? (
                  <g key={`w${props.index}`} />
                ) : (
                  <circle
                    key={`w${props.index}`}
                    cx={props.cx}
                    cy={props.cy}
                    r={3.5}
                    fill={p.status === "insufficient" ? "var(--surface)" : STATUS_COLOR[p.status]}
                    stroke={STATUS_COLOR[p.status]}
                    strokeWidth={1.5}
                  />
                );
              }}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
    </Figure>
  );
}

/** The rule's windows, newest first, with every number the API gave and its reason. */
export function WindowTable({
  rule,
  points,
  unit,
}: {
  rule: MonitorRuleView;
  points: WindowPoint[];
  unit: ValueUnit;
}) {
  return (
    <Table
      label={`Windows of ${rule.name}`}
      head={["Window", "Status", "Value", "Baseline", "Threshold", "n", "p", "Reason"]}
    >
      {[...points].reverse().map((p) => (
        <tr key={p.window.windowStart}>
          <td className="re-nowrap">
            <Time at={p.window.windowStart} />
          </td>
          <td>
            <Badge tone={WINDOW_TONES[p.status]}>{p.status}</Badge>
          </td>
          <td className="num">{formatValue(unit, p.value)}</td>
          <td className="num">{formatValue(unit, p.baseline)}</td>
          <td className="num">{formatValue(unit, p.threshold)}</td>
          <td className="num">{fmt.num(p.window.n, 0)}</td>
          <td className="num re-nowrap">{fmt.p(p.window.p)}</td>
          <td className="small mo-reason">{p.window.reason}</td>
        </tr>
      ))}
    </Table>
  );
}
