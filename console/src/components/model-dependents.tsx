/**
 * Who calls a model: each client × version with its requests, errors and error rate over a
 * window, as the gateway's request log counts them (GET /models/{model}/dependents): the
 * blast radius of a rollback.
 */
import { useId, useState } from "react";
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { useApi } from "../api.tsx";
import { RouterPathsTable } from "./router-paths.tsx";
import { Async, Panel, pct, Table, Time } from "./ui.tsx";

const WINDOWS = [
  ["15m", "15 minutes"],
  ["1h", "hour"],
  ["24h", "24 hours"],
  ["7d", "7 days"],
  ["30d", "30 days"],
] as const;

export function DependentsPanel({ model }: { model: string }) {
  const [span, setSpan] = useState("24h");
  const id = useId();
  const deps = useApi((c) => c.dependents(model, span), [model, span], 30_000);
  const label = WINDOWS.find(([w]) => w === span)?.[1] ?? span;
  return (
    <Panel
      title="Dependents"
      aside={
        <label htmlFor={id}>
          Window
          <select id={id} value={span} onChange={(e) => setSpan(e.target.value)}>
            {WINDOWS.map(([w, l]) => (
              <option key={w} value={w}>
                last {l}
              </option>
            ))}
          </select>
        </label>
      }
    >
      <Async
        state={deps}
        empty={(d) =>
          d.dependents.length === 0 && d.paths.length === 0 && d.calledBy.length === 0
            ? `No client has called ${model} through the gateway in the last ${label}.`
            : null
        }
      >
        {(d) => {
          const rows = d.dependents.map((x) => ({
            name: `${x.client} → ${x.version ?? "none"}`,
            requests: x.requests,
            errors: x.errors,
          }));
          return (
            <>
              <div className="stats">
                <div className="stat">
                  <span className="label">Requests</span>
                  <span className="value">{d.totals.requests.toLocaleString()}</span>
                </div>
                <div className="stat">
                  <span className="label">Errors</span>
                  <span className="value">{d.totals.errors.toLocaleString()}</span>
                </div>
                <div className="stat">
                  <span className="label">Clients</span>
                  <span className="value">{d.totals.clients}</span>
                </div>
                <div className="stat">
                  <span className="label">Versions serving</span>
                  <span className="value">{d.totals.versions}</span>
                </div>
              </div>
              <div
                className="chart"
                role="img"
                aria-label={`Requests per client and version: ${rows.map((r) => `${r.name} ${r.requests}`).join(", ")}`}
                style={{ minHeight: 0 }}
              >
                <ResponsiveContainer width="100%" height={Math.max(120, rows.length * 38 + 40)}>
                  <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 4 }}>
                    <CartesianGrid horizontal={false} />
                    <XAxis type="number" allowDecimals={false} />
                    <YAxis type="category" dataKey="name" width={120} tickLine={false} />
                    <Tooltip
                      cursor={{ fillOpacity: 0.08 }}
                      contentStyle={{ background: "var(--surface)", border: "1px solid var(--border)" }}
                    />
                    <Bar
                      dataKey="requests"
                      name="requests"
                      fill="var(--accent)"
                      maxBarSize={22}
                      isAnimationActive={false}
                    />
                    <Bar
                      dataKey="errors"
                      name="errors"
                      fill="var(--bad)"
                      maxBarSize={22}
                      isAnimationActive={false}
                    />
                  </BarChart>
                </ResponsiveContainer>
              </div>
              <Table
                label="Dependents"
                head={["Client", "Version", "Requests", "Errors", "Error rate", "Last seen"]}
              >
                {d.dependents.map((x) => (
                  <tr key={`${x.client}/${x.versionId ?? "-"}`}>
                    <td className="nowrap">{x.client}</td>
                    <td>{x.version ?? <span className="muted">none (refused or unroutable)</span>}</td>
                    <td className="num">{x.requests.toLocaleString()}</td>
                    <td className="num">{x.errors.toLocaleString()}</td>
                    <td className="num">{pct(x.errorRate)}</td>
                    <td>
                      <Time at={x.lastSeen} />
                    </td>
                  </tr>
                ))}
              </Table>
              {d.paths.map((r) => (
                <div key={r.versionId}>
                  <h3 className="re-sub">
                    Paths of {r.strategy} router {model}@{r.version}
                  </h3>
                  <RouterPathsTable paths={r.paths} label={`Paths of ${model}@${r.version}`} />
                </div>
              ))}
              {d.calledBy.map((r) => (
                <div key={r.versionId}>
                  <h3 className="re-sub">
                    Called by router {r.model}@{r.version} ({r.strategy}) through tier {r.viaTiers.join(", ")}
                  </h3>
                  <RouterPathsTable
                    paths={r.paths}
                    label={`Paths of ${r.model}@${r.version} through ${model}`}
                  />
                </div>
              ))}
              <p className="small muted">
                From <Time at={d.since} /> to <Time at={d.until} />.
              </p>
            </>
          );
        }}
      </Async>
    </Panel>
  );
}
