import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import type { Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import type { RouteConfigService } from "../gateway/index.ts";
import type { RegistryService } from "../registry/index.ts";
import type { RolloutRow } from "./rollouts.store.ts";

/**
 * What every rollout change does inside its transaction, whoever decides it (an operator or
 * the controller): move traffic, record the decision with its audit event, end the rollout.
 */
export function createRolloutMoves({
  clock,
  routes,
  registry,
}: {
  clock: Clock;
  routes: RouteConfigService;
  registry: RegistryService;
}) {
  /**
   * Canary: the candidate's share of served traffic (the gateway's split); 0 clears the split
   * (all to production). Blue-green: the share of traffic mirrored to the candidate (shadow);
   * 0 stops the mirroring. Either way in the caller's transaction, with the route's audit event.
   */
  async function setWeight(tx: Tx, ctx: RequestContext, r: RolloutRow, weight: number) {
    const cfg = await routes.getIn(tx, r.model);
    if (r.mode === "blue_green") {
      const shadow = weight > 0 ? { version: r.candidate, share: Math.min(100, weight) } : null;
      await routes.set(ctx, r.model, { ...cfg, shadow, split: null }, tx);
      return;
    }
    const split =
      weight <= 0
        ? null
        : [
            { version: r.baseline, weight: Math.max(0, Math.round((100 - weight) * 1000) / 1000) },
            { version: r.candidate, weight },
          ];
    await routes.set(ctx, r.model, { ...cfg, split }, tx);
  }

  async function record(
    tx: Tx,
    ctx: RequestContext,
    r: RolloutRow,
    decision: string,
    weightAfter: number,
    reasons: string[],
    analysis: unknown = null,
  ) {
    const at = clock.now();
    await tx.query(
      `INSERT INTO rollout_decisions (rollout_id, at, decision, step_index, weight_before, weight_after, reasons, analysis, actor)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        r.id,
        at.toISOString(),
        decision,
        r.stepIndex,
        r.weight,
        weightAfter,
        JSON.stringify(reasons),
        analysis === null ? null : JSON.stringify(analysis),
        ctx.actor,
      ],
    );
    await tx.query("UPDATE rollouts SET last_decision = $2 WHERE id = $1", [
      r.id,
      JSON.stringify({ at: at.toISOString(), decision, weight: weightAfter, reasons }),
    ]);
    await recordAudit(tx, ctx, at, {
      action: `rollout.${decision}`,
      subjectType: "model",
      subjectId: r.modelId,
      before: { rollout: r.id, step: r.stepIndex, weight: r.weight, status: r.status },
      after: {
        rollout: r.id,
        candidate: r.candidate,
        baseline: r.baseline,
        weight: weightAfter,
        reasons,
        analysis,
      },
      reason: reasons[0] ?? decision,
    });
  }

  /** Ends a rollout: the split is cleared (all traffic to production) and the status set. */
  async function end(
    tx: Tx,
    ctx: RequestContext,
    r: RolloutRow,
    status: "rolled_back" | "aborted" | "promoted",
    decision: string,
    reasons: string[],
    analysis: unknown = null,
  ) {
    if (status === "promoted")
      await registry.setAliasIn(tx, ctx, r.model, "production", r.candidate, `rollout ${r.id} promoted`);
    await setWeight(tx, ctx, r, 0);
    await tx.query(
      "UPDATE rollouts SET status = $2, ended_at = $3, weight = $4, paused_reason = NULL WHERE id = $1",
      [r.id, status, clock.now().toISOString(), status === "promoted" ? 100 : 0],
    );
    await record(tx, ctx, r, decision, status === "promoted" ? 100 : 0, reasons, analysis);
  }

  return { setWeight, record, end };
}
export type RolloutMoves = ReturnType<typeof createRolloutMoves>;
