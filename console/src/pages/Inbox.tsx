import { useEffect, useRef, useState } from "react";
import type { ApprovalRequestView } from "../../../src/client/index.ts";
import { useApi, useSession } from "../api.tsx";
import { type Decision, InboxRequest } from "../components/inbox-request.tsx";
import { Async, Empty, PageHeader, VersionLink } from "../components/ui.tsx";
import "./inbox-audit.css";

const NON_SIGNING = new Set(["viewer", "agent"]);

interface Outcome {
  key: string;
  answer: ApprovalRequestView;
  role: string;
  decision: Decision;
}

/** What the API answered to a sign-off, in words: its status, whether it is in force, what is unmet. */
function OutcomeText({ o }: { o: Outcome }) {
  const { answer: a, role, decision } = o;
  const name = <VersionLink model={a.model} version={a.version} />;
  const unmet = a.unmet.map((u) => u.reason).join("; ");
  if (a.status === "approved")
    return (
      <>
        <strong>{name} is approved.</strong> Your {role} sign-off completed the request.{" "}
        {a.inForce
          ? "It is in force: the version may now go to production."
          : `It is not in force${unmet ? `: ${unmet}` : ""}.`}
      </>
    );
  if (a.status === "rejected")
    return (
      <>
        <strong>{name} is rejected.</strong> Your {role} rejection is recorded; a new approval request is
        needed.
      </>
    );
  if (a.status === "voided")
    return (
      <>
        <strong>{name} was voided</strong>
        {a.voidReason ? `: ${a.voidReason}` : "."}
      </>
    );
  return (
    <>
      <strong>You signed {name}</strong> as {role} ({decision}). The request is still {a.status}
      {unmet ? `; it needs: ${unmet}.` : "."}
    </>
  );
}

/** The approval inbox: the pending requests the caller's roles can sign now (the API decides which). */
export function InboxPage() {
  const { can, me } = useSession();
  const signing = me.roles.filter((r) => !NON_SIGNING.has(r));
  if (!can("approvals:sign"))
    return (
      <>
        <PageHeader title="Approval inbox" sub="Pending approval requests you can sign." />
        <Empty>
          <div className="ia-empty-title">Nothing waits for your sign-off: you hold no signing role.</div>
          <div>
            Your token has the role{me.roles.length === 1 ? "" : "s"} {me.roles.join(", ") || "none"}, which
            cannot sign approvals. Sign-offs come from the roles an approval policy names (engineering,
            compliance, security, product…); ask an admin for a token with one of them.
          </div>
        </Empty>
      </>
    );
  return <SignerInbox roles={signing} />;
}

function SignerInbox({ roles }: { roles: string[] }) {
  const inbox = useApi((c) => c.approvals.inbox(), [], 30_000);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  // The signed request leaves the list, and the focus with it: it goes to the API's answer instead.
  const newest = useRef<HTMLDivElement>(null);
  const newestKey = outcomes[0]?.key;
  useEffect(() => {
    if (newestKey) newest.current?.focus();
  }, [newestKey]);
  const signed = (answer: ApprovalRequestView, role: string, decision: Decision) => {
    setOutcomes((os) => [{ key: `${answer.id}-${Date.now()}`, answer, role, decision }, ...os].slice(0, 5));
    inbox.reload();
  };
  return (
    <>
      <PageHeader
        title="Approval inbox"
        sub={`Pending requests your roles${roles.length ? ` (${roles.join(", ")})` : ""} can sign now.`}
        actions={
          <button type="button" onClick={inbox.reload} disabled={inbox.loading}>
            Refresh
          </button>
        }
      />
      <div role="status" aria-live="polite" className="ia-outcomes">
        {outcomes.map((o, i) => (
          <div
            key={o.key}
            ref={i === 0 ? newest : undefined}
            tabIndex={-1}
            className={`ia-outcome ia-outcome-${o.answer.status === "approved" ? "ok" : o.answer.status === "pending" ? "info" : "bad"}`}
          >
            <p>
              <OutcomeText o={o} />
            </p>
            <button
              type="button"
              className="link"
              onClick={() => setOutcomes((os) => os.filter((x) => x.key !== o.key))}
            >
              Dismiss
            </button>
          </div>
        ))}
      </div>
      <Async
        state={inbox}
        empty={(d) =>
          d.length === 0 ? (
            <>
              <div className="ia-empty-title">Nothing waits for your sign-off.</div>
              <div>Requests appear here when a version needs a sign-off from one of your roles.</div>
            </>
          ) : null
        }
      >
        {(d) => (
          <div className="ia-requests">
            {d.map((r) => (
              <InboxRequest key={r.id} req={r} onSigned={signed} onStale={inbox.reload} />
            ))}
          </div>
        )}
      </Async>
    </>
  );
}
