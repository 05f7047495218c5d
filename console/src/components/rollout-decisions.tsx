/** A rollout's decisions, newest first: what was decided, the weight it set, and the reasons in the API's words. */
import { useState } from "react";
import {
  Clock,
  fastPathAnalysis,
  fmt,
  judgeAnalysis,
  METRIC_LABELS,
  type Rollout,
  TONES,
} from "./rollout-kit.tsx";
import { Badge } from "./ui.tsx";

export function DecisionList({ rollout }: { rollout: Rollout }) {
  const [hideHolds, setHideHolds] = useState(false);
  const holds = rollout.decisions.filter((d) => d.decision === "hold").length;
  const shown = hideHolds ? rollout.decisions.filter((d) => d.decision !== "hold") : rollout.decisions;
  return (
    <>
      {holds > 0 && (
        <label className="re-check">
          <input type="checkbox" checked={hideHolds} onChange={(e) => setHideHolds(e.target.checked)} />
          Hide the {holds} hold{holds === 1 ? "" : "s"} (analyses that changed nothing)
        </label>
      )}
      <ol aria-label="Decisions" className="re-decisions">
        {shown.map((d) => {
          const analysis = judgeAnalysis(d.analysis);
          const fast = fastPathAnalysis(d.analysis);
          return (
            <li
              key={`${d.at}-${d.decision}-${d.stepIndex}`}
              className={`re-decision tone-${TONES[d.decision] ?? "neutral"}`}
            >
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
        })}
      </ol>
    </>
  );
}
