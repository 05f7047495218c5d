import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { Breadcrumbs } from "../components/breadcrumbs.tsx";
import { CardPanel } from "../components/card-view.tsx";
import { EvaluationsPanel } from "../components/eval-runs.tsx";
import { orNone } from "../components/rollout-kit.tsx";
import { Async, Badge, PageHeader, Panel } from "../components/ui.tsx";
import { ApprovalsPanel } from "../components/version-approvals.tsx";
import { StatusHistory, VersionFacts } from "../components/version-facts.tsx";
import "./model-version.css";

const STATUS_TONE: Record<string, string> = {
  production: "ok",
  canary: "info",
  development: "neutral",
  deprecated: "neutral",
  retired: "neutral",
};

/**
 * One version: what runs (pinned provider model), its status history, its approval state with
 * every sign-off, its evaluations with fairness by group, and its model card.
 */
export function VersionPage() {
  const { model = "", version = "" } = useParams();
  const v = useApi((c) => orNone(c.versions.get(model, version)), [model, version]);
  // An accepted disparity changes the version's evidence and its card: those panels reload.
  const [changes, setChanges] = useState(0);
  const modelHref = `/models/${encodeURIComponent(model)}`;
  return (
    <div className="mv">
      <Breadcrumbs
        trail={[
          { to: "/", label: "Registry" },
          { to: modelHref, label: model },
        ]}
        current={version}
      />
      <PageHeader
        title={`${model}@${version}`}
        sub={
          v.data ? (
            <span className="head-status">
              <span
                data-testid="version-status"
                className={`badge badge-${STATUS_TONE[v.data.status] ?? "neutral"}`}
              >
                {v.data.status}
              </span>
              {v.data.aliases.map((a) => (
                <Badge key={a} tone="info">{`alias: ${a}`}</Badge>
              ))}
              <span>
                {v.data.provider} · <span className="mono">{v.data.providerModelId}</span>
              </span>
            </span>
          ) : undefined
        }
        actions={
          <>
            <Link className="button" to={modelHref}>
              All versions
            </Link>
            <Link className="button" to={`${modelHref}/rollout`}>
              Rollout
            </Link>
          </>
        }
      />
      <Async
        state={v}
        empty={(d) =>
          d === null ? (
            <>
              {model} has no version {version}. <Link to={modelHref}>See its versions</Link>
            </>
          ) : null
        }
      >
        {(d) =>
          d && (
            <>
              <div className="grid two">
                <VersionFacts v={d} />
                <StatusHistory model={model} version={version} />
              </div>
              <ApprovalsPanel model={model} version={version} changes={changes} />
              <Panel title="Evaluations">
                <EvaluationsPanel
                  model={model}
                  version={version}
                  onChanged={() => setChanges((n) => n + 1)}
                />
              </Panel>
              <CardPanel model={model} version={version} changes={changes} />
            </>
          )
        }
      </Async>
    </div>
  );
}
