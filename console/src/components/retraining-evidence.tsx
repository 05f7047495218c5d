/**
 * A retraining task's evidence: each report of a rule that fired (or kept breaching), newest
 * first, with its summary and every window it looked at: value, baseline, threshold, n and p,
 * as the monitor sent them.
 */
import { type EvidenceEntry, evidenceUnit, metricTitle, testOf, windowsOf } from "../retraining.ts";
import { formatValue } from "./monitor-charts.tsx";
import { fmt } from "./rollout-kit.tsx";
import { Badge, Panel, Table, Time } from "./ui.tsx";

function EvidenceItem({ e }: { e: EvidenceEntry }) {
  const kind = e.evidence.kind;
  const unit = evidenceUnit(e.metric, kind);
  const windows = windowsOf(e.evidence);
  const breached = windows.filter((w) => w.breached).length;
  const test = testOf(e.evidence);
  const summary = typeof e.evidence.summary === "string" ? e.evidence.summary : null;
  const words = typeof e.evidence.text === "string" ? e.evidence.text : null;
  return (
    <li className="rt-evidence" data-testid="retraining-evidence">
      <div className="rt-item-head">
        <strong>{metricTitle(e.metric, kind)}</strong> <span className="muted small">on {e.version}</span>{" "}
        <Badge
          tone={breached ? "bad" : "neutral"}
        >{`${breached} of ${windows.length} windows breached`}</Badge>
      </div>
      {summary && <p className="rt-summary">{summary}</p>}
      <p className="small muted rt-meta">
        Rule <code>{e.rule}</code>
        {words && <> ({words})</>}
        {test && <> · test: {test}</>} · reported by {e.addedBy}, <Time at={e.addedAt} />
      </p>
      <Table
        label={`Windows of ${e.rule}, reported ${e.addedAt}`}
        head={["Window", "", "Value", "Baseline", "Threshold", "n", "p", "Reason"]}
      >
        {[...windows].reverse().map((w) => (
          <tr key={`${w.from}-${w.to}`}>
            <td className="re-nowrap small">
              <Time at={w.from} />
              <div className="muted">
                to <Time at={w.to} />
              </div>
            </td>
            <td>
              <Badge tone={w.breached ? "bad" : "ok"}>{w.breached ? "breached" : "held"}</Badge>
            </td>
            <td className="num">{formatValue(unit, w.value)}</td>
            <td className="num">{formatValue(unit, w.baseline)}</td>
            <td className="num">{formatValue(unit, w.threshold)}</td>
            <td className="num">{fmt.num(w.n, 0)}</td>
            <td className="num re-nowrap">{fmt.p(w.p)}</td>
            <td className="small mo-reason">{w.reason ?? ""}</td>
          </tr>
        ))}
      </Table>
    </li>
  );
}

export function EvidencePanel({ evidence, count }: { evidence: EvidenceEntry[]; count: number }) {
  return (
    <Panel
      title="Evidence"
      aside={
        <span className="small muted">
          {count > evidence.length ? `the latest ${evidence.length} of ${count}` : `${count}`} report
          {count === 1 ? "" : "s"}
        </span>
      }
    >
      {evidence.length === 0 ? (
        <p className="muted">No evidence recorded.</p>
      ) : (
        <ul className="rt-list" aria-label="Evidence">
          {[...evidence].reverse().map((e) => (
            <EvidenceItem key={e.id} e={e} />
          ))}
        </ul>
      )}
    </Panel>
  );
}
