/**
 * A model's versions with their lifecycle, every status change across versions (newest first),
 * and the history of its movable aliases.
 */
import { useId, useState } from "react";
import { Link } from "react-router-dom";
import type { AliasMove, Client } from "../../../src/client/index.ts";
import { type Loaded, useApi } from "../api.tsx";
import { Async, Badge, Panel, Table, Time } from "./ui.tsx";

type Version = Awaited<ReturnType<Client["versions"]["get"]>>;
type Change = Awaited<ReturnType<Client["versions"]["history"]>>[number];
export interface VersionsWithHistory {
  versions: Version[];
  more: boolean;
  history: Record<string, Change[]>;
}

/** The versions (newest first, as the API lists them) and each one's status history. */
export function useVersionsWithHistory(model: string): Loaded<VersionsWithHistory> {
  return useApi(
    async (c) => {
      const page = await c.versions.list({ model, limit: 500 });
      const lists = await Promise.all(page.items.map((v) => c.versions.history(model, v.version)));
      return {
        versions: page.items,
        more: page.nextCursor !== null,
        history: Object.fromEntries(page.items.map((v, i) => [v.version, lists[i] ?? []])),
      };
    },
    [model],
  );
}

const href = (model: string, version: string) =>
  `/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(version)}`;

function Lifecycle({ changes }: { changes: Change[] }) {
  if (changes.length === 0) return <span className="muted">–</span>;
  return (
    <span className="lifecycle">
      {changes.map((h, i) => (
        <span key={`${h.at}-${h.to}`} className="lifecycle" title={`${h.to} since ${h.at} (${h.actor})`}>
          {i > 0 && (
            <span className="arrow" aria-hidden="true">
              →
            </span>
          )}
          <Badge>{h.to}</Badge>
        </span>
      ))}
    </span>
  );
}

export function VersionsTable({ model, state }: { model: string; state: Loaded<VersionsWithHistory> }) {
  return (
    <Async
      state={state}
      empty={(d) =>
        d.versions.length === 0 ? `No version registered yet: modelgov versions register ${model} …` : null
      }
    >
      {(d) => (
        <>
          <Table
            label="Versions"
            head={["Version", "Status", "Aliases", "Provider model", "Lifecycle", "Registered", "Promoted"]}
          >
            {d.versions.map((v) => (
              <tr key={v.id}>
                <td>
                  <Link to={href(model, v.version)}>
                    <strong>{v.version}</strong>
                  </Link>
                </td>
                <td>
                  <Badge>{v.status}</Badge>
                </td>
                <td>
                  {v.aliases.length ? (
                    <span className="chips">
                      {v.aliases.map((a) => (
                        <Badge key={a} tone="info">
                          {a}
                        </Badge>
                      ))}
                    </span>
                  ) : (
                    <span className="muted">–</span>
                  )}
                </td>
                <td>
                  {v.provider}
                  <div className="mono muted">{v.providerModelId}</div>
                </td>
                <td>
                  <Lifecycle changes={d.history[v.version] ?? []} />
                </td>
                <td>
                  <Time at={v.createdAt} />
                  <div className="small muted">{v.createdBy}</div>
                </td>
                <td>
                  <Time at={v.promotedAt} />
                </td>
              </tr>
            ))}
          </Table>
          {d.more && <p className="small muted">Showing the newest 500 versions.</p>}
        </>
      )}
    </Async>
  );
}

const FIRST = 12;

export function StatusTimeline({ model, state }: { model: string; state: Loaded<VersionsWithHistory> }) {
  const [all, setAll] = useState(false);
  return (
    <Panel title="Status timeline">
      <Async
        state={state}
        empty={(d) =>
          Object.values(d.history).every((h) => h.length === 0) ? "No status change recorded." : null
        }
      >
        {(d) => {
          const events = Object.entries(d.history)
            .flatMap(([version, hs]) => hs.map((h) => ({ version, ...h })))
            .sort((a, b) => b.at.localeCompare(a.at));
          const shown = all ? events : events.slice(0, FIRST);
          return (
            <>
              <ol className="timeline" aria-label="Status changes, newest first">
                {shown.map((e) => (
                  <li key={`${e.version}-${e.at}-${e.to}`}>
                    <div className="what">
                      <Link to={href(model, e.version)}>{e.version}</Link>
                      {e.from ? <Badge>{e.from}</Badge> : <span className="muted small">registered as</span>}
                      {e.from && (
                        <>
                          <span className="muted" aria-hidden="true">
                            →
                          </span>
                          <span className="visually-hidden">to</span>
                        </>
                      )}
                      <Badge>{e.to}</Badge>
                    </div>
                    <div className="small">{e.reason || <span className="muted">no reason given</span>}</div>
                    <div className="small muted">
                      {e.actor} · <Time at={e.at} />
                    </div>
                  </li>
                ))}
              </ol>
              {events.length > FIRST && (
                <button type="button" className="link" onClick={() => setAll((x) => !x)}>
                  {all ? "Show the latest only" : `Show all ${events.length} changes`}
                </button>
              )}
            </>
          );
        }}
      </Async>
    </Panel>
  );
}

export function AliasHistory({ model }: { model: string }) {
  const [alias, setAlias] = useState("");
  const id = useId();
  const moves = useApi((c) => c.aliases.history(model), [model]);
  const names = [...new Set((moves.data ?? []).map((m) => m.alias))].sort();
  return (
    <Panel
      title="Alias history"
      aside={
        names.length > 1 && (
          <label htmlFor={id}>
            Alias
            <select id={id} value={alias} onChange={(e) => setAlias(e.target.value)}>
              <option value="">all</option>
              {names.map((n) => (
                <option key={n}>{n}</option>
              ))}
            </select>
          </label>
        )
      }
    >
      <Async
        state={moves}
        empty={(d) =>
          d.length === 0 ? `No alias set yet: modelgov alias set ${model} production <version>` : null
        }
      >
        {(d) => {
          const rows: AliasMove[] = d.filter((m) => !alias || m.alias === alias).reverse();
          return (
            <Table label="Alias moves" head={["When", "Alias", "Move", "Reason", "By"]}>
              {rows.map((m, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: moves are an append-only list
                <tr key={i}>
                  <td>
                    <Time at={m.at} />
                  </td>
                  <td>
                    <Badge tone="info">{m.alias}</Badge>
                  </td>
                  <td>
                    {m.previousVersion ? (
                      <Link to={href(model, m.previousVersion)}>{m.previousVersion}</Link>
                    ) : (
                      <span className="muted">unset</span>
                    )}{" "}
                    <span aria-hidden="true">→</span>
                    <span className="visually-hidden">to</span>{" "}
                    {m.version ? (
                      <Link to={href(model, m.version)}>{m.version}</Link>
                    ) : (
                      <span className="muted">removed</span>
                    )}
                  </td>
                  <td className="wide">{m.reason || <span className="muted">–</span>}</td>
                  <td>{m.actor}</td>
                </tr>
              ))}
            </Table>
          );
        }}
      </Async>
    </Panel>
  );
}
