/**
 * The parts of a retraining task's page below its evidence: where the task is (a stepper), the
 * candidate and its paired evaluation against production, the failing slice to download, the
 * webhook deliveries of the task's events, and its history (every move: who, when, why).
 */
import { type MouseEvent, useState } from "react";
import { Link } from "react-router-dom";
import { messageOf, useApi, useSession } from "../api.tsx";
import {
  deliveriesOf,
  STATE_LABELS,
  STATE_TONES,
  stepsOf,
  subscribes,
  type TaskDetail,
  verdictFigures,
} from "../retraining.ts";
import { orNone } from "./rollout-kit.tsx";
import { Async, Badge, Panel, Table, Time, VersionLink } from "./ui.tsx";

export function Stepper({ task }: { task: TaskDetail }) {
  return (
    <ol className="re-steps rt-steps" aria-label="Where the task is">
      {stepsOf(task).map((s) => (
        <li
          key={s.state}
          className={`re-step ${s.status}${s.state === "dismissed" ? " rt-dismissed" : ""}`}
          aria-current={s.status === "current" ? "step" : undefined}
          data-testid="retraining-step"
        >
          {STATE_LABELS[s.state]}
          {s.move && (
            <span className="rt-step-when">
              <Time at={s.move.at} />
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}

const registerSnippet = (t: TaskDetail) => `retrainedFrom:
  version: "${t.version}"
  task: ${t.id}`;

export function CandidatePanel({ task }: { task: TaskDetail }) {
  const cand = task.candidate?.version ?? null;
  const version = useApi(
    (c) => (cand ? orNone(c.versions.get(task.model, cand)) : Promise.resolve(null)),
    [task.model, cand],
  );
  const v = task.evaluation;
  const f = v ? verdictFigures(v) : null;
  return (
    <Panel title="Candidate and evaluation">
      {!cand && task.endedAt ? (
        <p className="muted">No candidate was registered.</p>
      ) : !cand ? (
        <div className="rt-hint">
          <p>
            No candidate yet. Register the retrained version saying what it was retrained from, in its version
            file:
          </p>
          <pre>{registerSnippet(task)}</pre>
          <p className="small">
            <code>modelgov versions register {task.model} -f version.yaml</code> moves the task to candidate
            registered.
          </p>
        </div>
      ) : (
        <dl className="facts" data-testid="retraining-candidate">
          <dt>Candidate</dt>
          <dd>
            <VersionLink model={task.model} version={cand} />
          </dd>
          <dt>Retrained from</dt>
          <dd>
            {version.data?.retrainedFrom ? (
              <>
                <VersionLink model={task.model} version={version.data.retrainedFrom.version} /> for task{" "}
                <span className="mono">{version.data.retrainedFrom.task}</span>
              </>
            ) : version.error ? (
              <span className="re-bad-text small">{version.error}</span>
            ) : (
              <span className="muted">…</span>
            )}
          </dd>
          <dt>Suite</dt>
          <dd className="mono">
            {task.suiteHash ?? <span className="muted">pinned by the first evaluation</span>}
          </dd>
        </dl>
      )}
      {v && f ? (
        <div className="rt-verdict" data-testid="retraining-verdict">
          <p className="subhead">
            Paired evaluation on {metricWords(v.metric)} ({f.basis}, {f.better}){" "}
            <Badge tone={v.passed ? "ok" : "bad"}>{v.passed ? "candidate better" : "not shown better"}</Badge>
          </p>
          <Table label="Candidate against production" head={["", "Version", f.basis, "Run"]}>
            <tr>
              <th scope="row">Production</th>
              <td>{v.production.version}</td>
              <td className="num">{f.production}</td>
              <td className="mono small">{v.production.run}</td>
            </tr>
            <tr>
              <th scope="row">Candidate</th>
              <td>{v.candidate.version}</td>
              <td className="num">{f.candidate}</td>
              <td className="mono small">{v.candidate.run}</td>
            </tr>
          </Table>
          <p className="small">
            Difference <strong>{f.difference}</strong> · {f.test}, p = {f.p} (α {v.alpha}) · {v.pairs} paired
            cases{v.unpaired ? `, ${v.unpaired} unpaired left out` : ""} · suite {v.suite.name} · judged{" "}
            <Time at={v.at} />
          </p>
          {v.reasons.length > 0 && (
            <ul className="re-reasons-list small">
              {v.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
          )}
        </div>
      ) : (
        cand && (
          <p className="muted small">
            Not evaluated yet:{" "}
            <code>modelgov retraining evaluate {task.id} --candidate-run evr_… --production-run evr_…</code>{" "}
            compares a run of each on the task's suite, case by case.
          </p>
        )
      )}
    </Panel>
  );
}

const metricWords = (m: string) =>
  m
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replaceAll("_", " ")
    .toLowerCase();

const FORMATS = [
  {
    format: "openai-jsonl",
    label: "OpenAI fine-tuning chat JSONL",
    what: "one line per failing request; a feedback correction is the assistant's turn",
  },
  {
    format: "suite",
    label: "modelgov evaluation suite",
    what: "the corrected requests as cases, to evaluate the candidate on",
  },
] as const;

type Format = (typeof FORMATS)[number]["format"];

/** The failing slice of the evidence windows: downloaded with the session's token (the links need it). */
export function DatasetPanel({ task }: { task: TaskDetail }) {
  const { client, can } = useSession();
  const [busy, setBusy] = useState<Format | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const allowed = can("retraining:write");
  const href = (format: Format) =>
    `/api/v1/retraining/${encodeURIComponent(task.id)}/dataset?format=${format}`;
  const download = async (e: MouseEvent, format: Format) => {
    e.preventDefault();
    setBusy(format);
    setError(null);
    setDone(null);
    try {
      const d = await client.retraining.dataset(task.id, { format });
      const blob = await new Response(d.body).blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = d.filename ?? `${task.id}-${format}`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      const c = d.counts;
      setDone(
        `${d.filename ?? format}: ${c.exportable} exported of ${c.failing} failing requests in the evidence windows (${c.withoutBody} without a kept body, ${c.corrected} with a correction).`,
      );
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Panel title="Dataset: the failing slice">
      <p className="small muted">
        The failing requests of the breached windows, from the request log joined with their feedback.
      </p>
      <ul className="rt-downloads" aria-label="Dataset exports">
        {FORMATS.map((f) => (
          <li key={f.format}>
            {allowed ? (
              <a
                href={href(f.format)}
                onClick={(e) => void download(e, f.format)}
                aria-busy={busy === f.format}
                data-testid={`dataset-${f.format}`}
              >
                {f.label}
              </a>
            ) : (
              <strong>{f.label}</strong>
            )}{" "}
            <span className="small muted">— {f.what}</span>
            <div className="small mono">
              modelgov retraining dataset {task.id} --format {f.format} -o …
            </div>
          </li>
        ))}
      </ul>
      {!allowed && (
        <p className="small muted">
          The slice holds what users sent: exporting it needs <code>retraining:write</code> (admin,
          engineering).
        </p>
      )}
      {error && (
        <p className="state error" role="alert">
          {error}
        </p>
      )}
      <p className="small" role="status" aria-live="polite">
        {done}
      </p>
    </Panel>
  );
}

/**
 * The deliveries of the task's audit events to the webhooks subscribed to them: read from each
 * subscription's latest 500 deliveries (the API lists them per subscription).
 */
export function DeliveriesPanel({ task }: { task: TaskDetail }) {
  const { can } = useSession();
  const readable = can("webhooks:admin") && can("audit:read");
  const state = useApi(
    async (c) => {
      if (!readable) return null;
      const events = await c.audit.events({
        subjectType: "retraining_task",
        subjectId: task.id,
        order: "desc",
        limit: 1000,
      });
      const actions = [...new Set(events.items.map((e) => e.action))];
      const hooks = (await c.webhooks.list()).filter((w) => actions.some((a) => subscribes(w.eventTypes, a)));
      const lists = await Promise.all(
        hooks.map(async (w) =>
          (await c.webhooks.deliveries(w.id, { limit: 500 })).map((d) => ({ ...d, webhook: w.name })),
        ),
      );
      return {
        hooks: hooks.length,
        items: deliveriesOf(lists.flat(), new Set(events.items.map((e) => e.id))),
      };
    },
    [task.id, task.updatedAt, task.evidenceCount, readable],
    // A delivery lands a second or more after the move that caused it: the panel follows.
    readable ? 15_000 : undefined,
  );
  return (
    <Panel title="Webhook deliveries">
      <Async
        state={state}
        empty={(d) =>
          d === null ? (
            <>Deliveries are shown to tokens that administer webhooks (webhooks:admin).</>
          ) : d.hooks === 0 ? (
            <>
              No webhook subscribes to this task's events (<code>retraining.*</code>):{" "}
              <code>modelgov webhooks create https://… --event &apos;retraining.*&apos;</code>.
            </>
          ) : d.items.length === 0 ? (
            <>No delivery yet: the dispatcher sends each event within seconds.</>
          ) : null
        }
      >
        {(d) =>
          d && (
            <Table
              label="Webhook deliveries"
              head={["Event", "Webhook", "Status", "Attempts", "Last answer", "When"]}
            >
              {d.items.map((x) => (
                <tr key={x.id}>
                  <td className="mono small">{x.eventType}</td>
                  <td>{x.webhook}</td>
                  <td>
                    <Badge tone={x.status === "delivered" ? "ok" : x.status === "failed" ? "bad" : "warn"}>
                      {x.status}
                    </Badge>
                  </td>
                  <td className="num">{x.attempts}</td>
                  <td className="small mo-reason">
                    {x.lastStatusCode ?? ""} {x.lastError ?? ""}
                  </td>
                  <td className="small re-nowrap">
                    <Time at={x.deliveredAt ?? x.nextAttemptAt ?? x.lastAttemptAt ?? x.createdAt} />
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </Async>
    </Panel>
  );
}

/** Every move of the task, newest first: who, when, from and to, and the reason they gave. */
export function HistoryPanel({ task }: { task: TaskDetail }) {
  const all = `/audit?${new URLSearchParams({ subjectType: "retraining_task", subjectId: task.id })}`;
  return (
    <Panel
      title="History"
      aside={
        <Link className="small" to={all}>
          In the audit log
        </Link>
      }
    >
      <ol className="timeline" aria-label="Moves of the task, newest first">
        {[...task.history].reverse().map((h) => (
          <li key={`${h.at}-${h.to}-${h.actor}`} data-testid="retraining-move">
            <div className="what">
              {h.from ? (
                <Badge tone={STATE_TONES[h.from]}>{h.from}</Badge>
              ) : (
                <span className="muted small">opened as</span>
              )}
              {h.from && (
                <>
                  <span className="muted" aria-hidden="true">
                    →
                  </span>
                  <span className="visually-hidden">to</span>
                </>
              )}
              <Badge tone={STATE_TONES[h.to]}>{h.to}</Badge>
            </div>
            <div className="small rt-reason">
              {h.reason || <span className="muted">no reason given</span>}
            </div>
            <div className="small muted">
              {h.actor} · <Time at={h.at} />
            </div>
          </li>
        ))}
      </ol>
    </Panel>
  );
}
