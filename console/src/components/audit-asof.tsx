/**
 * The as-of view: a model as it stood at a chosen time — production, aliases, statuses, and
 * the approvals in force then, with who signed and on what evidence (GET /models/{m}/as-of).
 */
import { type FormEvent, useId, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { useApi } from "../api.tsx";
import { fromLocalInput, toLocalInput } from "./audit-time.ts";
import { verdict } from "./inbox-evidence.tsx";
import { Field } from "./inbox-field.tsx";
import { Async, Badge, Empty, Table, Time, VersionLink } from "./ui.tsx";

export function AuditAsOf() {
  const ids = useId();
  const [params, setParams] = useSearchParams();
  const model = params.get("asOf") ?? "";
  const at = params.get("at") ?? "";
  const models = useApi((c) => c.models.list({ limit: 200 }), []);
  const [pick, setPick] = useState(model);
  const [when, setWhen] = useState(() => toLocalInput(at || new Date().toISOString()));
  const [invalid, setInvalid] = useState<string | null>(null);

  const show = (e: FormEvent) => {
    e.preventDefault();
    const iso = fromLocalInput(when);
    const problem = !pick ? "Choose a model." : !iso ? "Enter a date and time." : null;
    setInvalid(problem);
    if (problem) return;
    const next = new URLSearchParams(params);
    next.set("asOf", pick);
    next.set("at", iso);
    setParams(next);
  };
  const names = models.data?.items.map((m) => m.name) ?? [];
  if (model && !names.includes(model)) names.unshift(model);

  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <div className="panel-head">
        <h2 id={`${ids}-title`}>State at a time</h2>
      </div>
      <p className="muted small ia-hint">
        What production was, which versions had which status, and which approvals were in force — with who
        signed and on what evidence.
      </p>
      <form className="filters ia-filters" aria-label="Choose a model and a time" onSubmit={show} noValidate>
        <Field label="Model">
          {(id) => (
            <select
              id={id}
              value={pick}
              onChange={(e) => setPick(e.target.value)}
              aria-invalid={invalid === "Choose a model." || undefined}
            >
              <option value="">
                {models.data ? "choose…" : models.error ? "could not load models" : "loading…"}
              </option>
              {names.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="At (your local time)">
          {(id) => (
            <input
              id={id}
              type="datetime-local"
              step={1}
              value={when}
              onChange={(e) => setWhen(e.target.value)}
              aria-invalid={invalid === "Enter a date and time." || undefined}
            />
          )}
        </Field>
        <button type="button" onClick={() => setWhen(toLocalInput(new Date().toISOString()))}>
          Now
        </button>
        <button type="submit" className="primary">
          Show state
        </button>
      </form>
      {invalid && (
        <p className="state error" role="alert">
          {invalid}
        </p>
      )}
      {models.error && !models.data && (
        <p className="state error">Models could not be loaded: {models.error}</p>
      )}
      {model && at ? (
        <AsOfResult model={model} at={at} />
      ) : (
        <Empty>Choose a model and a time to see its state then.</Empty>
      )}
    </section>
  );
}

function AsOfResult({ model, at }: { model: string; at: string }) {
  const state = useApi((c) => c.approvals.asOf(model, at), [model, at]);
  return (
    <Async state={state}>
      {(d) => {
        const aliases = Object.entries(d.aliases);
        return (
          <div className="ia-asof">
            <h3>
              {d.model} at <Time at={d.at} />
            </h3>
            <dl className="ia-kv">
              <dt>Production</dt>
              <dd>
                {d.production ? (
                  <VersionLink model={d.model} version={d.production} />
                ) : (
                  <span className="muted">no production version</span>
                )}
              </dd>
              <dt>Aliases</dt>
              <dd>
                {aliases.length === 0 ? (
                  <span className="muted">none</span>
                ) : (
                  <ul className="ia-inline">
                    {aliases.map(([a, v]) => (
                      <li key={a}>
                        <code>{a}</code> → <VersionLink model={d.model} version={v} />
                      </li>
                    ))}
                  </ul>
                )}
              </dd>
            </dl>
            {d.versions.length === 0 ? (
              <Empty>The model had no version at that time.</Empty>
            ) : (
              <Table label="Versions at that time" head={["Version", "Status"]}>
                {d.versions.map((v) => (
                  <tr key={v.version}>
                    <td>
                      <VersionLink model={d.model} version={v.version} />
                    </td>
                    <td>
                      <Badge>{v.status}</Badge>
                    </td>
                  </tr>
                ))}
              </Table>
            )}
            <h3 className="ia-asof-approvals">Approvals in force</h3>
            {d.approvals.length === 0 ? (
              <Empty>No approval was in force at that time.</Empty>
            ) : (
              <ul className="ia-list" aria-label="Approvals in force">
                {d.approvals.map((a) => (
                  <li key={a.requestId} className="ia-item">
                    <div className="ia-item-head">
                      <VersionLink model={d.model} version={a.version} />
                      <Badge tone="ok">approved</Badge>
                      <span className="muted small">
                        <Time at={a.approvedAt} /> · requested by {a.requestedBy} · <code>{a.requestId}</code>
                      </span>
                    </div>
                    {a.summary && <p className="ia-text">{a.summary}</p>}
                    <div className="ia-columns">
                      <div>
                        <h4 className="ia-sub">Signed by</h4>
                        {a.signoffs.length === 0 ? (
                          <p className="muted small">No sign-off recorded.</p>
                        ) : (
                          <ul className="ia-plain">
                            {a.signoffs.map((s) => (
                              <li key={s.id}>
                                <Badge tone={s.decision === "approve" ? "ok" : "bad"}>{s.decision}</Badge>{" "}
                                <strong>{s.signer}</strong> as {s.role}, <Time at={s.signedAt} />
                                {s.comment && <div className="muted small ia-quote">“{s.comment}”</div>}
                              </li>
                            ))}
                          </ul>
                        )}
                      </div>
                      <div>
                        <h4 className="ia-sub">On evidence</h4>
                        <ul className="ia-plain small">
                          {a.cardHash && (
                            <li>
                              card <code className="ia-hash">{a.cardHash}</code>
                            </li>
                          )}
                          {a.evidence.map((e) => {
                            const v = verdict(e.passed);
                            return (
                              <li key={e.id}>
                                {e.kind} <Badge tone={v.tone}>{v.text}</Badge>{" "}
                                <code className="ia-hash">{e.contentHash}</code>
                              </li>
                            );
                          })}
                          {!a.cardHash && a.evidence.length === 0 && <li className="muted">none recorded</li>}
                        </ul>
                      </div>
                    </div>
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      }}
    </Async>
  );
}
