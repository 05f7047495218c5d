/**
 * Success by group for one attribute of an evaluation run: a bar per group at the rate the
 * API reported, a whisker from the API's bootstrap interval (lower–upper), and the release
 * gate's threshold as a dashed line when the policy states it. Every number drawn is one the
 * API returned; the only arithmetic is placing the gate's line, from the API's highest group
 * rate and the gate's maxGapPoints / minRatio.
 */
import {
  Bar,
  CartesianGrid,
  Cell,
  ComposedChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { EvalRunView } from "../../../src/client/index.ts";
import { Badge, pct, Table } from "./ui.tsx";

export type RunReport = NonNullable<EvalRunView["report"]>;

/** A release gate as GET /approvals/policy returns it (the client's type omits `gates`). */
export interface ReleaseGateView {
  name: string;
  fairness?: {
    attributes?: string[];
    intersections?: string[][];
    maxGapPoints?: number;
    minRatio?: number;
    privileged?: unknown;
    unprivileged?: unknown;
    metrics?: string[];
  };
}

export interface GateLine {
  gate: string;
  value: number;
  label: string;
}

/** The gates of this run (by name) that judge `attribute`'s groups. */
function gatesOn(attribute: string, report: RunReport, gates: ReleaseGateView[]): ReleaseGateView[] {
  const singles = Object.keys(report.groups).filter((k) => !k.includes(" × "));
  return gates.filter((g) => {
    if (!g.fairness || !report.gates.names.includes(g.name)) return false;
    const sets = [
      ...(g.fairness.attributes ?? singles),
      ...(g.fairness.intersections ?? []).map((i) => i.join(" × ")),
    ];
    return sets.includes(attribute);
  });
}

/**
 * Where each gate's line goes: the lowest rate a group may have, given the highest group's rate
 * (the API's `disparity.max`). Only for the plain between-groups success-rate check; a gate
 * naming privileged groups or other metrics is shown in words only.
 */
export function gateLines(attribute: string, report: RunReport, gates: ReleaseGateView[] | null): GateLine[] {
  const g = report.groups[attribute];
  const top = g?.disparity.max?.value;
  if (!g || !gates || top == null || g.method !== "between_groups") return [];
  const lines: GateLine[] = [];
  for (const gate of gatesOn(attribute, report, gates)) {
    const f = gate.fairness!;
    if (f.privileged !== undefined || f.unprivileged !== undefined) continue;
    if (f.metrics && !f.metrics.includes("successRate")) continue;
    if (f.maxGapPoints !== undefined)
      lines.push({
        gate: gate.name,
        value: top - f.maxGapPoints / 100,
        label: `${gate.name}: max gap ${f.maxGapPoints} pts`,
      });
    if (f.minRatio !== undefined)
      lines.push({
        gate: gate.name,
        value: top * f.minRatio,
        label: `${gate.name}: min ratio ${f.minRatio}`,
      });
  }
  return lines;
}

/** The fairness verdict lines the API wrote about this attribute, and whether any failed. */
export function verdictFor(attribute: string, report: RunReport) {
  const v = report.gates.fairness;
  if (!v) return { reasons: [] as { text: string; failed: boolean }[], failed: false, judged: false };
  const about = (r: string) => report.gates.names.some((n) => r.startsWith(`${n}: ${attribute}: `));
  const failing = new Set(v.failures.map((f) => f.reason).filter(about));
  const reasons = v.reasons.filter(about).map((text) => ({ text, failed: failing.has(text) }));
  return { reasons, failed: failing.size > 0, judged: reasons.length > 0 };
}

interface Row {
  key: string;
  n: number;
  rate: number;
  ci: [number, number] | null;
  lower: number | null;
  upper: number | null;
}

/** The whisker: a vertical line over the interval bar's extent, with caps. */
function Whisker(props: unknown) {
  const {
    x = 0,
    y = 0,
    width = 0,
    height = 0,
  } = props as { x?: number; y?: number; width?: number; height?: number };
  if (!Number.isFinite(y) || !Number.isFinite(height)) return <g />;
  const cx = x + width / 2;
  const cap = Math.min(14, Math.max(6, width / 3));
  return (
    <g className="ci-whisker">
      <line x1={cx} x2={cx} y1={y} y2={y + height} />
      <line x1={cx - cap / 2} x2={cx + cap / 2} y1={y} y2={y} />
      <line x1={cx - cap / 2} x2={cx + cap / 2} y1={y + height} y2={y + height} />
    </g>
  );
}

function Tip({ active, payload }: { active?: boolean; payload?: readonly { payload?: Row }[] }) {
  const row = active ? payload?.[0]?.payload : undefined;
  if (!row) return null;
  return (
    <div className="tip">
      <strong>{row.key}</strong> (n = {row.n})
      <br />
      success {pct(row.rate)}
      {row.lower !== null && (
        <>
          <br />
          95% interval {pct(row.lower)} – {pct(row.upper)}
        </>
      )}
    </div>
  );
}

export function FairnessChart({
  attribute,
  report,
  gates,
}: {
  attribute: string;
  report: RunReport;
  /** The policy's release gates; null when the policy could not be read (thresholds then shown in words). */
  gates: ReleaseGateView[] | null;
}) {
  const g = report.groups[attribute]!;
  const iv = report.intervals[attribute];
  const rows: Row[] = g.groups.flatMap((x) => {
    if (x.status !== "ok" || x.successRate === null) return [];
    const ci = iv?.groups.find((i) => i.key === x.key);
    const lower = ci?.lower ?? null;
    const upper = ci?.upper ?? null;
    return [
      {
        key: x.key,
        n: x.n,
        rate: x.successRate,
        ci: lower !== null && upper !== null ? [lower, upper] : null,
        lower,
        upper,
      },
    ];
  });
  const lines = gateLines(attribute, report, gates).filter((l) => l.value >= 0 && l.value <= 1);
  const verdict = verdictFor(attribute, report);
  const charted = rows.length >= 2 || (rows.length === 1 && verdict.judged);
  const lowest = verdict.failed ? g.disparity.min?.group : undefined;
  const gap = g.maxGapPoints;
  const gapCi = iv?.difference;
  const level = iv ? `${Math.round(iv.confidence * 100)}%` : "95%";
  const summary = `Success rate by ${attribute}: ${rows.map((r) => `${r.key} ${pct(r.rate)}`).join(", ")}${
    gap !== null ? `; gap ${gap.toFixed(1)} points` : ""
  }${lines.length ? `; threshold ${lines.map((l) => pct(l.value)).join(", ")}` : ""}.`;
  return (
    <figure className="fairness">
      <figcaption>
        <strong>Success by {attribute}</strong>
        <span className="chips">
          {gap !== null && (
            <span className="small">
              gap <strong>{gap.toFixed(1)}</strong> points
              {gapCi && gapCi.lower !== null && gapCi.upper !== null && (
                <span className="muted">
                  {" "}
                  ({level} CI {(gapCi.lower * 100).toFixed(1)}–{(gapCi.upper * 100).toFixed(1)})
                </span>
              )}
            </span>
          )}
          {verdict.judged ? (
            <Badge tone={verdict.failed ? "bad" : "ok"}>
              {verdict.failed ? "fails gate" : "within gate"}
            </Badge>
          ) : (
            <Badge tone="neutral">no gate</Badge>
          )}
        </span>
      </figcaption>
      {rows.length === 0 ? (
        <p className="muted small">No group reached the minimum size ({g.minGroupSize}) to be compared.</p>
      ) : !charted ? (
        <p className="small">
          One group only, nothing to compare: <strong>{rows[0]!.key}</strong> {pct(rows[0]!.rate)} (n ={" "}
          {rows[0]!.n}
          {rows[0]!.lower !== null && `, ${level} interval ${pct(rows[0]!.lower)} – ${pct(rows[0]!.upper)}`}).
        </p>
      ) : (
        <div className="chart" role="img" aria-label={summary}>
          <ResponsiveContainer width="100%" height={260}>
            <ComposedChart data={rows} margin={{ top: 12, right: 12, bottom: 4, left: 0 }}>
              <CartesianGrid vertical={false} />
              <XAxis dataKey="key" interval={0} tickLine={false} />
              <XAxis dataKey="key" xAxisId="ci" hide />
              <YAxis
                domain={[0, 1]}
                ticks={[0, 0.25, 0.5, 0.75, 1]}
                tickFormatter={(v: number) => pct(v, 0)}
                width={44}
              />
              <Tooltip content={<Tip />} cursor={{ fillOpacity: 0.08 }} />
              <Bar dataKey="rate" name="success rate" maxBarSize={64} isAnimationActive={false}>
                {rows.map((r) => (
                  <Cell
                    key={r.key}
                    fill={r.key === lowest ? "var(--bad)" : "var(--accent)"}
                    fillOpacity={0.85}
                  />
                ))}
              </Bar>
              <Bar
                dataKey="ci"
                xAxisId="ci"
                name="95% interval"
                maxBarSize={64}
                shape={Whisker}
                isAnimationActive={false}
              />
              {lines.map((l) => (
                <ReferenceLine
                  key={l.label}
                  y={l.value}
                  stroke="var(--bad)"
                  strokeDasharray="6 4"
                  strokeWidth={1.5}
                />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        </div>
      )}
      {charted && (
        <p className="legend small muted">
          <span className="swatch bar" aria-hidden="true" />
          success rate
          {lowest && (
            <>
              {" "}
              · <span className="swatch low" aria-hidden="true" />
              lowest group (gate failed)
            </>
          )}{" "}
          · whiskers: {level} bootstrap interval{iv ? ` (${iv.iterations} resamples)` : ""}
          {lines.length > 0 && (
            <>
              {" "}
              · <span className="swatch line" aria-hidden="true" />
              threshold ({lines.map((l) => l.label).join("; ")}, below the highest group)
            </>
          )}
        </p>
      )}
      {verdict.reasons.length > 0 && (
        <ul className="verdicts small">
          {verdict.reasons.map((r) => (
            <li key={r.text} className={r.failed ? "fail" : "pass"}>
              <span className="mark" aria-hidden="true">
                {r.failed ? "✗" : "✓"}
              </span>
              <span>
                <span className="visually-hidden">{r.failed ? "Fails: " : "Passes: "}</span>
                {r.text}
              </span>
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>Numbers for {attribute}</summary>
        <Table
          label={`Success by ${attribute}`}
          head={["Group", "n", "Successes", "Success", `${level} interval`]}
        >
          {g.groups.map((x) => {
            const ci = iv?.groups.find((i) => i.key === x.key);
            return (
              <tr key={x.key}>
                <td>{x.key}</td>
                <td className="num">{x.n}</td>
                <td className="num">{x.successes}</td>
                <td className="num">
                  {x.status === "ok" ? pct(x.successRate) : `insufficient (< ${g.minGroupSize})`}
                </td>
                <td className="num">
                  {ci && ci.lower !== null ? (
                    `${pct(ci.lower)} – ${pct(ci.upper)}`
                  ) : (
                    <span className="muted">–</span>
                  )}
                </td>
              </tr>
            );
          })}
        </Table>
        {g.excluded.length > 0 && (
          <p className="small muted">
            Not compared: {g.excluded.map((e) => `${e.key} (n = ${e.n}: ${e.reason})`).join("; ")}
          </p>
        )}
      </details>
    </figure>
  );
}
