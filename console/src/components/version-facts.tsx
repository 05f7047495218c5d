/** A version's pinned facts and its lifecycle: what exactly runs, and how its status moved. */
import { Link } from "react-router-dom";
import type { Client } from "../../../src/client/index.ts";
import { useApi } from "../api.tsx";
import { KeyValues } from "./key-values.tsx";
import { Async, Badge, Panel, Time, VersionLink } from "./ui.tsx";

type Version = Awaited<ReturnType<Client["versions"]["get"]>>;

export function VersionFacts({ v }: { v: Version }) {
  const metrics = Object.entries(v.metrics);
  return (
    <Panel title="Version">
      <dl className="facts">
        <dt>Provider</dt>
        <dd>{v.provider}</dd>
        <dt>Provider model</dt>
        <dd className="mono">{v.providerModelId}</dd>
        {v.endpoint && (
          <>
            <dt>Endpoint</dt>
            <dd className="mono">{v.endpoint}</dd>
          </>
        )}
        {Object.keys(v.parameters).length > 0 && (
          <>
            <dt>Parameters</dt>
            <dd>
              <KeyValues value={v.parameters} label="Parameters" />
            </dd>
          </>
        )}
        {v.artifact && (
          <>
            <dt>Artifact</dt>
            <dd>
              <span className="mono">{v.artifact.uri}</span>
              <div className="mono muted">{v.artifact.digest}</div>
            </dd>
          </>
        )}
        <dt>Pinned digest</dt>
        <dd className="mono">{v.pinnedDigest}</dd>
        <dt>Aliases</dt>
        <dd>
          {v.aliases.length ? (
            <span className="chips">
              {v.aliases.map((a) => (
                <Badge key={a} tone="info">
                  {a}
                </Badge>
              ))}
            </span>
          ) : (
            <span className="muted">none</span>
          )}
        </dd>
        {v.retrainedFrom && (
          <>
            <dt>Retrained from</dt>
            <dd>
              <VersionLink model={v.model} version={v.retrainedFrom.version} />, for the retraining task{" "}
              <Link className="mono" to={`/retraining/${encodeURIComponent(v.retrainedFrom.task)}`}>
                {v.retrainedFrom.task}
              </Link>
            </dd>
          </>
        )}
        <dt>Registered</dt>
        <dd>
          {v.createdBy}, <Time at={v.createdAt} />
        </dd>
        <dt>Promoted</dt>
        <dd>
          <Time at={v.promotedAt} />
        </dd>
        {v.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{v.tags.join(", ")}</dd>
          </>
        )}
        {metrics.length > 0 && (
          <>
            <dt>Declared metrics</dt>
            <dd>
              {metrics.map(([k, x]) => (
                <div key={k}>
                  <span className="muted">{k}</span> {x}
                </div>
              ))}
            </dd>
          </>
        )}
        {v.contract && (
          <>
            <dt>Contract</dt>
            <dd>
              <details>
                <summary>input/output JSON Schema</summary>
                <pre className="mono small">{JSON.stringify(v.contract, null, 2)}</pre>
              </details>
            </dd>
          </>
        )}
      </dl>
      {v.limitations.length > 0 && (
        <>
          <p className="subhead">Limitations</p>
          <ul>
            {v.limitations.map((l) => (
              <li key={l}>{l}</li>
            ))}
          </ul>
        </>
      )}
      {v.changelog && (
        <>
          <p className="subhead">Changelog</p>
          <p style={{ whiteSpace: "pre-wrap" }}>{v.changelog}</p>
        </>
      )}
    </Panel>
  );
}

export function StatusHistory({ model, version }: { model: string; version: string }) {
  const history = useApi((c) => c.versions.history(model, version), [model, version]);
  return (
    <Panel title="Status history">
      <Async state={history} empty={(d) => (d.length === 0 ? "No status change recorded." : null)}>
        {(d) => (
          <ol className="timeline" aria-label={`Status changes of ${model}@${version}, newest first`}>
            {[...d].reverse().map((h) => (
              <li key={`${h.at}-${h.to}`}>
                <div className="what">
                  {h.from ? <Badge>{h.from}</Badge> : <span className="muted small">registered as</span>}
                  {h.from && (
                    <>
                      <span className="muted" aria-hidden="true">
                        →
                      </span>
                      <span className="visually-hidden">to</span>
                    </>
                  )}
                  <Badge>{h.to}</Badge>
                </div>
                <div className="small">{h.reason || <span className="muted">no reason given</span>}</div>
                <div className="small muted">
                  {h.actor} · <Time at={h.at} />
                </div>
              </li>
            ))}
          </ol>
        )}
      </Async>
    </Panel>
  );
}
