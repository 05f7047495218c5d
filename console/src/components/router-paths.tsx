/**
 * Success by path of a router version (docs/routing.md, "Success by path"): each path it
 * took (a route's tier, a cascade's tiers in order, an ensemble's chosen tier), the models its
 * tiers call, its share of the requests, the success rate of the judged ones, and the cost per
 * request and per success. The monitoring, experiment and dependents views show the same table.
 */
import type { Client } from "../../../src/client/index.ts";
import { pct, Table } from "./ui.tsx";

export type RouterPathsView = NonNullable<Awaited<ReturnType<Client["monitor"]["status"]>>["paths"]>;
type PathRow = RouterPathsView["paths"][number];

const usd = (x: number | null) => (x === null ? "–" : `$${Number(x.toPrecision(4))}`);

export function RouterPathsTable({ paths, label }: { paths: readonly PathRow[]; label: string }) {
  if (!paths.length) return <p className="small muted">No router request in the window.</p>;
  return (
    <Table
      label={label}
      head={["Path", "Tiers", "Requests", "Share", "Success", "Errors", "$/request", "$/success"]}
    >
      {paths.map((p) => (
        <tr key={p.path}>
          <td>
            <code>{p.path}</code>
          </td>
          <td className="small">{p.tiers.map((t) => `${t.name} → ${t.target ?? "?"}`).join(", ") || "–"}</td>
          <td>{p.requests.toLocaleString()}</td>
          <td>{pct(p.share)}</td>
          <td title={`${p.successes} of ${p.judged} judged`}>
            {pct(p.successRate)}{" "}
            <span className="muted small">
              ({p.successes}/{p.judged})
            </span>
          </td>
          <td>{p.errors.toLocaleString()}</td>
          <td>{usd(p.costPerRequestUsd)}</td>
          <td>{usd(p.costPerSuccessUsd)}</td>
        </tr>
      ))}
    </Table>
  );
}
