/**
 * A rollout's decisions, newest first: what was decided, the weight it set, and the reasons in the
 * API's words. A run of holds (analyses that changed nothing) is one row that opens onto each of
 * them; promotions, rollbacks, pauses and step changes are always rows of their own.
 */
import { type DecisionRow, groupDecisions, verdictOf } from "../decision-groups.ts";
import { formatSpan } from "../time.ts";
import {
  Clock,
  fastPathAnalysis,
  fmt,
  judgeAnalysis,
  METRIC_LABELS,
  type Rollout,
  type RolloutDecision,
  TONES,
} from "./rollout-kit.tsx";
import { Badge } from "./ui.tsx";

export function DecisionList({ rollout }: { rollout: Rollout }) {
  const rows = groupDecisions(rollout.decisions);
  return (
    <ol aria-label="Decisions" className="re-decisions">
      {rows.map((row) =>
        row.kind === "one" ? (
          <Decision key={keyOf(row.decision)} d={row.decision} />
        ) : (
          <Holds key={keyOf(row.decisions[0]!)} row={row} />
        ),
      )}
    </ol>
  );
}

const keyOf = (d: RolloutDecision) => `${d.at}-${d.decision}-${d.stepIndex}`;

function Decision({ d }: { d: RolloutDecision }) {
  const analysis = judgeAnalysis(d.analysis);
  const fast = fastPathAnalysis(d.analysis);
  return (
    <li className={`re-decision tone-${TONES[d.decision] ?? "neutral"}`}>
      <div className="re-decision-head">
        <Badge tone={TONES[d.decision]}>{d.decision}</Badge>
        <Clock at={d.at} />
        <span className="muted small">
          step {d.stepIndex + 1} · weight {d.weightBefore}% → {d.weightAfter}% · by {d.actor}
        </span>
        {analysis && (
          <span className="small">
            verdict <Badge tone={TONES[analysis.verdict]}>{analysis.verdict}</Badge>
          </span>
        )}
      </div>
      <ul className="re-reasons">
        {d.reasons.map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the API's reasons in order; two may read alike
          <li key={i}>{r}</li>
        ))}
      </ul>
      {fast && (
        <p className="small muted">
          Fast path: {fast.errors} errors in {fast.requests} requests over the last{" "}
          {fmt.duration(fast.windowMs)} (error rate {fmt.pct(fast.errorRate, 2)}).
        </p>
      )}
      {analysis && analysis.metrics.length > 0 && (
        <details className="re-details">
          <summary>Each metric's judgement ({analysis.metrics.length})</summary>
          <ul className="re-metric-reasons">
            {analysis.metrics.map((m) => (
              <li key={m.metric}>
                <Badge tone={TONES[m.status]}>{m.status}</Badge>{" "}
                <strong>{METRIC_LABELS[m.metric] ?? m.metric}</strong>: {m.reason}
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

/** A run of holds: how many, over what span, and the newest one's reasons; each of them on demand. */
function Holds({ row }: { row: Extract<DecisionRow<RolloutDecision>, { kind: "holds" }> }) {
  const newest = row.decisions[0]!;
  const verdict = verdictOf(newest);
  const n = row.decisions.length;
  return (
    <li className="re-decision re-holds tone-neutral">
      <div className="re-decision-head">
        <Badge tone={TONES.hold}>{`hold × ${n}`}</Badge>
        <time dateTime={row.from} title={`${row.from} to ${row.to}`}>
          {formatSpan(row.from, row.to)}
        </time>
        <span className="muted small">
          step {newest.stepIndex + 1} · weight {newest.weightAfter}% · by {newest.actor}
        </span>
        {verdict && (
          <span className="small">
            verdict <Badge tone={TONES[verdict]}>{verdict}</Badge>
          </span>
        )}
      </div>
      {newest.reasons[0] && (
        <p className="small re-holds-latest">
          <span className="muted">Latest: </span>
          {newest.reasons[0]}
        </p>
      )}
      <details className="re-details">
        <summary>Each of the {n} holds</summary>
        <ol className="re-hold-list">
          {row.decisions.map((d) => (
            <li key={keyOf(d)}>
              <Clock at={d.at} /> <span className="small">{d.reasons.join(" · ")}</span>
            </li>
          ))}
        </ol>
      </details>
    </li>
  );
}
