import { AppError } from "../../lib/errors.ts";
import type { Tx } from "../../store/db.ts";
import { describeSwitch, switchesCovering } from "../kill-switches/index.ts";

/** Whether a version has an approval in force (the approvals service's gate). */
export type ServableGate = (
  tx: Tx,
  versionId: string,
) => Promise<{ ok: boolean; unmet: { requirement: string; reason: string }[] }>;

/**
 * The gateway's serving rule, for anything that is about to send a version traffic (a
 * rollout, an experiment arm, a shadow): production and deprecated versions serve as they
 * are, any other needs an approval in force. Throws 412 naming what is unmet; `why` says what
 * would go wrong, `field` (when given) names the request field the problems belong to.
 */
export async function requireServable(
  gate: ServableGate | undefined,
  tx: Tx,
  v: { id: string; status?: string },
  label: string,
  why: string,
  field?: string,
): Promise<void> {
  if (!gate || v.status === "production" || v.status === "deprecated") return;
  const g = await gate(tx, v.id);
  if (g.ok) return;
  throw new AppError("precondition_failed", `${label} has no approval in force${why}`, {
    errors: g.unmet.map((u) =>
      field ? { field, reason: `${u.requirement}: ${u.reason}` } : { field: u.requirement, reason: u.reason },
    ),
  });
}

/**
 * A version a kill switch covers (its own or its provider's) gets no new rollout or experiment
 * arm: the controller or the watcher would stop it at the next tick. 412 naming the switch.
 */
export async function requireNotKilled(
  tx: Tx,
  v: { id: string },
  label: string,
  field: string,
): Promise<void> {
  const sw = (await switchesCovering(tx, [v.id])).get(v.id);
  if (!sw) return;
  const reason = `${label} is switched off by ${describeSwitch(sw)}; release it first`;
  throw new AppError("precondition_failed", reason, { errors: [{ field, reason }] });
}
