/**
 * The pieces of an experiment's results: the recommendation, the SRM check, the guardrails and
 * the tables of arms and comparisons. Every figure is the API's, only formatted.
 */
import { type FormEvent, useEffect, useRef, useState } from "react";
import type { ExperimentApiView } from "../../../src/client/index.ts";
import type {
  ArmResult,
  Comparison,
  ExperimentResults,
  GuardrailResult,
  PrimaryComparison,
  SrmCheck,
} from "../../../src/engines/experiments/types.ts";
import { messageOf, useSession } from "../api.tsx";
import { fmt, METRIC_LABELS, TONES } from "./rollout-kit.tsx";
import { Badge, Table } from "./ui.tsx";

export type Experiment = ExperimentApiView;
export type { ExperimentResults };

const metricLabel = (m: string) => METRIC_LABELS[m] ?? m;

/** A metric's value in its own unit. */
function value(metric: string, x: number | null | undefined): string {
  if (metric === "score_mean") return fmt.num(x, 3);
  if (metric === "error_rate" || metric === "cost_per_request_usd" || metric === "latency_p95_ms")
    return metric === "error_rate" ? fmt.pct(x, 2) : metric === "latency_p95_ms" ? fmt.ms(x) : fmt.usd(x);
  return fmt.pct(x);
}

/** An absolute difference: percentage points for a rate, score units for a mean score. */
function difference(metric: string, x: number): string {
  const sign = x >= 0 ? "+" : "−";
  return metric === "score_mean"
    ? `${sign}${fmt.num(Math.abs(x), 3)}`
    : `${sign}${(Math.abs(x) * 100).toFixed(1)} pts`;
}

function Ci({ ci }: { ci: [number, number] | null | undefined }) {
  if (!ci) return <span className="muted">–</span>;
  return (
    <span className="re-ci">
      {fmt.signedPct(ci[0])} to {fmt.signedPct(ci[1])}
    </span>
  );
}

/** A fixed-horizon p-value: shown once the planned sample is reached, before it a note says when. */
function FixedP({ p, reached }: { p: number | null; reached: boolean | undefined }) {
  if (p !== null) return <>{fmt.p(p)}</>;
  return reached === false ? (
    <span className="muted small">at the horizon</span>
  ) : (
    <span className="muted">–</span>
  );
}

/** Which interval the lift's CI is: always-valid before the horizon, fixed-horizon from it on. */
function ciLabel(c: Comparison): string {
  return c.lift?.ciKind === "fixed_horizon" ? "fixed-horizon" : "always-valid";
}

/** What may be read now, from the API's horizon. */
export function ReadingNote({ results }: { results: ExperimentResults }) {
  if (!results.horizon) return null;
  return (
    <p className="small muted" title="What is valid to read now">
      {results.horizon.note}
    </p>
  );
}

function Outcome({ c }: { c: Comparison }) {
  // No test yet (too little data): the API's note says why; a "no difference" badge would mislead.
  if (c.sequentialP == null && c.pValue === null && c.lift === null)
    return <div className="small muted">{c.note ?? "–"}</div>;
  return (
    <>
      <Badge tone={TONES[c.direction]}>
        {c.direction === "none" ? (c.significant ? "significant" : "no difference") : c.direction}
      </Badge>
      {c.note && <div className="small muted">{c.note}</div>}
    </>
  );
}

export function Recommendation({ results }: { results: ExperimentResults }) {
  const r = results.recommendation;
  return (
    <section className="panel re-recommendation" aria-labelledby="recommendation">
      <div className="panel-head">
        <h2 id="recommendation">Recommendation</h2>
        <div className="re-kv small">
          <span>
            minimum sample and duration{" "}
            <Badge tone={results.minimumMet ? "ok" : "neutral"}>
              {results.minimumMet ? "met" : "not met yet"}
            </Badge>
          </span>
          <span>
            split{" "}
            <Badge tone={results.trustworthy ? "ok" : "bad"}>
              {results.trustworthy ? "trustworthy" : "broken"}
            </Badge>
          </span>
        </div>
      </div>
      <p className="re-decision-line">
        <Badge tone={TONES[r.decision]}>{r.decision}</Badge>
        {r.arm && (
          <span>
            {" "}
            arm <strong>{r.arm}</strong>
          </span>
        )}
      </p>
      <ul className="re-reasons-list" aria-label="Reasons">
        {r.reasons.map((x, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the API's reasons in order
          <li key={i}>{x}</li>
        ))}
      </ul>
    </section>
  );
}

export function SrmPanel({ srm, arms }: { srm: SrmCheck; arms: ArmResult[] }) {
  return (
    <section className="panel" aria-labelledby="srm">
      <div className="panel-head">
        <h2 id="srm">Sample ratio</h2>
        <Badge tone={TONES[srm.status]}>{srm.status}</Badge>
      </div>
      <p className="small muted">
        Distinct {srm.unit} per arm against the configured split; a mismatch (p &lt; {srm.threshold}) means
        the assignment is broken and the results should not be trusted.
      </p>
      <Table label="Sample ratio per arm" head={["Arm", "Observed", "Expected"]}>
        {arms.map((a, i) => (
          <tr key={a.name}>
            <td>{a.name}</td>
            <td className="num">{fmt.num(srm.observed[i], 0)}</td>
            <td className="num">{fmt.num(srm.expected[i], 1)}</td>
          </tr>
        ))}
      </Table>
      <p className="small">
        χ² {fmt.num(srm.chiSquare, 2)}, p = {fmt.p(srm.p)}
      </p>
    </section>
  );
}

export function GuardrailsPanel({
  guardrails,
  configured,
}: {
  guardrails: GuardrailResult[];
  configured: number;
}) {
  return (
    <section className="panel" aria-labelledby="guardrails">
      <div className="panel-head">
        <h2 id="guardrails">Guardrails</h2>
        {guardrails.some((g) => g.status === "breached") && <Badge tone="bad">breached</Badge>}
      </div>
      {configured === 0 ? (
        <p className="muted small">No guardrail configured.</p>
      ) : guardrails.length === 0 ? (
        <p className="muted small">Not checked yet.</p>
      ) : (
        <ul className="re-guardrails">
          {guardrails.map((g) => (
            <li key={`${g.arm}-${g.metric}`}>
              <Badge tone={TONES[g.status]}>{g.status}</Badge>{" "}
              <strong>
                {g.arm} · {metricLabel(g.metric)}
              </strong>{" "}
              <span className="small">
                {value(g.metric, g.value)} (limit {value(g.metric, g.limit)})
              </span>
              <div className="small muted">{g.reason}</div>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function PrimaryTable({
  rows,
  metric,
  reached,
}: {
  rows: PrimaryComparison[];
  metric: string;
  reached?: boolean;
}) {
  return (
    <Table
      label="Primary comparison"
      head={[
        "Arm",
        "Control",
        "Treatment",
        "Lift",
        "CI (kind)",
        "p always-valid",
        "p fixed-horizon",
        "Always-valid CI (difference)",
        "Chance to beat control",
        "Result",
      ]}
    >
      {rows.map((c) => (
        <tr key={c.arm}>
          <td>
            <strong>{c.arm}</strong>
          </td>
          <td className="num">{value(metric, c.control)}</td>
          <td className="num">{value(metric, c.treatment)}</td>
          <td className="num">{fmt.signedPct(c.lift?.estimate)}</td>
          <td className="num">
            <Ci ci={c.lift?.ci} /> {c.lift && <span className="muted small">{ciLabel(c)}</span>}
          </td>
          <td className="num">{fmt.p(c.adjustedP)}</td>
          <td className="num">
            <FixedP p={c.pValue} reached={reached} />
          </td>
          <td className="num">
            {c.sequential ? (
              <span className="re-ci">
                {difference(metric, c.sequential.ci[0])} to {difference(metric, c.sequential.ci[1])}
              </span>
            ) : (
              <span className="muted">–</span>
            )}
          </td>
          <td className="num">{fmt.pct(c.chanceToBeatControl)}</td>
          <td>
            <Outcome c={c} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function SecondaryTable({ rows, reached }: { rows: Comparison[]; reached?: boolean }) {
  return (
    <Table
      label="Secondary comparisons"
      head={[
        "Arm",
        "Metric",
        "Control",
        "Treatment",
        "Lift",
        "CI (kind)",
        "p always-valid",
        "adjusted",
        "p fixed-horizon",
        "Result",
      ]}
    >
      {rows.map((c) => (
        <tr key={`${c.arm}-${c.metric}`}>
          <td>
            <strong>{c.arm}</strong>
          </td>
          <td>{metricLabel(c.metric)}</td>
          <td className="num">{value(c.metric, c.control)}</td>
          <td className="num">{value(c.metric, c.treatment)}</td>
          <td className="num">{fmt.signedPct(c.lift?.estimate)}</td>
          <td className="num">
            <Ci ci={c.lift?.ci} /> {c.lift && <span className="muted small">{ciLabel(c)}</span>}
          </td>
          <td className="num">{fmt.p(c.sequentialP)}</td>
          <td className="num">{fmt.p(c.adjustedP)}</td>
          <td className="num">
            <FixedP p={c.pValue} reached={reached} />
          </td>
          <td>
            <Outcome c={c} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function ArmsTable({ arms, control }: { arms: ArmResult[]; control: string }) {
  const scores = arms.some((a) => a.scoreMean !== null);
  return (
    <Table
      label="Arms"
      head={[
        "Arm",
        "Version",
        "Split",
        "Units",
        "Requests",
        "Errors",
        "Error rate",
        "Feedback",
        "Successes",
        "Success rate",
        ...(scores ? ["Mean score"] : []),
        "Cost / request",
        "Cost / success",
        "p95 latency",
      ]}
    >
      {arms.map((a) => (
        <tr key={a.name}>
          <td>
            <strong>{a.name}</strong>
            {a.name === control && <div className="small muted">control</div>}
          </td>
          <td>{a.version}</td>
          <td className="num">{fmt.pct(a.weight, 0)}</td>
          <td className="num">{fmt.num(a.units, 0)}</td>
          <td className="num">{fmt.num(a.requests, 0)}</td>
          <td className="num">{fmt.num(a.errors, 0)}</td>
          <td className="num">{fmt.pct(a.errorRate, 2)}</td>
          <td className="num">{fmt.num(a.feedbackCount, 0)}</td>
          <td className="num">{fmt.num(a.successes, 0)}</td>
          <td className="num">{fmt.pct(a.successRate)}</td>
          {scores && <td className="num">{fmt.num(a.scoreMean, 3)}</td>}
          <td className="num">{fmt.usd(a.costPerRequestUsd)}</td>
          <td className="num">{fmt.usd(a.costPerSuccessUsd)}</td>
          <td className="num">{fmt.ms(a.latencyP95Ms)}</td>
        </tr>
      ))}
    </Table>
  );
}

/** The experiment's settings as created. */
export function Settings({ e }: { e: Experiment }) {
  const guardrail = (g: Record<string, unknown>) => {
    const m = String(g.metric);
    const parts = [
      typeof g.max === "number" ? `≤ ${value(m, g.max)}` : null,
      typeof g.maxRelativeIncrease === "number"
        ? `≤ control ${fmt.signedPct(g.maxRelativeIncrease, 0)}`
        : null,
    ].filter(Boolean);
    return `${metricLabel(m)} ${parts.join(" and ")}`;
  };
  return (
    <dl className="re-settings">
      <div>
        <dt>Primary</dt>
        <dd>{metricLabel(e.primary)}</dd>
      </div>
      <div>
        <dt>Secondary</dt>
        <dd>{e.secondary.map(metricLabel).join(", ") || "none"}</dd>
      </div>
      <div>
        <dt>Guardrails</dt>
        <dd>{e.guardrails.map(guardrail).join("; ") || "none"}</dd>
      </div>
      <div>
        <dt>Minimum per arm</dt>
        <dd>{fmt.num(e.minSamplePerArm, 0)}</dd>
      </div>
      <div>
        <dt>Planned per arm</dt>
        <dd>{fmt.num(e.plannedSamplePerArm, 0)}</dd>
      </div>
      <div>
        <dt>Minimum duration</dt>
        <dd>{e.minDurationMs ? fmt.duration(e.minDurationMs) : "none"}</dd>
      </div>
      <div>
        <dt>α</dt>
        <dd>{e.alpha}</dd>
      </div>
    </dl>
  );
}

/** Stopping an experiment, with a reason; for those with rollouts:write. */
export function StopExperiment({ e, onDone }: { e: Experiment; onDone: () => void }) {
  const { client, can } = useSession();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const field = useRef<HTMLTextAreaElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) field.current?.focus();
  }, [open]);
  if (!can("rollouts:write") || e.status !== "running") return null;
  const close = () => {
    setOpen(false);
    setError(null);
    opener.current?.focus();
  };
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.experiments.stop(e.model, reason.trim());
      setOpen(false);
      onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="re-actions">
      <div className="actions">
        <button
          ref={opener}
          type="button"
          className="danger"
          aria-expanded={open}
          onClick={() => {
            setOpen(true);
            setReason("");
          }}
        >
          Stop experiment
        </button>
      </div>
      {open && (
        <form
          className="re-action-form panel"
          aria-label="Stop the experiment"
          onSubmit={submit}
          onKeyDown={(ev) => ev.key === "Escape" && close()}
        >
          <label>
            Reason (kept in the audit trail)
            <textarea
              ref={field}
              required
              maxLength={2000}
              value={reason}
              placeholder="shipping b"
              onChange={(ev) => setReason(ev.target.value)}
            />
          </label>
          <p className="small muted">
            Stopping takes a final look and sends all traffic back to production. Shipping a winner is a
            separate step (a rollout).
          </p>
          <div className="actions">
            <button type="submit" className="danger" disabled={busy || reason.trim() === ""}>
              {busy ? "Stopping…" : "Stop experiment"}
            </button>
            <button type="button" onClick={close} disabled={busy}>
              Cancel
            </button>
          </div>
          {error && (
            <p className="state error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
