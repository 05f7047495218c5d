/**
 * One pending approval request in the inbox: what it needs, who signed, its evidence and card
 * a click away, and the sign-off form (role, comment, approve or reject).
 */
import { type ReactNode, useId, useState } from "react";
import { ApiError, type ApprovalRequestView, type Client } from "../../../src/client/index.ts";
import { messageOf, useSession } from "../api.tsx";
import { InboxCard, InboxEvidence, Vouched, verdict } from "./inbox-evidence.tsx";
import { Field } from "./inbox-field.tsx";
import { Badge, Time, VersionLink } from "./ui.tsx";

export type InboxItem = Awaited<ReturnType<Client["approvals"]["inbox"]>>[number];
export type Decision = "approve" | "reject";

/** The API's refusal in words: what kind of refusal, then its own sentence with the fields. */
export function refusal(err: unknown): string {
  const msg = messageOf(err);
  if (!(err instanceof ApiError)) return msg;
  if (err.status === 403) return `You may not sign this request: ${msg}`;
  if (err.status === 409) return `The request changed since it was loaded: ${msg}`;
  if (err.status === 412) return `A requirement is not met yet: ${msg}`;
  if (err.status === 400 || err.status === 422) return `The sign-off was not accepted: ${msg}`;
  return msg;
}

/** A lazily loaded disclosure: its content mounts (and loads) when first opened. */
function Disclosure({ summary, children }: { summary: string; children: () => ReactNode }) {
  const [opened, setOpened] = useState(false);
  return (
    <details className="ia-details" onToggle={(e) => e.currentTarget.open && setOpened(true)}>
      <summary>{summary}</summary>
      {opened && <div className="ia-details-body">{children()}</div>}
    </details>
  );
}

export function InboxRequest({
  req,
  onSigned,
  onStale,
}: {
  req: InboxItem;
  onSigned: (answer: ApprovalRequestView, role: string, decision: Decision) => void;
  /** The list is out of date (the request was decided or changed elsewhere). */
  onStale: () => void;
}) {
  const { client } = useSession();
  const ids = useId();
  const [role, setRole] = useState(req.canSignAs[0] ?? "");
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState<Decision | null>(null);
  const [error, setError] = useState<{ text: string; stale: boolean } | null>(null);
  const name = `${req.model}@${req.version}`;

  const sign = async (decision: Decision) => {
    if (busy || !role) return;
    setBusy(decision);
    setError(null);
    try {
      const answer = await client.approvals.sign(req.id, { role, decision, comment: comment.trim() });
      onSigned(answer, role, decision);
    } catch (err) {
      setError({ text: refusal(err), stale: err instanceof ApiError && err.status === 409 });
    } finally {
      setBusy(null);
    }
  };

  const roles = Object.entries(req.requirements.roles);
  return (
    <article className="panel ia-request" aria-label={`Approval request ${name}`}>
      <header className="ia-request-head">
        <h2>
          <VersionLink model={req.model} version={req.version} />
        </h2>
        <Badge>{req.status}</Badge>
        {req.inForce && <Badge tone="ok">in force</Badge>}
      </header>
      <p className="muted small ia-meta">
        Requested by <strong>{req.requestedBy}</strong> · <Time at={req.createdAt} /> · <code>{req.id}</code>
      </p>
      {req.summary && <p className="ia-text">{req.summary}</p>}
      {req.evidenceRefs.length > 0 && (
        <p className="small">
          <span className="muted">References: </span>
          {req.evidenceRefs.map((r, i) => (
            <span key={r}>
              {i > 0 && ", "}
              {/^https?:\/\//i.test(r) ? (
                <a href={r} target="_blank" rel="noreferrer noopener">
                  {r}
                </a>
              ) : (
                <code>{r}</code>
              )}
            </span>
          ))}
        </p>
      )}

      <div className="ia-columns">
        <section aria-labelledby={`${ids}-needs`}>
          <h3 id={`${ids}-needs`}>What it needs</h3>
          <ul className="ia-plain">
            {roles.map(([r, n]) => (
              <li key={r}>
                {n} × <strong>{r}</strong> sign-off
                {req.canSignAs.includes(r) && (
                  <>
                    {" "}
                    <Badge tone="info">you can sign</Badge>
                  </>
                )}
              </li>
            ))}
            {req.requirements.evidence.map((k) => (
              <li key={`e-${k}`}>
                <strong>{k}</strong> evidence
              </li>
            ))}
          </ul>
          <p className="muted small">
            Rules: {req.requirements.rules.join(", ") || "–"} · sign-offs stay valid{" "}
            {req.requirements.signoffTtlDays} days
            {req.requirements.allowSameSignerForMultipleRoles ? "" : " · one person signs for one role only"}
          </p>
          {req.unmet.length > 0 && (
            <>
              <h4 className="ia-sub">Still unmet</h4>
              <ul className="ia-plain ia-unmet">
                {req.unmet.map((u) => (
                  <li key={u.requirement}>
                    <code>{u.requirement}</code> {u.reason}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section aria-labelledby={`${ids}-signed`}>
          <h3 id={`${ids}-signed`}>Sign-offs so far</h3>
          {req.signoffs.length === 0 ? (
            <p className="muted small">None yet.</p>
          ) : (
            <ul className="ia-plain">
              {req.signoffs.map((s) => (
                <li key={s.id}>
                  <Badge tone={s.decision === "approve" ? "ok" : "bad"}>{s.decision}</Badge>{" "}
                  <strong>{s.signer}</strong> as {s.role}, <Time at={s.signedAt} />
                  {s.comment && <div className="muted small ia-quote">“{s.comment}”</div>}
                </li>
              ))}
            </ul>
          )}
          <h4 className="ia-sub">Evidence bound to the request</h4>
          {req.evidence.length === 0 && !req.cardHash ? (
            <p className="muted small">None.</p>
          ) : (
            <ul className="ia-plain small">
              {req.cardHash && (
                <li>
                  card{" "}
                  <code className="ia-hash" title={req.cardHash}>
                    {req.cardHash.slice(0, 19)}…
                  </code>
                </li>
              )}
              {req.evidence.map((e) => {
                const v = verdict(e.passed);
                return (
                  <li key={e.id}>
                    {e.kind} <Badge tone={v.tone}>{v.text}</Badge>{" "}
                    {e.provenance && (
                      <>
                        <Vouched e={{ provenance: e.provenance, attachedBy: e.attachedBy ?? "" }} />{" "}
                      </>
                    )}
                    <code className="ia-hash" title={e.contentHash}>
                      {e.contentHash.slice(0, 19)}…
                    </code>
                  </li>
                );
              })}
            </ul>
          )}
        </section>
      </div>

      <Disclosure summary="Evidence reports">
        {() => (
          <InboxEvidence model={req.model} version={req.version} bound={req.evidence.map((e) => e.id)} />
        )}
      </Disclosure>
      <Disclosure summary="Model card">
        {() => <InboxCard model={req.model} version={req.version} cardHash={req.cardHash} />}
      </Disclosure>

      <form
        className="ia-sign"
        aria-busy={busy !== null}
        aria-label={`Sign ${name}`}
        onSubmit={(e) => e.preventDefault()}
      >
        <div className="ia-sign-fields">
          <Field label="Sign as">
            {(id) => (
              <select id={id} value={role} onChange={(e) => setRole(e.target.value)}>
                {req.canSignAs.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Comment" className="ia-grow">
            {(id) => (
              <textarea
                id={id}
                value={comment}
                maxLength={5000}
                aria-describedby={`${ids}-hint`}
                onChange={(e) => setComment(e.target.value)}
              />
            )}
          </Field>
        </div>
        <p id={`${ids}-hint`} className="muted small ia-hint">
          Your name, role, decision, comment and the time go into the audit log. A rejection ends the request.
        </p>
        {error && (
          <div className="state error" role="alert">
            {error.text}{" "}
            {error.stale && (
              <button type="button" className="link" onClick={onStale}>
                Refresh the list
              </button>
            )}
          </div>
        )}
        <div className="actions">
          <button
            type="button"
            className="primary"
            aria-disabled={busy !== null || !role}
            onClick={() => void sign("approve")}
          >
            Approve
          </button>
          <button
            type="button"
            className="danger"
            aria-disabled={busy !== null || !role}
            onClick={() => void sign("reject")}
          >
            Reject
          </button>
          {busy && (
            <span className="muted small ia-busy">{busy === "approve" ? "Approving…" : "Rejecting…"}</span>
          )}
        </div>
      </form>
    </article>
  );
}
