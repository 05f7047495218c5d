import { Link, useParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { Breadcrumbs } from "../components/breadcrumbs.tsx";
import { KillSwitchBanner, useEngagedKillSwitches } from "../components/kill-switch-banner.tsx";
import { DependentsPanel } from "../components/model-dependents.tsx";
import {
  AliasHistory,
  StatusTimeline,
  useVersionsWithHistory,
  VersionsTable,
} from "../components/model-history.tsx";
import { orNone } from "../components/rollout-kit.tsx";
import { Async, Badge, PageHeader, Panel, Time } from "../components/ui.tsx";
import "./model-version.css";

/**
 * One model: what it is, its versions with their status timeline, the history of its aliases,
 * and its dependents (which clients call it, and how much).
 */
export function ModelPage() {
  const { model: name = "" } = useParams();
  const model = useApi((c) => orNone(c.models.get(name)), [name]);
  const versions = useVersionsWithHistory(name);
  const base = `/models/${encodeURIComponent(name)}`;
  const kills = useEngagedKillSwitches();
  const providers = new Set(versions.data?.versions.map((v) => v.provider));
  return (
    <div className="mv">
      <Breadcrumbs trail={[{ to: "/", label: "Registry" }]} current={name} />
      <PageHeader
        title={name}
        sub={model.data?.description || undefined}
        actions={
          <>
            <Link className="button" to={`${base}/rollout`}>
              Rollout
            </Link>
            <Link className="button" to={`${base}/experiment`}>
              Experiment
            </Link>
            <Link className="button" to={`${base}/monitor`}>
              Monitoring
            </Link>
          </>
        }
      />
      <KillSwitchBanner
        switches={kills.data}
        what="this model"
        relevant={(k) => (k.scope === "version" ? k.target.startsWith(`${name}@`) : providers.has(k.target))}
      />
      <Async
        state={model}
        empty={(m) =>
          m === null ? (
            <>
              No model named {name} is registered. <Link to="/">Back to the registry</Link>
            </>
          ) : null
        }
      >
        {(m) =>
          m && (
            <>
              <Panel title="About">
                <dl className="facts">
                  <dt>Owner</dt>
                  <dd>{m.owner}</dd>
                  <dt>Risk tier</dt>
                  <dd>
                    <Badge tone={m.riskTier === "high" || m.riskTier === "critical" ? "bad" : "neutral"}>
                      {m.riskTier}
                    </Badge>
                  </dd>
                  <dt>Use cases</dt>
                  <dd>{m.useCases.join(", ") || <span className="muted">–</span>}</dd>
                  <dt>Aliases</dt>
                  <dd>
                    {Object.keys(m.aliases).length ? (
                      <span className="chips">
                        {Object.entries(m.aliases).map(([a, v]) => (
                          <span key={a}>
                            <Badge tone="info">{a}</Badge>{" "}
                            <Link to={`${base}/versions/${encodeURIComponent(v)}`}>{v}</Link>
                          </span>
                        ))}
                      </span>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </dd>
                  {m.tags.length > 0 && (
                    <>
                      <dt>Tags</dt>
                      <dd>{m.tags.join(", ")}</dd>
                    </>
                  )}
                  <dt>Retention</dt>
                  <dd>
                    {m.retention ? (
                      `keep ${m.retention.keepProduction} production, ${m.retention.keepDeprecated} deprecated`
                    ) : (
                      <span className="muted">the registry's default</span>
                    )}
                  </dd>
                  <dt>Registered</dt>
                  <dd>
                    {m.createdBy}, <Time at={m.createdAt} />
                  </dd>
                </dl>
              </Panel>
              <Panel title={`Versions${versions.data ? ` (${m.versionCount})` : ""}`}>
                <VersionsTable model={name} state={versions} />
              </Panel>
              <div className="grid two">
                <StatusTimeline model={name} state={versions} />
                <AliasHistory model={name} />
              </div>
              <DependentsPanel model={name} />
            </>
          )
        }
      </Async>
    </div>
  );
}
