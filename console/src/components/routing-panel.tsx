/**
 * A router evaluation's routing section: a table per tier (cases answered, success, cost per
 * case and per success), the router overall and each tier alone on the suite, and the
 * cost-quality curve over the threshold with the router's own point and the tiers alone marked.
 * Every figure is the API's (modules/evals/routing.ts); routing-series.ts makes the series.
 */
import {
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Scatter,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { type Routing, routingSeries } from "../routing-series.ts";
import { AXIS, COLORS, Figure, fmt, TOOLTIP_STYLE } from "./rollout-kit.tsx";
import { Table } from "./ui.tsx";

type Row = {
  cases: number;
  passed: number;
  successRate: number | null;
  costPerCaseUsd: number | null;
  costPerSuccessUsd: number | null;
};

function Cells({ f }: { f: Row }) {
  return (
    <>
      <td className="num">{f.cases}</td>
      <td className="num">{fmt.pct(f.successRate)}</td>
      <td className="num">{fmt.usd(f.costPerCaseUsd)}</td>
      <td className="num">{fmt.usd(f.costPerSuccessUsd)}</td>
    </>
  );
}

const MARK_COLOR = { current: COLORS.candidate, measured: COLORS.ok, tier: COLORS.baseline } as const;

export function RoutingPanel({ routing }: { routing: Routing }) {
  const s = routingSeries(routing);
  const vs = routing.versusStrong;
  return (
    <>
      <p className="subhead">Routing</p>
      <p className="small muted">
        {routing.strategy}
        {routing.classifier ? ` by ${routing.classifier}` : ""}
        {routing.threshold !== null ? `, threshold ${routing.threshold.toFixed(3)}` : ""}
        {vs && vs.successShare !== null && vs.costShare !== null
          ? ` · keeps ${fmt.pct(vs.successShare)} of always-strong's success at ${fmt.pct(vs.costShare)} of its cost`
          : ""}
      </p>
      <Table label="Per tier" head={["", "cases", "success", "cost per case", "cost per success"]}>
        {routing.tiers.map((t) => (
          <tr key={t.tier}>
            <th scope="row">
              tier {t.tier} <span className="muted small mono">{t.target}</span>
              {t.calls !== t.cases && <span className="muted small"> (called on {t.calls})</span>}
            </th>
            <Cells f={t} />
          </tr>
        ))}
        <tr>
          <th scope="row">router overall</th>
          <Cells f={routing.overall} />
        </tr>
        {routing.baselines.map((b, i) => (
          <tr key={`always-${b.tier}`}>
            <th scope="row">
              {i === 0
                ? "always-cheap"
                : i === routing.baselines.length - 1
                  ? "always-strong"
                  : `always-${b.tier}`}{" "}
              <span className="muted small mono">{b.version ?? "–"}</span>
            </th>
            {b.runId ? (
              <Cells f={b} />
            ) : (
              <td colSpan={4} className="muted small">
                {b.missing}
              </td>
            )}
          </tr>
        ))}
      </Table>
      {s.curve.length > 0 ? (
        <Figure
          caption={
            <>
              The cost-quality curve over the threshold on {routing.curve?.cases} cases run on both tiers
              alone: success against cost per case, from all-cheap (left) to all-strong (right). Marked: the
              router's threshold on the curve (blue), the router as run (green), each tier alone (grey).
            </>
          }
        >
          <div className="re-chart">
            <ResponsiveContainer width="100%" height={260}>
              <ComposedChart margin={{ top: 8, right: 28, bottom: 8, left: 0 }}>
                <CartesianGrid stroke="var(--border)" strokeDasharray="3 3" />
                <XAxis
                  dataKey="cost"
                  type="number"
                  domain={[0, "auto"]}
                  tickFormatter={(x: number) => fmt.usd(x)}
                  name="cost per case"
                  {...AXIS}
                />
                <YAxis
                  dataKey="success"
                  type="number"
                  domain={[0, 1]}
                  tickFormatter={(x: number) => fmt.pct(x, 0)}
                  width={56}
                  name="success"
                  {...AXIS}
                />
                <Tooltip
                  {...TOOLTIP_STYLE}
                  formatter={(value, name) =>
                    name === "cost per case" ? fmt.usd(Number(value)) : fmt.pct(Number(value))
                  }
                />
                <Legend />
                <Line
                  data={s.curve}
                  dataKey="success"
                  name="curve"
                  type="stepAfter"
                  stroke={COLORS.candidate}
                  dot={{ r: 2 }}
                  isAnimationActive={false}
                />
                {(["current", "measured", "tier"] as const).map((kind) => (
                  <Scatter
                    key={kind}
                    data={s.marks.filter((m) => m.kind === kind)}
                    name={
                      kind === "current"
                        ? "router's threshold"
                        : kind === "measured"
                          ? "router as run"
                          : "tier alone"
                    }
                    fill={MARK_COLOR[kind]}
                    isAnimationActive={false}
                  />
                ))}
              </ComposedChart>
            </ResponsiveContainer>
          </div>
          <ul className="small">
            {s.marks.map((m) => (
              <li key={m.name}>
                {m.name}: success {fmt.pct(m.success)} at {fmt.usd(m.cost)} a case
              </li>
            ))}
          </ul>
        </Figure>
      ) : null}
      {routing.notes.map((n) => (
        <p key={n} className="small muted">
          {n}
        </p>
      ))}
    </>
  );
}
