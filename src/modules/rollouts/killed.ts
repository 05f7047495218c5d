import type { RequestContext } from "../../http/context.ts";
import type { Tx } from "../../store/db.ts";
import { describeSwitch, type KillSwitch, switchesCovering } from "../kill-switches/index.ts";
import type { RolloutMoves } from "./rollout-moves.ts";
import type { RolloutRow } from "./rollouts.store.ts";

export type KillOutcome =
  | { action: "rollback"; killSwitch: KillSwitch; reason: string }
  | { action: "pause"; killSwitch: KillSwitch; reason: string };

const switchOf = (sw: KillSwitch) => ({
  id: sw.id,
  scope: sw.scope,
  target: sw.target,
  reason: sw.reason,
  engagedBy: sw.engagedBy,
  engagedAt: sw.engagedAt,
});

/**
 * What a kill switch does to an active rollout (docs/rollouts.md, Kill switches), in the
 * caller's transaction with the rollout's row locked:
 * - the candidate switched off (its own switch or its provider's): rolled back, the decision
 *   naming the switch. Its arm serves nothing until the switch is released, so no analysis
 *   could ever judge it, and an incident's switch must not leave a split waiting on it;
 * - the baseline (production) switched off: a running rollout is paused, once per switch. Its
 *   subjects go to the fallback chain, so the step compares the candidate with whatever
 *   serves there; rolling back would send everyone to the switched-off production, and
 *   promoting is a person's call (`rollout promote --full` if the candidate is the way out).
 * A rollout the operator resumed under the same switch is left to them.
 */
export async function applyKills(
  tx: Tx,
  ctx: RequestContext,
  r: RolloutRow,
  moves: Pick<RolloutMoves, "end" | "record">,
): Promise<KillOutcome | null> {
  const covering = await switchesCovering(tx, [r.candidateVersionId, r.baselineVersionId]);
  const candidate = covering.get(r.candidateVersionId);
  if (candidate) {
    const reason = `${r.model}@${r.candidate} is switched off by ${describeSwitch(candidate)}: the rollout is rolled back`;
    await moves.end(tx, ctx, r, "rolled_back", "rollback", [reason], { killSwitch: switchOf(candidate) });
    return { action: "rollback", killSwitch: candidate, reason };
  }
  const baseline = covering.get(r.baselineVersionId);
  if (!baseline || r.status !== "running") return null;
  const seen = await tx.query(
    "SELECT 1 FROM rollout_decisions WHERE rollout_id = $1 AND analysis->'killSwitch'->>'id' = $2 LIMIT 1",
    [r.id, baseline.id],
  );
  if (seen.length) return null;
  const reason = `the baseline ${r.model}@${r.baseline} is switched off by ${describeSwitch(baseline)}: the rollout is paused (its subjects go to the fallback chain, so the step no longer compares against production); resume once it is released, or promote --full`;
  await tx.query("UPDATE rollouts SET status = 'paused', paused_reason = $2 WHERE id = $1", [r.id, reason]);
  await moves.record(tx, ctx, r, "pause", r.weight, [reason], { killSwitch: switchOf(baseline) });
  return { action: "pause", killSwitch: baseline, reason };
}
