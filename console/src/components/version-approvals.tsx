/**
 * A version's approval state: what the policy requires, every request with its status and
 * what is still unmet, each sign-off (who, role, decision, time, comment, evidence), and the
 * evidence attached to the version. Requesting is offered to roles that may request.
 */
import { useId, useState } from "react";
import { Link } from "react-router-dom";
import type { ApprovalRequestView, EvidenceView } from "../../../src/client/index.ts";
import { messageOf, useApi, useSession } from "../api.tsx";
import { Vouched } from "./inbox-evidence.tsx";
import { Async, Badge, Panel, Table, Time } from "./ui.tsx";

/** The requirements as the API answers them (the client's type omits the release gates). */
type Requirements = ApprovalRequestView["requirements"] & { gates?: string[]; gatesHash?: string | null };
/** Evidence as the API answers it: the client's type omits the run it came from. */
type Evidence = EvidenceView & { runId?: string | null };

const hash = (h: string) => (
  <span className="mono" title={h}>
    {h.replace(/^sha256:/, "").slice(0, 12)}…
  </span>
);

function EvidenceRef({ id, evidence }: { id: string; evidence: Evidence[] }) {
  const e = evidence.find((x) => x.id === id);
  if (!e)
    return (
      <span className="mono" title={id}>
        {id}
      </span>
    );
  return (
    <span title={`${e.uri} (${e.contentHash})`}>
      {e.kind}
      {e.passed !== null && <> {e.passed ? "✓" : "✗"}</>}
    </span>
  );
}

function RequestApproval({ model, version, onDone }: { model: string; version: string; onDone: () => void }) {
  const { client } = useSession();
  const [open, setOpen] = useState(false);
  const [summary, setSummary] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)} aria-expanded={false}>
        Request approval…
      </button>
    );
  return (
    <form
      className="form-stack"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await client.approvals.request(model, version, summary.trim());
          setOpen(false);
          setSummary("");
          onDone();
        } catch (err) {
          setError(messageOf(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <label htmlFor={`${id}-s`}>Summary (what is being approved and why)</label>
      <textarea id={`${id}-s`} value={summary} required onChange={(e) => setSummary(e.target.value)} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy || !summary.trim()}>
          {busy ? "Requesting…" : "Request approval"}
        </button>
        <button type="button" onClick={() => setOpen(false)} disabled={busy}>
          Cancel
        </button>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

function RequestCard({ r, evidence }: { r: ApprovalRequestView; evidence: Evidence[] }) {
  const { can } = useSession();
  const needed = Object.entries(r.requirements.roles);
  return (
    <article className="approval" aria-labelledby={`apr-${r.id}`}>
      <div className="approval-head">
        <div>
          <h3 id={`apr-${r.id}`}>{r.summary || <span className="muted">(no summary)</span>}</h3>
          <p className="meta muted small">
            <span className="mono">{r.id}</span> · requested by {r.requestedBy} <Time at={r.createdAt} />
            {r.decidedAt && (
              <>
                {" "}
                · decided <Time at={r.decidedAt} />
              </>
            )}
          </p>
        </div>
        <div className="chips">
          <span data-testid="approval-status" className={`badge badge-${toneOf(r.status)}`}>
            {r.status}
          </span>
          {r.inForce && <Badge tone="ok">in force</Badge>}
        </div>
      </div>
      {r.status === "voided" && (
        <p className="small">
          Voided <Time at={r.voidedAt} />: {r.voidReason}
        </p>
      )}
      <p className="small">
        <span className="muted">Needs:</span>{" "}
        {needed.map(([role, n]) => `${n} × ${role}`).join(", ") || "no sign-off"}
        {r.requirements.evidence.length > 0 && (
          <>
            {" "}
            <span className="muted">· evidence:</span> {r.requirements.evidence.join(", ")}
          </>
        )}
        {r.cardHash && (
          <>
            {" "}
            <span className="muted">· card</span> {hash(r.cardHash)}
          </>
        )}
      </p>
      {r.unmet.length > 0 && r.status === "pending" && (
        <>
          <p className="small">
            <strong>Still needed:</strong>
          </p>
          <ul className="unmet small">
            {r.unmet.map((u) => (
              <li key={u.requirement}>
                <code>{u.requirement}</code> {u.reason}
              </li>
            ))}
          </ul>
          {can("approvals:sign") && (
            <p className="small">
              <Link to="/inbox">Sign in the approval inbox</Link>
            </p>
          )}
        </>
      )}
      {r.evidence.length > 0 && (
        <p className="small">
          <span className="muted">Evidence pinned:</span>{" "}
          {r.evidence.map((e, i) => (
            <span key={e.id}>
              {i > 0 && ", "}
              <span title={e.contentHash}>
                {e.kind}
                {e.passed !== null && (e.passed ? " ✓" : " ✗")}
                {e.provenance &&
                  (e.provenance === "computed" ? " (computed)" : ` (attested by ${e.attachedBy})`)}
              </span>
            </span>
          ))}
        </p>
      )}
      {r.signoffs.length === 0 ? (
        <p className="muted small">No sign-off yet.</p>
      ) : (
        <Table
          label={`Sign-offs of ${r.id}`}
          head={["Signer", "Role", "Decision", "Signed", "Comment", "Evidence"]}
        >
          {r.signoffs.map((s) => (
            <tr key={s.id}>
              <td>{s.signer}</td>
              <td>{s.role}</td>
              <td>
                <Badge tone={s.decision === "approve" ? "ok" : "bad"}>
                  {s.decision === "approve" ? "approved" : "rejected"}
                </Badge>
              </td>
              <td>
                <Time at={s.signedAt} />
              </td>
              <td className="wide">{s.comment || <span className="muted">–</span>}</td>
              <td className="small">
                {s.evidenceRefs.length === 0 ? (
                  <span className="muted">–</span>
                ) : (
                  s.evidenceRefs.map((ref, i) => (
                    <span key={ref}>
                      {i > 0 && ", "}
                      <EvidenceRef id={ref} evidence={evidence} />
                    </span>
                  ))
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
    </article>
  );
}

const TONES: Record<string, string> = { approved: "ok", pending: "warn", rejected: "bad", voided: "neutral" };
const toneOf = (s: string) => TONES[s] ?? "neutral";

export function ApprovalsPanel({
  model,
  version,
  changes = 0,
}: {
  model: string;
  version: string;
  /** Bumped when something elsewhere on the page changed this version's evidence. */
  changes?: number;
}) {
  const { can } = useSession();
  const requests = useApi((c) => c.approvals.list({ model, version }), [model, version, changes]);
  const evidence = useApi(
    (c) => c.approvals.evidence(model, version) as Promise<Evidence[]>,
    [model, version, changes],
  );
  const reqs = useApi(
    (c) => c.approvals.requirements(model, version) as Promise<Requirements>,
    [model, version],
  );
  const reload = () => {
    requests.reload();
    evidence.reload();
  };
  const ev = evidence.data ?? [];
  return (
    <Panel
      title="Approvals"
      aside={can("approvals:request") && <RequestApproval model={model} version={version} onDone={reload} />}
    >
      {reqs.data && (
        <p className="small">
          <span className="muted">The policy ({reqs.data.rules.join(", ") || "no rule"}) requires:</span>{" "}
          {Object.entries(reqs.data.roles)
            .map(([role, n]) => `${n} × ${role} sign-off`)
            .join(", ") || "no sign-off"}
          {reqs.data.evidence.length > 0 && <> · evidence: {reqs.data.evidence.join(", ")}</>}
          {reqs.data.gates && reqs.data.gates.length > 0 && (
            <> · release gates: {reqs.data.gates.join(", ")}</>
          )}
          {" · "}sign-offs valid {reqs.data.signoffTtlDays} days
          {reqs.data.allowSameSignerForMultipleRoles ? "" : " · one role per signer"}
        </p>
      )}
      <Async
        state={requests}
        empty={(d) =>
          d.length === 0
            ? `No approval requested yet: modelgov approvals request ${model} ${version} -s "…"`
            : null
        }
      >
        {(d) => (
          <div>
            {d.map((r) => (
              <RequestCard key={r.id} r={r} evidence={ev} />
            ))}
          </div>
        )}
      </Async>
      <p className="subhead">Evidence attached to this version</p>
      <Async state={evidence} empty={(d) => (d.length === 0 ? "No evidence attached yet." : null)}>
        {(d) => (
          <Table label="Evidence" head={["Kind", "Result", "Vouched by", "Summary", "Attached", "Reference"]}>
            {d.map((e) => (
              <tr key={e.id}>
                <td>{e.kind}</td>
                <td>
                  {e.passed === null ? (
                    <span className="muted">–</span>
                  ) : (
                    <Badge>{e.passed ? "passed" : "failed"}</Badge>
                  )}
                </td>
                <td>
                  <Vouched e={e} />
                </td>
                <td className="wide">{e.summary || <span className="muted">–</span>}</td>
                <td>
                  {e.attachedBy}
                  <div className="small muted">
                    <Time at={e.attachedAt} />
                  </div>
                </td>
                <td className="small">
                  {e.runId ? (
                    <Link to={{ search: `?run=${encodeURIComponent(e.runId)}` }} preventScrollReset>
                      run {e.runId.slice(0, 12)}…
                    </Link>
                  ) : (
                    <span className="mono">{e.uri}</span>
                  )}
                  <div>{hash(e.contentHash)}</div>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Async>
    </Panel>
  );
}
