import { Link, Navigate, useParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { Breadcrumbs } from "../components/breadcrumbs.tsx";
import { RetrainingActions } from "../components/retraining-actions.tsx";
import { EvidencePanel } from "../components/retraining-evidence.tsx";
import {
  CandidatePanel,
  DatasetPanel,
  DeliveriesPanel,
  HistoryPanel,
  Stepper,
} from "../components/retraining-parts.tsx";
import { taskPath } from "../components/retraining-tasks.tsx";
import { orNone } from "../components/rollout-kit.tsx";
import { Async, Loading, PageHeader, Panel, Time, VersionLink } from "../components/ui.tsx";
import { metricTitle, STATE_LABELS, STATE_TONES, type TaskDetail } from "../retraining.ts";
import "./model-version.css";
import "./monitoring.css";
import "./retraining.css";
import "./rollouts-experiments.css";

/** Most moves happen elsewhere (a registration, an approval, a promotion): the page follows them. */
const EVERY_MS = 15_000;

/**
 * One retraining task: where it is, the evidence that opened it, the slice to retrain on, the
 * candidate and its evaluation against production, the webhook deliveries and every move.
 */
export function RetrainingTaskPage() {
  const { model = "", task = "" } = useParams();
  const state = useApi((c) => orNone(c.retraining.get(task)), [task], EVERY_MS);
  const modelHref = `/models/${encodeURIComponent(model)}`;
  const d = state.data;
  return (
    <div className="mv rt">
      <Breadcrumbs
        trail={[
          { to: "/", label: "Registry" },
          { to: modelHref, label: model },
          { to: `${modelHref}/monitor`, label: "Monitoring" },
        ]}
        current={task}
      />
      <PageHeader
        title={d ? `Retraining of ${d.model}: ${metricTitle(d.metric)}` : `Retraining task ${task}`}
        sub={
          d && d.model === model ? (
            <span className="head-status">
              <span data-testid="retraining-state" className={`badge badge-${STATE_TONES[d.state]}`}>
                {STATE_LABELS[d.state]}
              </span>
              <span>
                rule <code>{d.rule}</code> on <VersionLink model={d.model} version={d.version} /> · opened{" "}
                <Time at={d.openedAt} /> by {d.openedBy}
              </span>
            </span>
          ) : undefined
        }
        actions={
          <Link className="button" to={`${modelHref}/monitor`}>
            Monitoring
          </Link>
        }
      />
      <Async
        state={state}
        empty={(t) =>
          t === null ? (
            <>
              No retraining task {task}. <Link to={`${modelHref}/monitor`}>{model}'s tasks</Link>
            </>
          ) : t.model !== model ? (
            <>
              Task {task} is about {t.model}, not {model}: <Link to={taskPath(t)}>open it there</Link>.
            </>
          ) : null
        }
      >
        {(t) => t && <TaskBody task={t} reload={state.reload} />}
      </Async>
    </div>
  );
}

function TaskBody({ task, reload }: { task: TaskDetail; reload: () => void }) {
  return (
    <>
      <Panel title="State">
        <Stepper task={task} />
        {task.resolution && (
          <p className="rt-resolution" data-testid="retraining-resolution">
            <span className="muted">{task.state === "dismissed" ? "Justification: " : "Note: "}</span>
            {task.resolution}
          </p>
        )}
        <RetrainingActions task={task} onDone={reload} />
      </Panel>
      <EvidencePanel evidence={task.evidence} count={task.evidenceCount} />
      <div className="grid two">
        <DatasetPanel task={task} />
        <CandidatePanel task={task} />
      </div>
      <DeliveriesPanel task={task} />
      <HistoryPanel task={task} />
    </>
  );
}

/** `/retraining/<task>`: a task by its id alone (as the CLI and the webhooks print it), on its model's page. */
export function RetrainingRedirect() {
  const { task = "" } = useParams();
  const state = useApi((c) => orNone(c.retraining.get(task)), [task]);
  if (state.data) return <Navigate replace to={taskPath(state.data)} />;
  return (
    <>
      <PageHeader title={`Retraining task ${task}`} />
      {state.data === null ? (
        <p className="state empty">No retraining task {task}.</p>
      ) : state.error ? (
        <Async state={state}>{() => null}</Async>
      ) : (
        <Loading />
      )}
    </>
  );
}
