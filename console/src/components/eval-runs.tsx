/**
 * A version's evaluation runs: the list (live while one runs), and for the chosen run its
 * aggregate, the release gates' verdicts, fairness by group (charts with the API's intervals
 * and the gate's threshold), and the reviewer's acceptance of a failed fairness gate.
 */
import { useEffect, useId, useRef, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import type { ApprovalRule, EvalRunView } from "../../../src/client/index.ts";
import { messageOf, useApi, useSession } from "../api.tsx";
import { FairnessChart, type ReleaseGateView, type RunReport, verdictFor } from "./fairness-chart.tsx";
import { RoutingPanel } from "./routing-panel.tsx";
import { Async, Badge, pct, Table, Time } from "./ui.tsx";

/** GET /approvals/policy as the server answers it: the client's type lacks `gates`. */
type PolicyView = { rules: ApprovalRule[]; gates?: ReleaseGateView[] };

/** Attributes a gate judged first, then those with groups to compare, then the rest. */
function attributesInOrder(r: RunReport): string[] {
  const rank = (k: string) =>
    verdictFor(k, r).judged ? 0 : (r.groups[k]?.disparity.compared.length ?? 0) > 1 ? 1 : 2;
  return Object.keys(r.groups).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const ms = (x: number | null) => (x === null ? "–" : `${Math.round(x)} ms`);
const short = (id: string) => (id.length > 14 ? `${id.slice(0, 12)}…` : id);

function GateBadge({ run, kind }: { run: EvalRunView; kind: "benchmark" | "fairness" }) {
  const g = run.report?.gates;
  if (!g) return <span className="muted">–</span>;
  if (g.names.length === 0) return <span className="muted small">no gate</span>;
  if (kind === "benchmark") return <Badge>{g.benchmark.passed ? "passed" : "failed"}</Badge>;
  if (!g.fairness) return <span className="muted small">no gate</span>;
  if (g.fairness.passed) return <Badge>passed</Badge>;
  if (run.acceptance) return <Badge tone="info">accepted</Badge>;
  return <Badge tone="warn">needs review</Badge>;
}

function Stat({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return (
    <div className="stat">
      <span className="label">{label}</span>
      <span className="value">{value}</span>
      {sub && <span className="small muted">{sub}</span>}
    </div>
  );
}

function Verdicts({ items }: { items: { text: string; failed: boolean }[] }) {
  return (
    <ul className="verdicts">
      {items.map((r) => (
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
  );
}

function AcceptDisparity({ run, onDone }: { run: EvalRunView; onDone: () => void }) {
  const { client } = useSession();
  const [open, setOpen] = useState(false);
  const [text, setText] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const length = text.trim().length;
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)} aria-expanded={false}>
        Accept disparity…
      </button>
    );
  return (
    <form
      className="form-stack"
      onSubmit={async (e) => {
        e.preventDefault();
        if (length < 20) return;
        setBusy(true);
        setError(null);
        try {
          await client.evals.acceptDisparity(run.id, text.trim());
          setOpen(false);
          setText("");
          onDone();
        } catch (err) {
          setError(messageOf(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <label htmlFor={`${id}-j`}>Justification (why this gap is acceptable; recorded in the audit log)</label>
      <textarea
        id={`${id}-j`}
        value={text}
        minLength={20}
        maxLength={5000}
        required
        aria-describedby={`${id}-h`}
        onChange={(e) => setText(e.target.value)}
      />
      <div className="row">
        <button type="submit" className="primary" disabled={busy || length < 20}>
          {busy ? "Accepting…" : "Accept disparity"}
        </button>
        <button type="button" onClick={() => setOpen(false)} disabled={busy}>
          Cancel
        </button>
        <span id={`${id}-h`} className="small muted" aria-live="polite">
          {length < 20 ? `${length} of at least 20 characters` : "ready"}
        </span>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function Classification({ report }: { report: RunReport }) {
  if (report.classification.length === 0) return null;
  const n = (x: number | null) => (x === null ? "–" : x.toFixed(3));
  return (
    <details>
      <summary>Classification fairness (one label vs the rest)</summary>
      <Table
        label="Classification fairness"
        head={[
          "Label",
          "By",
          "Demographic parity diff.",
          "Demographic parity ratio",
          "Equalized odds diff.",
          "Equal opportunity diff.",
        ]}
      >
        {report.classification.flatMap((c) =>
          Object.entries(c.byAttribute).map(([attr, f]) => (
            <tr key={`${c.label}/${attr}`}>
              <td>{c.label}</td>
              <td>{attr}</td>
              <td className="num">{n(f.demographicParityDifference)}</td>
              <td className="num">{n(f.demographicParityRatio)}</td>
              <td className="num">{n(f.equalizedOddsDifference)}</td>
              <td className="num">{n(f.equalOpportunityDifference)}</td>
            </tr>
          )),
        )}
      </Table>
    </details>
  );
}

function RunDetail({
  run,
  gates,
  reload,
}: {
  run: EvalRunView;
  gates: ReleaseGateView[] | null;
  reload: () => void;
}) {
  const { can } = useSession();
  const r = run.report;
  const a = r?.aggregate;
  const g = r?.gates;
  const failing = (v: { reasons: string[]; failures: { reason: string }[] }) => {
    const bad = new Set(v.failures.map((f) => f.reason));
    return v.reasons.map((text) => ({ text, failed: bad.has(text) }));
  };
  return (
    <section className="run-detail" aria-labelledby={`run-${run.id}`}>
      <h3 id={`run-${run.id}`}>
        Run <span className="mono">{run.id}</span>
      </h3>
      <p className="muted small">
        Suite <strong>{run.suiteName}</strong>{" "}
        <span className="mono" title={run.suiteHash}>
          ({run.suiteHash.slice(0, 19)}…)
        </span>{" "}
        · started by {run.createdBy} <Time at={run.createdAt} />
        {run.finishedAt && (
          <>
            {" "}
            · finished <Time at={run.finishedAt} />
          </>
        )}
        {run.reportHash && (
          <>
            {" "}
            · report{" "}
            <span className="mono" title={run.reportHash}>
              {run.reportHash.slice(0, 19)}…
            </span>
          </>
        )}
      </p>
      {run.status === "running" && (
        <label>
          Progress: {run.done} of {run.total} cases
          <progress value={run.done} max={run.total || 1} />
        </label>
      )}
      {run.status === "failed" && (
        <div className="callout bad" role="alert">
          <strong>The run failed.</strong> {run.error}
        </div>
      )}
      {run.status === "cancelled" && (
        <div className="callout">
          <strong>Cancelled.</strong> {run.error}
        </div>
      )}
      {r && a && g && (
        <>
          <div className="stats">
            <Stat label="Success rate" value={pct(a.successRate)} sub={`${a.passed} of ${a.cases} cases`} />
            <Stat label="Mean score" value={a.meanScore === null ? "–" : a.meanScore.toFixed(3)} />
            <Stat label="Safety violations" value={String(a.safetyViolations)} />
            <Stat label="Errors" value={String(a.errors)} />
            <Stat label="Latency p50 / p95" value={`${ms(a.latencyP50Ms)} / ${ms(a.latencyP95Ms)}`} />
            <Stat
              label="Cost per case"
              value={a.costPerCaseUsd === null ? "–" : `$${a.costPerCaseUsd.toFixed(5)}`}
              sub={`${a.tokensIn} tokens in, ${a.tokensOut} out`}
            />
          </div>

          {run.routing && <RoutingPanel routing={run.routing} />}

          <p className="subhead">Release gates</p>
          {g.names.length === 0 ? (
            <p className="muted">No release gate applies to this model.</p>
          ) : (
            <>
              <p className="small muted">
                {g.names.join(", ")} · benchmark <GateBadge run={run} kind="benchmark" /> · fairness{" "}
                <GateBadge run={run} kind="fairness" />
              </p>
              <Verdicts items={[...failing(g.benchmark), ...(g.fairness ? failing(g.fairness) : [])]} />
            </>
          )}
          {run.needsReview && (
            <div className="callout warn">
              <strong>Needs review.</strong>
              <p>
                A group gap exceeds the fairness gate and no reviewer has accepted it: the fairness evidence
                fails, so approval is blocked.
              </p>
              {can("evals:accept") ? (
                <AcceptDisparity run={run} onDone={reload} />
              ) : (
                <p className="small">
                  A reviewer holding the <code>evals:accept</code> permission (a stakeholder role such as
                  compliance) may accept it with a written justification.
                </p>
              )}
            </div>
          )}
          {run.acceptance && (
            <div className="callout ok">
              <strong>Disparity accepted</strong> by {run.acceptance.by} <Time at={run.acceptance.at} />
              <p>{run.acceptance.justification}</p>
            </div>
          )}

          <p className="subhead">Fairness by group</p>
          {Object.keys(r.groups).length === 0 ? (
            <p className="muted">The suite's cases carry no group attributes.</p>
          ) : (
            <div className="fairness-grid">
              {attributesInOrder(r).map((attr) => (
                <FairnessChart key={attr} attribute={attr} report={r} gates={gates} />
              ))}
            </div>
          )}
          {gates === null && g.fairness && (
            <p className="small muted">
              The approval policy could not be read, so the gate thresholds are given in words only.
            </p>
          )}
          <Classification report={r} />
        </>
      )}
    </section>
  );
}

export function EvaluationsPanel({
  model,
  version,
  onChanged,
}: {
  model: string;
  version: string;
  /** Called after this panel changed the version's evidence (an accepted disparity, a finished run). */
  onChanged?: () => void;
}) {
  const [params] = useSearchParams();
  const [live, setLive] = useState(false);
  const runs = useApi(
    (c) => c.evals.list({ model, version, limit: 50 }),
    [model, version],
    live ? 2000 : undefined,
  );
  const policy = useApi((c) => c.approvals.policy() as Promise<PolicyView>, []);
  const anyRunning = !!runs.data?.runs.some((r) => r.status === "running");
  const wasRunning = useRef(false);
  const changed = useRef(onChanged);
  changed.current = onChanged;
  useEffect(() => {
    setLive(anyRunning);
    // A run that finished wrote evidence and the card's Quantitative Analyses.
    if (wasRunning.current && !anyRunning) changed.current?.();
    wasRunning.current = anyRunning;
  }, [anyRunning]);
  const gates = policy.data ? (policy.data.gates ?? []) : null;
  const linkTo = (id: string) => {
    const next = new URLSearchParams(params);
    next.set("run", id);
    return { search: `?${next}` };
  };
  return (
    <Async
      state={runs}
      empty={(d) =>
        d.runs.length === 0
          ? `No evaluation yet: modelgov eval run ${model}@${version} --suite suite.yaml`
          : null
      }
    >
      {(d) => {
        const wanted = params.get("run");
        const chosen =
          d.runs.find((r) => r.id === wanted) ?? d.runs.find((r) => r.status === "completed") ?? d.runs[0]!;
        return (
          <>
            <Table
              label="Evaluation runs"
              head={["Run", "Suite", "Status", "Cases", "Success", "Benchmark", "Fairness", "Started"]}
            >
              {d.runs.map((r) => {
                const selected = r.id === chosen.id;
                return (
                  <tr key={r.id} className={selected ? "selected" : undefined}>
                    <td>
                      <Link
                        to={linkTo(r.id)}
                        replace
                        preventScrollReset
                        aria-current={selected ? "true" : undefined}
                        title={r.id}
                        className="mono"
                      >
                        {short(r.id)}
                      </Link>
                    </td>
                    <td>{r.suiteName}</td>
                    <td>
                      <Badge>{r.status}</Badge>
                    </td>
                    <td className="num">{r.status === "running" ? `${r.done} / ${r.total}` : r.total}</td>
                    <td className="num">{pct(r.report?.aggregate.successRate)}</td>
                    <td>
                      <GateBadge run={r} kind="benchmark" />
                    </td>
                    <td>
                      <GateBadge run={r} kind="fairness" />
                    </td>
                    <td>
                      <Time at={r.createdAt} />
                    </td>
                  </tr>
                );
              })}
            </Table>
            <RunDetail
              run={chosen}
              gates={gates}
              reload={() => {
                runs.reload();
                onChanged?.();
              }}
            />
          </>
        );
      }}
    </Async>
  );
}
