/**
 * Retraining tasks in lists: a model's (on its monitoring page, the active one first) and the
 * workspace's tasks under way (on the monitoring overview). Each row links to the task's page.
 */
import { Link } from "react-router-dom";
import { useApi } from "../api.tsx";
import { isActive, metricTitle, STATE_LABELS, STATE_TONES, sortTasks, type TaskView } from "../retraining.ts";
import { Async, Badge, Panel, Time } from "./ui.tsx";

/** A task's page: under its model, as the monitoring pages are. */
export const taskPath = (t: Pick<TaskView, "model" | "id">) =>
  `/models/${encodeURIComponent(t.model)}/retraining/${encodeURIComponent(t.id)}`;

const LIMIT = 20;

function TaskItem({ t, showModel }: { t: TaskView; showModel?: boolean }) {
  return (
    <li className={`rt-item${isActive(t.state) ? " active" : ""}`} data-testid="retraining-task">
      <div className="rt-item-head">
        <Badge tone={STATE_TONES[t.state]}>{STATE_LABELS[t.state]}</Badge>{" "}
        <Link to={taskPath(t)}>
          <strong>
            {showModel ? `${t.model}: ` : ""}
            {metricTitle(t.metric)}
          </strong>{" "}
          <span className="mono small">{t.id}</span>
        </Link>
      </div>
      {t.summary && <p className="small rt-summary">{t.summary}</p>}
      <p className="small muted rt-meta">
        Rule <code>{t.rule}</code> on {t.version} · opened <Time at={t.openedAt} /> by {t.openedBy} ·{" "}
        {t.evidenceCount} evidence entr{t.evidenceCount === 1 ? "y" : "ies"}
        {t.candidate && <> · candidate {t.candidate.version}</>}
        {t.endedAt && (
          <>
            {" "}
            · ended <Time at={t.endedAt} />
          </>
        )}
      </p>
    </li>
  );
}

/** A model's retraining tasks, the one under way first, then the ended ones newest first. */
export function ModelRetrainingTasks({ model, everyMs }: { model: string; everyMs: number }) {
  const state = useApi((c) => c.retraining.list({ model, limit: LIMIT }), [model], everyMs);
  return (
    <Panel title="Retraining tasks">
      <Async
        state={state}
        empty={(d) =>
          d.items.length === 0 ? (
            <>No retraining task yet: a rule that fires opens one, with its windows as evidence.</>
          ) : null
        }
      >
        {(d) => (
          <>
            <ul className="rt-list" aria-label={`Retraining tasks of ${model}`}>
              {sortTasks(d.items).map((t) => (
                <TaskItem key={t.id} t={t} />
              ))}
            </ul>
            {d.nextCursor && (
              <p className="muted small">
                The latest {LIMIT}; <code>modelgov retraining list --model {model}</code> lists them all.
              </p>
            )}
          </>
        )}
      </Async>
    </Panel>
  );
}

/** Every model's task under way (at most one a model), newest first. */
export function ActiveRetrainingTasks({ everyMs }: { everyMs: number }) {
  const state = useApi((c) => c.retraining.list({ state: "active", limit: 100 }), [], everyMs);
  return (
    <div className="rt-overview">
      <Panel title="Retraining under way">
        <Async
          state={state}
          empty={(d) =>
            d.items.length === 0 ? (
              <>No retraining task is open: each model's ended tasks are on its monitoring page.</>
            ) : null
          }
        >
          {(d) => (
            <ul className="rt-list" aria-label="Retraining tasks under way">
              {d.items.map((t) => (
                <TaskItem key={t.id} t={t} showModel />
              ))}
            </ul>
          )}
        </Async>
      </Panel>
    </div>
  );
}
