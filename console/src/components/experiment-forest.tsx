/**
 * A forest plot of an experiment's lifts: per treatment arm, the API's relative lift over the
 * control (the point) and its confidence interval (the whiskers), against a zero line. One plot
 * per metric, each on its own scale. Nothing is recomputed: the point is `lift.estimate`, the
 * whiskers end at `lift.ci`.
 */
import {
  Bar,
  type BarShapeProps,
  CartesianGrid,
  ComposedChart,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { Comparison } from "../../../src/engines/experiments/types.ts";
import { niceTicks, pctDigits } from "../axis.ts";
import { AXIS, COLORS, Figure, fmt, METRIC_LABELS, TOOLTIP_STYLE } from "./rollout-kit.tsx";

interface Row {
  label: string;
  estimate: number;
  ci: [number, number];
  direction: Comparison["direction"];
  significant: boolean;
}

const DIRECTION_COLOR: Record<string, string> = {
  better: COLORS.ok,
  worse: COLORS.bad,
  none: COLORS.neutral,
};

/** The interval as a horizontal whisker with caps. */
function Whisker(props: BarShapeProps) {
  const { x, y, width, height } = props;
  const row = props.payload as Row | undefined;
  const left = Math.min(x, x + width);
  const right = Math.max(x, x + width);
  const mid = y + height / 2;
  const color = DIRECTION_COLOR[row?.direction ?? "none"] ?? COLORS.neutral;
  return (
    <g stroke={color} strokeWidth={2}>
      <line x1={left} x2={right} y1={mid} y2={mid} />
      <line x1={left} x2={left} y1={mid - height / 2} y2={mid + height / 2} />
      <line x1={right} x2={right} y1={mid - height / 2} y2={mid + height / 2} />
    </g>
  );
}

export function ForestPlot({
  metric,
  comparisons,
  confidence,
}: {
  metric: string;
  comparisons: Comparison[];
  /** The intervals' level, from the experiment's alpha (for the caption). */
  confidence: number;
}) {
  const rows: Row[] = comparisons.flatMap((c) =>
    c.lift
      ? [
          {
            label: c.arm,
            estimate: c.lift.estimate,
            ci: c.lift.ci,
            direction: c.direction,
            significant: c.significant,
          },
        ]
      : [],
  );
  const missing = comparisons.filter((c) => !c.lift);
  // The axis always shows zero (no change), and round ticks around the intervals.
  const ticks = niceTicks(Math.min(0, ...rows.map((r) => r.ci[0])), Math.max(0, ...rows.map((r) => r.ci[1])));
  const digits = pctDigits(ticks);
  const name = METRIC_LABELS[metric] ?? metric;
  return (
    <Figure
      caption={
        <>
          {name}: relative lift of each arm over the control, with its {Math.round(confidence * 100)}%
          interval. Green: significantly better; red: significantly worse; grey: no significant difference (a
          hollow point).
          {missing.map((c) => (
            <span key={c.arm}>
              {" "}
              {c.arm}: no lift{c.note ? ` (${c.note})` : ""}.
            </span>
          ))}
        </>
      }
    >
      {rows.length === 0 ? (
        <p className="re-nofig muted small">No lift yet for {name.toLowerCase()}.</p>
      ) : (
        <div className="re-chart">
          <ResponsiveContainer width="100%" height={rows.length * 48 + 48}>
            <ComposedChart layout="vertical" data={rows} margin={{ top: 8, right: 24, bottom: 0, left: 0 }}>
              <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" horizontal={false} />
              <XAxis
                type="number"
                domain={[ticks[0]!, ticks.at(-1)!]}
                ticks={ticks}
                interval={0}
                tickFormatter={(x: number) => fmt.signedPct(x, digits)}
                {...AXIS}
              />
              <YAxis type="category" dataKey="label" width={72} {...AXIS} />
              <Tooltip
                {...TOOLTIP_STYLE}
                cursor={{ fill: "var(--neutral-bg)" }}
                formatter={(value, key) =>
                  Array.isArray(value)
                    ? [`${fmt.signedPct(Number(value[0]))} to ${fmt.signedPct(Number(value[1]))}`, key]
                    : [typeof value === "number" ? fmt.signedPct(value) : "–", key]
                }
              />
              <ReferenceLine x={0} stroke="var(--muted)" strokeWidth={1.5} />
              <Bar
                dataKey="ci"
                name={`${Math.round(confidence * 100)}% CI`}
                barSize={14}
                shape={Whisker}
                isAnimationActive={false}
              />
              <Line
                dataKey="estimate"
                name="lift"
                stroke="none"
                isAnimationActive={false}
                activeDot={false}
                dot={(p) => {
                  const row = p.payload as Row;
                  const color = DIRECTION_COLOR[row.direction] ?? COLORS.neutral;
                  return (
                    <circle
                      key={`e${p.index}`}
                      cx={p.cx}
                      cy={p.cy}
                      r={6}
                      fill={row.significant ? color : "var(--surface)"}
                      stroke={color}
                      strokeWidth={2}
                    />
                  );
                }}
              />
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
    </Figure>
  );
}
