import { useSession } from "../api.tsx";
import { AuditAsOf } from "../components/audit-asof.tsx";
import { AuditChain } from "../components/audit-chain.tsx";
import { AuditLog } from "../components/audit-log.tsx";
import { Empty, PageHeader } from "../components/ui.tsx";
import "./inbox-audit.css";

/** The audit trail: the chain's verification, the filterable log, and a model's state at a past time. */
export function AuditPage() {
  const { can, me } = useSession();
  if (!can("audit:read"))
    return (
      <>
        <PageHeader title="Audit" sub="The append-only, hash-chained record of every change." />
        <Empty>
          <div className="ia-empty-title">The audit log is not available to your token.</div>
          <div>
            Reading it needs the audit:read permission, which your role{me.roles.length === 1 ? "" : "s"} (
            {me.roles.join(", ") || "none"}) do{me.roles.length === 1 ? "es" : ""} not grant. Viewers,
            engineering, approvers and admins hold it.
          </div>
        </Empty>
      </>
    );
  return (
    <>
      <PageHeader
        title="Audit"
        sub="Every change is an event in an append-only, hash-chained log: who did what, when, and why."
      />
      <AuditChain />
      <AuditAsOf />
      <AuditLog />
    </>
  );
}
