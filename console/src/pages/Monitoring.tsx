import { useId } from "react";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { ModelOverviewTable, useModelOverview } from "../components/model-overview.tsx";
import { MonitorAlerts } from "../components/monitor-alerts.tsx";
import { formatValue, WindowChart, WindowTable } from "../components/monitor-charts.tsx";
import { ActiveRetrainingTasks, ModelRetrainingTasks } from "../components/retraining-tasks.tsx";
import { noneOrModelMissing, orNone } from "../components/rollout-kit.tsx";
import { RouterPathsTable } from "../components/router-paths.tsx";
import { Async, Badge, Empty, PageHeader, Panel, Time, VersionLink } from "../components/ui.tsx";
import {
  type MonitorRuleView,
  type MonitorStatusView,
  recentQuery,
  ruleState,
  ruleTitle,
  STATISTIC_NAMES,
  unitOf,
  windowPoints,
} from "../monitor-series.ts";
import "./monitoring.css";
import "./retraining.css";
import "./rollouts-experiments.css";

const monitorPath = (model: string) => `/models/${encodeURIComponent(model)}/monitor`;
/** Windows end daily or hourly: a poll every 30 s shows a judged window soon after the job's pass. */
const EVERY_MS = 30_000;
/** The windows a rule's chart and table show: two months of days, two and a half days of hours. */
const RECENT = 60;
const needsAttention = (s: MonitorStatusView | null) =>
  !!s?.rules.some((r) => r.state === "firing" || r.state === "breaching");

function NoMonitorHint({ model }: { model: string }) {
  return (
    <div className="mo-hint">
      <p>
        No monitor watches {model}. Set one with <code>modelgov monitor set {model} -f monitor.yaml</code>, or
        under <code>monitors:</code> in modelgov.yaml (then <code>modelgov apply</code>):
      </p>
      <pre>
        {`monitors:
  ${model}:
    baseline: { kind: first-days, days: 7 }
    rules:
      - success rate drops >10% from baseline for 3 consecutive days
      - PSI of input tokens > 0.2 for 3 days`}
      </pre>
      <p>
        Without <code>rules</code> a monitor gets the default rules; <code>"*": {"{}"}</code> watches every
        model in production. See docs/monitoring.md.
      </p>
    </div>
  );
}

/** Every model with its monitor: the version watched and each rule's state; each links to its page. */
export function MonitoringPage() {
  const rows = useModelOverview((c, model) => orNone(c.monitor.status(model)), needsAttention, EVERY_MS);
  return (
    <>
      <PageHeader
        title="Monitoring"
        sub="Each model's production version against its baseline: every rule's state. Models with a rule breaching or firing first. Updates every 30 s."
      />
      <ModelOverviewTable
        state={rows}
        label="Monitors"
        head={["Version watched", "Baseline", "Rules", "Monitor"]}
        linkTo={monitorPath}
        none="no monitor"
        emptyHint={
          <>
            No monitor yet: <code>modelgov monitor set &lt;model&gt; -f monitor.yaml</code> or{" "}
            <code>monitors:</code> in modelgov.yaml.
          </>
        }
        cells={(s: MonitorStatusView) => (
          <>
            <td>{s.version ?? <span className="muted">none in production</span>}</td>
            <td className="small">
              {s.baseline ? (
                s.baseline.complete ? (
                  "complete"
                ) : (
                  <>
                    until <Time at={s.baseline.to} />
                  </>
                )
              ) : (
                <span className="muted">–</span>
              )}
            </td>
            <td>
              {s.enabled ? (
                <span className="mo-chips">
                  {s.rules.map((r) => {
                    const st = ruleState(r);
                    return (
                      <span key={r.name} title={r.text ?? r.name}>
                        <Badge tone={st.tone}>{`${ruleTitle(r)}: ${st.label}`}</Badge>
                      </span>
                    );
                  })}
                </span>
              ) : (
                <Badge tone="warn">switched off</Badge>
              )}
            </td>
            <td className="small">{s.configuredFor === "*" ? "workspace default" : "its own"}</td>
          </>
        )}
      />
      <ActiveRetrainingTasks everyMs={EVERY_MS} />
    </>
  );
}

/** One model's monitor: the version watched, its baseline, each rule's windows, and the alerts. */
export function MonitorPage() {
  const { model = "" } = useParams();
  const state = useApi((c) => noneOrModelMissing(c, model, c.monitor.status(model)), [model], EVERY_MS);
  return (
    <>
      <PageHeader
        title={
          <>
            Monitoring of <Link to={`/models/${encodeURIComponent(model)}`}>{model}</Link>
          </>
        }
        sub="The production version, window by window, against its baseline: each rule's state, its windows and their tests. Updates every 30 s."
      />
      <Async state={state}>
        {(d) =>
          d ? (
            <MonitorView status={d} />
          ) : (
            <>
              <Empty>
                <NoMonitorHint model={model} />
              </Empty>
              <ModelRetrainingTasks model={model} everyMs={EVERY_MS} />
            </>
          )
        }
      </Async>
    </>
  );
}

function MonitorView({ status: s }: { status: MonitorStatusView }) {
  const drift = s.rules.filter((r) => r.kind === "drift");
  const others = s.rules.filter((r) => r.kind !== "drift");
  return (
    <>
      <Panel>
        <dl className="re-stats">
          <div>
            <dt>Version watched</dt>
            <dd data-testid="monitor-version">
              {s.version ? (
                <VersionLink model={s.model} version={s.version} />
              ) : (
                <span className="muted">none in production</span>
              )}
            </dd>
          </div>
          <div className="mo-wide">
            <dt>Baseline</dt>
            <dd data-testid="monitor-baseline">
              {s.baseline ? (
                <>
                  <Time at={s.baseline.from} /> to <Time at={s.baseline.to} />{" "}
                  <Badge tone={s.baseline.complete ? "ok" : "info"}>
                    {s.baseline.complete ? "complete" : "collecting"}
                  </Badge>
                </>
              ) : (
                <span className="muted">none until a version is in production</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Monitor</dt>
            <dd>
              {s.configuredFor === "*" ? "the workspace default (*)" : `${s.model}'s own`}
              {!s.enabled && (
                <>
                  {" "}
                  <Badge tone="warn">switched off</Badge>
                </>
              )}
            </dd>
          </div>
        </dl>
        {!s.enabled && (
          <p className="small muted">This monitor is switched off: no window is judged while it is.</p>
        )}
      </Panel>
      <ModelRetrainingTasks model={s.model} everyMs={EVERY_MS} />
      {s.paths && (
        <Panel title={`Success by path (${s.paths.strategy} router ${s.paths.version}, last 7 days)`}>
          <RouterPathsTable paths={s.paths.paths} label="Success and cost per success by path" />
        </Panel>
      )}
      {others.length > 0 && (
        <>
          <h2 className="re-section">Rules</h2>
          {others.map((r) => (
            <RulePanel key={r.name} rule={r} status={s} />
          ))}
        </>
      )}
      {drift.length > 0 && (
        <>
          <h2 className="re-section">Drift per feature</h2>
          {drift.map((r) => (
            <RulePanel key={r.name} rule={r} status={s} />
          ))}
        </>
      )}
      <MonitorAlerts model={s.model} rules={s.rules} everyMs={EVERY_MS} />
    </>
  );
}

function RulePanel({ rule, status }: { rule: MonitorRuleView; status: MonitorStatusView }) {
  const id = useId();
  const st = ruleState(rule);
  const unit = unitOf(rule);
  const unitWord = rule.windowHours === 1 ? "hour" : "day";
  return (
    <section className="panel mo-rule" aria-labelledby={id} data-testid="monitor-rule">
      <div className="panel-head">
        <h3 id={id}>
          {ruleTitle(rule)}
          {rule.kind === "drift" && rule.statistic && (
            <span className="muted mo-stat"> · {STATISTIC_NAMES[rule.statistic] ?? rule.statistic}</span>
          )}
        </h3>
        <span className="mo-state" data-testid="rule-state">
          <Badge tone={st.tone}>{st.label}</Badge>
          {rule.state === "firing" && rule.firedAt && (
            <span className="small">
              {" "}
              since <Time at={rule.firedAt} />
            </span>
          )}
        </span>
      </div>
      <p className="mo-words" data-testid="rule-words">
        {rule.text ?? <code>{rule.name}</code>}
      </p>
      <p className="muted small mo-meta">
        Fires after {rule.windows} breaching {unitWord}
        {rule.windows === 1 ? "" : "s"} in a row
        {rule.text ? (
          <>
            {" "}
            · rule <code>{rule.name}</code>
          </>
        ) : null}
      </p>
      {rule.state === "pending" || !rule.lastWindowEnd ? (
        <p className="mo-pending" data-testid="rule-pending">
          {status.baseline ? (
            <>
              No window judged yet — the first is judged after <Time at={status.baseline.to} />
              {status.baseline.complete ? "." : ", when the baseline is complete."}
            </>
          ) : (
            <>No window judged yet: no version of {status.model} is in production.</>
          )}
        </p>
      ) : (
        <RuleWindows rule={rule} status={status} unit={unit} />
      )}
    </section>
  );
}

function RuleWindows({
  rule,
  status,
  unit,
}: {
  rule: MonitorRuleView;
  status: MonitorStatusView;
  unit: ReturnType<typeof unitOf>;
}) {
  const q = recentQuery(rule, RECENT);
  const history = useApi(
    (c) => (q ? c.monitor.history(status.model, q) : Promise.resolve({ model: status.model, windows: [] })),
    [status.model, rule.name, q?.from],
  );
  const last = rule.last;
  return (
    <Async state={history}>
      {(h) => {
        const points = windowPoints(h.windows, rule.name, status.version);
        return (
          <>
            <WindowChart rule={rule} points={points} unit={unit} />
            {last && (
              <p className="small re-reason">
                <span className="muted">
                  Latest window, <Time at={last.windowStart} />
                  {last.value === null ? ": " : `: ${formatValue(unit, last.value)} · `}
                </span>
                {last.reason}
              </p>
            )}
            <details className="mo-details" open={rule.state === "breaching" || rule.state === "firing"}>
              <summary>
                Windows judged{points.length >= RECENT ? ` (the last ${RECENT})` : ` (${points.length})`},
                newest first
              </summary>
              <WindowTable rule={rule} points={points} unit={unit} />
            </details>
          </>
        );
      }}
    </Async>
  );
}
