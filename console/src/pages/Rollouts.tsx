import { Link, useParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { KeyValues } from "../components/key-values.tsx";
import { ModelOverviewTable, useModelOverview } from "../components/model-overview.tsx";
import { RolloutActions } from "../components/rollout-actions.tsx";
import { MetricCharts, WeightChart } from "../components/rollout-charts.tsx";
import { DecisionList } from "../components/rollout-decisions.tsx";
import { RolloutHistory } from "../components/rollout-history.tsx";
import {
  Clock,
  fmt,
  noneOrModelMissing,
  orNone,
  planSteps,
  type Rollout,
  TONES,
} from "../components/rollout-kit.tsx";
import { Async, Badge, PageHeader, Panel, Time } from "../components/ui.tsx";
import "./rollouts-experiments.css";

const rolloutPath = (model: string) => `/models/${encodeURIComponent(model)}/rollout`;
const isActive = (r: Rollout | null) => r?.status === "running" || r?.status === "paused";
/** The step the rollout is on, counted from 1 (the API's index stays on the last step once it ends). */
const stepOf = (r: Rollout) => `${Math.min(r.stepIndex + 1, r.steps)} of ${r.steps}`;

/** Every model with its active or last rollout; each links to the model's live rollout page. */
export function RolloutsPage() {
  const rows = useModelOverview((c, model) => orNone(c.rollouts.status(model)), isActive, 5000);
  return (
    <>
      <PageHeader
        title="Rollouts"
        sub="Each model's active or last canary: the candidate's share of traffic and the latest decision. Updates every 5 s."
      />
      <ModelOverviewTable
        state={rows}
        label="Rollouts"
        head={["Status", "Candidate", "Baseline", "Step", "Weight", "Last decision", "Started"]}
        linkTo={rolloutPath}
        none="no rollout yet"
        emptyHint={
          <>
            No rollout yet: <code>modelgov rollout start &lt;model&gt;@&lt;version&gt;</code> or{" "}
            <code>modelgov demo rollout</code>
          </>
        }
        cells={(r: Rollout) => {
          const last = r.decisions[0];
          return (
            <>
              <td>
                <Badge>{r.status}</Badge>
              </td>
              <td>{r.candidate}</td>
              <td>{r.baseline}</td>
              <td className="num re-nowrap">{stepOf(r)}</td>
              <td className="num">{r.weight}%</td>
              <td className="small">
                {last ? (
                  <>
                    <Badge tone={TONES[last.decision]}>{last.decision}</Badge>{" "}
                    <span className="clamp">{last.reasons[0]}</span>
                  </>
                ) : (
                  <span className="muted">–</span>
                )}
              </td>
              <td>
                <Time at={r.startedAt} />
              </td>
            </>
          );
        }}
      />
    </>
  );
}

/** A containerised model's route (docs/containers.md): whether it carries modelgov's weights. */
const CLUSTER_TONES: Record<string, string> = { in_sync: "ok", pending: "info", failing: "bad" };
const weightsText = (w: Record<string, number> | null) =>
  w
    ? Object.entries(w)
        .map(([k, v]) => `${k} ${v}`)
        .join(" · ")
    : "";

/** A model's live rollout: status, weight, charts, decisions with their reasons, and the operator's controls. */
export function RolloutPage() {
  const { model = "" } = useParams();
  const state = useApi(
    async (c) => ({
      rollout: await noneOrModelMissing(c, model, c.rollouts.status(model)),
      at: new Date().toISOString(),
    }),
    [model],
    1000,
  );
  const r = state.data?.rollout;
  return (
    <>
      <PageHeader
        title={
          <>
            Rollout of <Link to={`/models/${encodeURIComponent(model)}`}>{model}</Link>
          </>
        }
        sub={
          r ? (
            <>
              {r.candidate} against baseline {r.baseline} · plan <code>{r.planName}</code>
              {r.mode === "blue_green" ? " · blue-green" : " · canary"} · started by {r.startedBy},{" "}
              <Time at={r.startedAt} />
            </>
          ) : (
            "The model's active or last canary rollout."
          )
        }
        actions={r && <RolloutActions rollout={r} onDone={state.reload} />}
      />
      <Async
        state={state}
        empty={(d) =>
          d.rollout ? null : (
            <>
              No rollout yet: <code>modelgov rollout start {model}@&lt;version&gt;</code> or{" "}
              <code>modelgov demo rollout</code>. This page shows one as soon as it starts.
            </>
          )
        }
      >
        {(d) => d.rollout && <RolloutView rollout={d.rollout} at={d.at} />}
      </Async>
    </>
  );
}

function RolloutView({ rollout: r, at }: { rollout: Rollout; at: string }) {
  const active = isActive(r);
  const steps = planSteps(r.plan);
  const failureLimit = (r.plan as { failureLimit?: unknown }).failureLimit;
  const last = r.decisions[0];
  const mirrored = r.mode === "blue_green" && active ? steps[r.stepIndex]?.weight : undefined;
  return (
    <>
      <p className="muted small re-live" aria-live="off">
        {active ? (
          <>
            <span className="re-dot" aria-hidden="true" /> Live: checked every second, last at{" "}
            <Clock at={at} />
          </>
        ) : (
          <>
            Ended <Time at={r.endedAt} />.
          </>
        )}
      </p>
      <Panel>
        <dl className="re-stats">
          <div>
            <dt>Status</dt>
            <dd>
              <span data-testid="rollout-status">
                <Badge>{r.status}</Badge>
              </span>
              {r.pausedReason && <div className="small muted">{r.pausedReason}</div>}
            </dd>
          </div>
          <div>
            <dt>Candidate weight</dt>
            <dd>
              <span className="re-big" data-testid="rollout-weight">
                {r.weight}%
              </span>
              <div className="small muted">
                {mirrored !== undefined
                  ? `serving none; ${mirrored}% mirrored to it`
                  : `of traffic to ${r.candidate}`}
              </div>
            </dd>
          </div>
          <div>
            <dt>Step</dt>
            <dd>
              <span className="re-big">{stepOf(r)}</span>
              {steps.length > 0 && (
                <ol className="re-steps" aria-label="Plan steps">
                  {steps.map((s, i) => {
                    const where = i < r.stepIndex ? "done" : i === r.stepIndex ? "current" : "next";
                    return (
                      <li
                        // biome-ignore lint/suspicious/noArrayIndexKey: the plan's steps in order
                        key={i}
                        className={`re-step ${where}`}
                        aria-current={i === r.stepIndex ? "step" : undefined}
                        title={`${s.weight}% for at least ${fmt.duration(s.durationMs)}${s.pause ? ", then a manual gate" : ""}`}
                      >
                        {s.weight}%{s.pause ? " ⏸" : ""}
                      </li>
                    );
                  })}
                </ol>
              )}
            </dd>
          </div>
          <div>
            <dt>Failed analyses in a row</dt>
            <dd>
              <span className="re-big">{r.consecutiveFailures}</span>
              {typeof failureLimit === "number" && (
                <span className="small muted"> of {failureLimit} that roll back</span>
              )}
            </dd>
          </div>
          <div>
            <dt>{active ? "Next analysis" : "Ended"}</dt>
            <dd>{active ? <Clock at={r.nextAnalysisAt} /> : <Time at={r.endedAt} />}</dd>
          </div>
          {r.cluster && (
            <div className="re-wide">
              <dt>Cluster route</dt>
              <dd data-testid="rollout-cluster">
                <Badge tone={CLUSTER_TONES[r.cluster.state]}>{r.cluster.state}</Badge>{" "}
                <span className="small">
                  {weightsText(r.cluster.state === "in_sync" ? r.cluster.applied : r.cluster.desired)}
                </span>
                {r.cluster.lastError && <div className="small muted">{r.cluster.lastError}</div>}
              </dd>
            </div>
          )}
          <div className="re-wide">
            <dt>Last decision</dt>
            <dd>
              {last ? (
                <>
                  <Badge tone={TONES[last.decision]}>{last.decision}</Badge>{" "}
                  <span className="small">{last.reasons[0]}</span>
                </>
              ) : (
                <span className="muted">none yet</span>
              )}
            </dd>
          </div>
        </dl>
        <details className="re-details">
          <summary>Plan {r.planName}: steps, metrics and limits</summary>
          <KeyValues value={r.plan} label="Plan" />
        </details>
      </Panel>
      <Panel title="Candidate weight">
        <WeightChart rollout={r} />
      </Panel>
      <h2 className="re-section">Candidate against baseline, at each analysis</h2>
      <MetricCharts rollout={r} />
      <Panel title="Decisions" aside={<span className="muted small">newest first</span>}>
        {r.decisions.length === 0 ? <p className="muted">No decision yet.</p> : <DecisionList rollout={r} />}
      </Panel>
      <RolloutHistory model={r.model} current={r.id} status={r.status} />
    </>
  );
}
