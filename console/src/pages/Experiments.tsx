import { useEffect, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { ForestPlot } from "../components/experiment-forest.tsx";
import {
  ArmsTable,
  type Experiment,
  GuardrailsPanel,
  PrimaryTable,
  ReadingNote,
  Recommendation,
  SecondaryTable,
  Settings,
  SrmPanel,
  StopExperiment,
} from "../components/experiment-parts.tsx";
import { ModelOverviewTable, useModelOverview } from "../components/model-overview.tsx";
import { Clock, fmt, METRIC_LABELS, noneOrModelMissing, orNone, TONES } from "../components/rollout-kit.tsx";
import { RouterPathsTable } from "../components/router-paths.tsx";
import { Async, Badge, Empty, PageHeader, Panel, Time } from "../components/ui.tsx";
import "./rollouts-experiments.css";

const experimentPath = (model: string) => `/models/${encodeURIComponent(model)}/experiment`;

const createHint = (model: string) => (
  <>
    No experiment yet:{" "}
    <code>
      modelgov experiment create {model} --name &lt;name&gt; --arm control=&lt;version&gt;:50 --arm
      b=&lt;version&gt;:50
    </code>
  </>
);

/** Every model with its running or last experiment and the recommendation of its latest look. */
export function ExperimentsPage() {
  const rows = useModelOverview(
    (c, model) => orNone(c.experiments.get(model)),
    (e) => e?.status === "running",
    10_000,
  );
  return (
    <>
      <PageHeader
        title="Experiments"
        sub="Each model's running or last A/B experiment and what its latest look recommends. Updates every 10 s."
      />
      <ModelOverviewTable
        state={rows}
        label="Experiments"
        head={["Experiment", "Status", "Arms", "Primary", "Recommendation", "Started"]}
        linkTo={experimentPath}
        none="no experiment yet"
        emptyHint={createHint("<model>")}
        cells={(e: Experiment) => {
          const rec = e.results?.results.recommendation;
          return (
            <>
              <td>{e.name}</td>
              <td>
                <Badge tone={TONES[e.status]}>{e.status}</Badge>
              </td>
              <td className="small">
                {e.arms.map((a) => `${a.name} ${a.version} (${a.weight}%)`).join(", ")}
              </td>
              <td>{METRIC_LABELS[e.primary] ?? e.primary}</td>
              <td>
                {rec ? (
                  <>
                    <Badge tone={TONES[rec.decision]}>{rec.decision}</Badge>
                    {rec.arm && <span> {rec.arm}</span>}
                  </>
                ) : (
                  <span className="muted">–</span>
                )}
              </td>
              <td>
                <Time at={e.startedAt} />
              </td>
            </>
          );
        }}
      />
    </>
  );
}

/** A model's experiment: recommendation, SRM, guardrails, lifts with their intervals, and every arm's numbers. */
export function ExperimentPage() {
  const { model = "" } = useParams();
  // With no experiment yet, look again every 5 s so that a new one shows up without a reload.
  const [waiting, setWaiting] = useState(false);
  const exp = useApi(
    (c) => noneOrModelMissing(c, model, c.experiments.get(model)),
    [model],
    waiting ? 5000 : undefined,
  );
  const e = exp.data;
  useEffect(() => setWaiting(e === null), [e]);
  // Results every 2 s while the experiment runs; once more when it ends, then they stay.
  const [live, setLive] = useState(false);
  const results = useApi(
    (c) => (e ? orNone(c.experiments.results(model)) : Promise.resolve(null)),
    [model, e?.id],
    live ? 2000 : undefined,
  );
  const status = results.data?.status ?? e?.status;
  useEffect(() => setLive(status === "running"), [status]);
  // The experiment ended (a guardrail, or someone stopped it): fetch its end, reason and final state.
  const reloadExp = exp.reload;
  useEffect(() => {
    if (e && results.data && results.data.status !== e.status && results.data.experiment === e.id)
      reloadExp();
  }, [e, results.data, reloadExp]);

  return (
    <>
      <PageHeader
        title={
          e ? (
            <>
              Experiment {e.name} on <Link to={`/models/${encodeURIComponent(model)}`}>{model}</Link>
            </>
          ) : (
            <>
              Experiment on <Link to={`/models/${encodeURIComponent(model)}`}>{model}</Link>
            </>
          )
        }
        sub={
          e ? (
            <>
              <Badge tone={TONES[status ?? e.status]}>{status ?? e.status}</Badge>{" "}
              {e.arms.map((a) => `${a.name} = ${a.version} (${a.weight}%)`).join(" · ")} · started by{" "}
              {e.startedBy}, <Time at={e.startedAt} />
            </>
          ) : (
            "The model's running or last A/B experiment."
          )
        }
        actions={
          e && (
            <StopExperiment
              e={e}
              onDone={() => {
                exp.reload();
                results.reload();
              }}
            />
          )
        }
      />
      <Async state={exp} empty={(d) => (d ? null : createHint(model))}>
        {(d) =>
          d && (
            <ExperimentView
              e={d}
              look={
                results.data && results.data.experiment === d.id
                  ? {
                      at: results.data.at,
                      elapsedMs: results.data.elapsedMs,
                      results: results.data.results,
                      ...(results.data.paths ? { paths: results.data.paths } : {}),
                    }
                  : d.results
              }
              live={status === "running"}
              error={results.error}
            />
          )
        }
      </Async>
    </>
  );
}

function ExperimentView({
  e,
  look,
  live,
  error,
}: {
  e: Experiment;
  look: Experiment["results"];
  live: boolean;
  error: string | null;
}) {
  if (!look) return <Empty>No look at the results yet: they appear within seconds of the start.</Empty>;
  const r = look.results;
  const confidence = 1 - e.alpha;
  const secondaryMetrics = [...new Set(r.secondary.map((c) => c.metric))];
  return (
    <>
      <p className="muted small re-live">
        {live ? (
          <>
            <span className="re-dot" aria-hidden="true" /> Live: results every 2 s; last look at{" "}
            <Clock at={look.at} />, {fmt.duration(look.elapsedMs)} into the experiment
          </>
        ) : (
          <>
            Ended <Time at={e.endedAt} />
            {e.stopReason && <>: {e.stopReason}</>}. Final look after {fmt.duration(look.elapsedMs)}.
          </>
        )}
      </p>
      {error && (
        <p className="state error" role="alert">
          The last refresh failed: {error}
        </p>
      )}
      <Recommendation results={r} />
      <div className="grid two re-pair">
        <SrmPanel srm={r.srm} arms={r.arms} />
        <GuardrailsPanel guardrails={r.guardrails} configured={e.guardrails.length} />
      </div>
      <Panel title="Lift over the control">
        <h3 className="re-sub">Primary: {METRIC_LABELS[e.primary] ?? e.primary}</h3>
        <ForestPlot metric={e.primary} comparisons={r.primary} confidence={confidence} />
        {secondaryMetrics.map((m) => (
          <div key={m}>
            <h3 className="re-sub">Secondary: {METRIC_LABELS[m] ?? m}</h3>
            <ForestPlot
              metric={m}
              comparisons={r.secondary.filter((c) => c.metric === m)}
              confidence={confidence}
            />
          </div>
        ))}
      </Panel>
      <Panel title={`Primary metric: ${METRIC_LABELS[e.primary] ?? e.primary}`}>
        <p className="small muted">
          Each treatment against {r.control}. Lift: relative change with its {Math.round(confidence * 100)}%
          interval: always-valid before the planned {fmt.num(e.plannedSamplePerArm, 0)} per arm, fixed-horizon
          from then on. p always-valid (Holm-adjusted across arms) stays valid at every look, and the
          recommendation uses it; p fixed-horizon is shown only from the planned sample on.
        </p>
        <ReadingNote results={r} />
        <PrimaryTable rows={r.primary} metric={e.primary} reached={r.horizon?.reached} />
      </Panel>
      {r.secondary.length > 0 && (
        <Panel title="Secondary metrics">
          <p className="small muted">
            Significance from the always-valid p, Holm-corrected across the secondary comparisons.
          </p>
          <SecondaryTable rows={r.secondary} reached={r.horizon?.reached} />
        </Panel>
      )}
      <Panel title="Arms">
        <ArmsTable arms={r.arms} control={r.control} />
      </Panel>
      {look.paths?.map((p) => (
        <Panel key={p.arm} title={`Success by path: ${p.arm} (${p.strategy} router ${p.version})`}>
          <RouterPathsTable paths={p.paths} label={`Success and cost per success by path, arm ${p.arm}`} />
        </Panel>
      ))}
      <Panel title="Settings">
        <Settings e={e} />
      </Panel>
    </>
  );
}
