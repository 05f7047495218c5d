/**
 * A model's earlier rollouts and how each ended, read from the audit trail (the rollout API
 * answers with the active or last rollout only). Needs audit:read; without it nothing shows.
 */
import { Link } from "react-router-dom";
import { useApi, useSession } from "../api.tsx";
import { Badge, ErrorBox, Table, Time } from "./ui.tsx";

const ENDINGS = ["rollout.promote", "rollout.rollback", "rollout.abort"] as const;
/** The status each ending leaves the rollout in. */
const OUTCOME: Record<string, string> = { promote: "promoted", rollback: "rolled_back", abort: "aborted" };

interface Ending {
  id: string;
  at: string;
  actor: string;
  decision: string;
  rollout: string;
  candidate: string;
  baseline: string;
  reasons: string[];
}

export function RolloutHistory({
  model,
  current,
  status,
}: {
  model: string;
  current: string;
  status: string;
}) {
  const { can } = useSession();
  const allowed = can("audit:read");
  const history = useApi(
    async (c) => {
      if (!allowed) return [];
      const { id } = await c.models.get(model);
      const pages = await Promise.all(
        ENDINGS.map((action) =>
          c.audit.events({ subjectType: "model", subjectId: id, action, order: "desc", limit: 20 }),
        ),
      );
      return pages
        .flatMap((p) => p.items)
        .map((e): Ending => {
          const after = (e.after ?? {}) as Partial<Record<string, unknown>>;
          return {
            id: e.id,
            at: e.at,
            actor: e.actor,
            decision: e.action.replace("rollout.", ""),
            rollout: String(after.rollout ?? ""),
            candidate: String(after.candidate ?? "?"),
            baseline: String(after.baseline ?? "?"),
            reasons: Array.isArray(after.reasons) ? after.reasons.map(String) : [e.reason],
          };
        })
        .filter((e) => e.rollout !== current)
        .sort((a, b) => b.at.localeCompare(a.at))
        .slice(0, 20);
    },
    // A rollout that ends or a new one that starts changes what "earlier" means.
    [model, current, status, allowed],
  );
  if (!allowed) return null;
  if (history.error && !history.data) return <ErrorBox error={history.error} retry={history.reload} />;
  if (!history.data || history.data.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="earlier-rollouts">
      <div className="panel-head">
        <h2 id="earlier-rollouts">Earlier rollouts</h2>
        <Link to="/audit" className="small">
          Audit trail
        </Link>
      </div>
      <Table label="Earlier rollouts" head={["Ended", "Candidate", "Baseline", "Outcome", "Why", "By"]}>
        {history.data.map((e) => (
          <tr key={e.id}>
            <td>
              <Time at={e.at} />
            </td>
            <td>{e.candidate}</td>
            <td>{e.baseline}</td>
            <td>
              <Badge>{OUTCOME[e.decision] ?? e.decision}</Badge>
            </td>
            <td className="small re-why">
              {e.reasons.map((r, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the reasons in the order the API gave them
                <p key={i}>{r}</p>
              ))}
            </td>
            <td>{e.actor}</td>
          </tr>
        ))}
      </Table>
    </section>
  );
}
