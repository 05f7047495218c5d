/**
 * A flag's history (GET /flags/{key}/history): every revision newest first, who made it and
 * when, the reason its audit event gives, and what it changed in words (flag-history.ts). Each
 * links to the flag as that revision left it (the page's as-of view).
 */
import { Link } from "react-router-dom";
import { useApi, useSession } from "../api.tsx";
import { type Change, flagDiff, reasonsByRevision, withBefore } from "../flag-history.ts";
import { Async, Badge, Time } from "./ui.tsx";

const TONES: Record<string, string> = {
  created: "ok",
  updated: "info",
  enabled: "ok",
  disabled: "warn",
  deleted: "bad",
};

function ChangeLine({ c }: { c: Change }) {
  return (
    <li className={`fl-change fl-${c.kind}`}>
      <span className="fl-field">{c.field}</span>{" "}
      {c.kind === "changed" ? (
        <>
          <del>{c.before}</del> → <ins>{c.after}</ins>
        </>
      ) : c.kind === "added" ? (
        <ins>{c.after}</ins>
      ) : (
        <del>{c.before}</del>
      )}
    </li>
  );
}

export function FlagHistory({ flagKey, asOfPath }: { flagKey: string; asOfPath: (at: string) => string }) {
  const { can } = useSession();
  const state = useApi(
    async (c) => {
      const [revisions, events] = await Promise.all([
        c.flags.history(flagKey),
        // The reasons are the audit's; a token without audit:read sees the history without them.
        can("audit:read")
          ? c.audit
              .events({ subjectType: "flag", subjectId: flagKey, limit: 1000 })
              .then((p) => p.items)
              .catch(() => [])
          : Promise.resolve([]),
      ]);
      return { revisions, reasons: reasonsByRevision(events) };
    },
    [flagKey],
  );
  return (
    <Async state={state} empty={(d) => (d.revisions.length ? null : "No revision yet.")}>
      {({ revisions, reasons }) => (
        <ol className="fl-history" aria-label="Flag history">
          {withBefore(revisions).map(({ rev, before }) => {
            const changes = flagDiff(before, rev.flag);
            const reason = reasons.get(rev.revision);
            return (
              <li key={rev.revision} data-testid="flag-revision">
                <div className="fl-rev-head">
                  <Badge tone={TONES[rev.change]}>{rev.change}</Badge>{" "}
                  <strong>revision {rev.revision}</strong> by {rev.actor}, <Time at={rev.at} />
                  {rev.flag && (
                    <>
                      {" "}
                      · <Link to={asOfPath(rev.at)}>the flag as it was then</Link>
                    </>
                  )}
                </div>
                {reason && <p className="small fl-reason">Reason: {reason}</p>}
                {changes.length ? (
                  <ul className="fl-changes">
                    {changes.map((c) => (
                      <ChangeLine key={`${c.field}-${c.kind}`} c={c} />
                    ))}
                  </ul>
                ) : (
                  <p className="small muted">No field changed.</p>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </Async>
  );
}
