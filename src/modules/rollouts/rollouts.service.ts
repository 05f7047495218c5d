import { BUILT_IN_PLANS, fastPath, validatePlan } from "../../engines/rollout/index.ts";
import type { Decision, FastPathResult, Judgement, Plan } from "../../engines/rollout/types.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Tx } from "../../store/db.ts";
import type { RouteConfigService } from "../gateway/index.ts";
import { lockModel, modelIdByName, type RegistryService, versionStatuses } from "../registry/index.ts";
import { errorCounts, mirrorWindow } from "../request-log/index.ts";
import type { TrafficSync } from "../traffic/index.ts";
import { applyKills } from "./killed.ts";
import { createRolloutMoves } from "./rollout-moves.ts";
import {
  activeRollout,
  activeRollouts,
  type DecisionRow,
  decisionsOf,
  type RolloutRow,
  rolloutById,
  rolloutsOf,
} from "./rollouts.store.ts";
import { requireNotKilled, requireServable, type ServableGate } from "./serving.ts";
import { analyseStep } from "./step-analysis.ts";
import { rolloutVerdict } from "./verdict.ts";

export interface RolloutView extends Omit<RolloutRow, "plan"> {
  plan: Plan;
  decisions: DecisionRow[];
  /** The model's cluster route, when its versions are containers: whether it carries these weights yet. */
  cluster: TrafficSync | null;
}

export interface RolloutDeps {
  db: Db;
  clock: Clock;
  routes: RouteConfigService;
  registry: RegistryService;
  /** Whether a version may serve outside production (an approval in force); the gateway refuses it otherwise. */
  servable?: ServableGate;
  /** Named plans from modelgov.yaml (`rollouts:`), beside the built-in default and demo. */
  plans?: () => Promise<Record<string, Plan>>;
  /** The sync state of the model's traffic target (containerised models), shown with the rollout. */
  clusterSync?: (q: Db, modelId: string) => Promise<TrafficSync | null>;
}

/**
 * Canary rollouts: start, watch, pause, resume, promote, abort and roll back, plus the
 * analysis the controller runs at each interval. The candidate's weight is the gateway's
 * split in the model's route config, changed in the same transaction as the rollout's own
 * state and its audit event, so every replica follows within a second (NOTIFY).
 */
export function createRolloutsService(deps: RolloutDeps) {
  const { db, clock, routes, registry } = deps;

  async function modelRow(q: Tx | Db, name: string) {
    const id = await modelIdByName(q, name);
    if (!id) throw notFound(`model '${name}'`);
    return id;
  }

  async function resolvePlan(plan: string | Plan | undefined): Promise<Plan> {
    if (plan && typeof plan === "object") {
      const problems = validatePlan(plan);
      if (problems.length)
        throw new AppError("invalid_input", `plan.${problems[0]!.field}: ${problems[0]!.reason}`, {
          errors: problems.map((p) => ({ field: `body.plan.${p.field}`, reason: p.reason })),
        });
      return plan;
    }
    const name = plan ?? "default";
    const custom = (await deps.plans?.()) ?? {};
    const found = custom[name] ?? BUILT_IN_PLANS[name]?.();
    if (!found)
      throw invalid(
        "body.plan",
        `no plan named '${name}' (built in: default, demo${Object.keys(custom).length ? `; from modelgov.yaml: ${Object.keys(custom).join(", ")}` : ""})`,
      );
    return found;
  }

  const moves = createRolloutMoves({ clock, routes, registry });
  const { setWeight, record, end } = moves;

  async function view(r: RolloutRow): Promise<RolloutView> {
    return {
      ...r,
      decisions: await decisionsOf(db, r.id, 50),
      cluster: deps.clusterSync ? await deps.clusterSync(db, r.modelId) : null,
    };
  }

  async function withActive<T>(model: string, fn: (tx: Tx, r: RolloutRow) => Promise<T>): Promise<T> {
    return db.transaction(async (tx) => {
      const id = await modelRow(tx, model);
      const r = await activeRollout(tx, id, true);
      if (!r) throw notFound(`an active rollout of '${model}'`);
      return fn(tx, r);
    });
  }

  const service = {
    async start(
      ctx: RequestContext,
      model: string,
      version: string,
      opts: { plan?: string | Plan; mode?: "canary" | "blue_green" } = {},
    ) {
      const mode = opts.mode ?? "canary";
      const plan = await resolvePlan(opts.plan ?? (mode === "blue_green" ? "blue-green" : undefined));
      const id = await db.transaction(async (tx) => {
        const modelId = await modelRow(tx, model);
        await lockModel(tx, modelId);
        if (await activeRollout(tx, modelId))
          throw conflict(`'${model}' already has an active rollout; abort or finish it first`, [
            { field: "model", reason: "rollout in progress" },
          ]);
        const experiment = await tx.query<{ name: string }>(
          "SELECT name FROM experiments WHERE model_id = $1 AND status = 'running'",
          [modelId],
        );
        if (experiment[0])
          throw conflict(
            `'${model}' has a running experiment ('${experiment[0].name}'): stop it before a rollout takes over the split`,
            [{ field: "model", reason: "experiment in progress" }],
          );
        const versions = await versionStatuses(tx, modelId);
        const candidate = versions.find((v) => v.version === version);
        if (!candidate) throw invalid("body.version", `version ${version} of '${model}' is not registered`);
        if (candidate.status === "retired" || candidate.status === "deprecated")
          throw invalid("body.version", `version ${version} of '${model}' is ${candidate.status}`);
        const prod = await tx.query<{ version_id: string }>(
          "SELECT version_id FROM aliases WHERE model_id = $1 AND alias = 'production'",
          [modelId],
        );
        const baseline = versions.find((v) => v.id === prod[0]?.version_id);
        if (!baseline)
          throw new AppError(
            "precondition_failed",
            `'${model}' has no production version to compare against`,
            {
              errors: [{ field: "model", reason: "no production alias" }],
            },
          );
        if (baseline.id === candidate.id)
          throw invalid("body.version", `${model}@${version} is already the production version`);
        await requireServable(
          deps.servable,
          tx,
          candidate,
          `${model}@${version}`,
          "; the gateway would refuse its traffic",
        );
        await requireNotKilled(tx, candidate, `${model}@${version}`, "body.version");
        const now = clock.now();
        const rid = newId("rol");
        const first = plan.steps[0]!;
        await tx.query(
          `INSERT INTO rollouts (id, model_id, candidate_version_id, baseline_version_id, plan_name, plan, status,
                                 step_index, step_started_at, weight, next_analysis_at, started_at, started_by, mode)
           VALUES ($1, $2, $3, $4, $5, $6, 'running', 0, $7, $8, $9, $7, $10, $11)`,
          [
            rid,
            modelId,
            candidate.id,
            baseline.id,
            plan.name,
            JSON.stringify(plan),
            now.toISOString(),
            mode === "blue_green" ? 0 : first.weight,
            new Date(now.getTime() + plan.analysisIntervalMs).toISOString(),
            ctx.actor,
            mode,
          ],
        );
        const r = (await rolloutById(tx, rid))!;
        // The candidate serves only under an approval in force (the gateway checks it too).
        await setWeight(tx, ctx, r, first.weight);
        await record(tx, ctx, { ...r, weight: 0 }, "start", r.weight, [
          mode === "blue_green"
            ? `blue-green rollout of ${model}@${version} against ${baseline.version} started with plan '${plan.name}': judged on ${first.weight}% of traffic mirrored to it, serving none, then switched at once`
            : `rollout of ${model}@${version} against ${baseline.version} started with plan '${plan.name}': ${plan.steps.map((s) => `${s.weight}%`).join(" → ")}`,
        ]);
        return rid;
      });
      return view((await rolloutById(db, id))!);
    },

    async status(model: string): Promise<RolloutView | null> {
      const id = await modelRow(db, model);
      const r = (await activeRollout(db, id)) ?? (await rolloutsOf(db, id, 1))[0] ?? null;
      return r ? view(r) : null;
    },

    /** promote, hold or rollback for an outside canary (Argo Rollouts), with the reasons (verdict.ts). */
    verdict(model: string, candidate?: string) {
      return rolloutVerdict({ db, clock }, model, candidate);
    },

    async list(model: string, limit = 20) {
      return rolloutsOf(db, await modelRow(db, model), limit);
    },

    pause(ctx: RequestContext, model: string, reason = "paused by an operator") {
      return withActive(model, async (tx, r) => {
        if (r.status === "paused") throw conflict(`the rollout of '${model}' is already paused`);
        await tx.query("UPDATE rollouts SET status = 'paused', paused_reason = $2 WHERE id = $1", [
          r.id,
          reason,
        ]);
        await record(tx, ctx, r, "pause", r.weight, [reason]);
      }).then(() => service.status(model));
    },

    resume(ctx: RequestContext, model: string) {
      return withActive(model, async (tx, r) => {
        if (r.status !== "paused") throw conflict(`the rollout of '${model}' is not paused`);
        await tx.query(
          "UPDATE rollouts SET status = 'running', paused_reason = NULL, next_analysis_at = $2 WHERE id = $1",
          [r.id, clock.now().toISOString()],
        );
        await record(tx, ctx, r, "resume", r.weight, ["resumed by an operator"]);
      }).then(() => service.status(model));
    },

    /** Past a manual gate to the next step; with `full`, straight to production. */
    promote(ctx: RequestContext, model: string, opts: { full?: boolean } = {}) {
      return withActive(model, async (tx, r) => {
        const last = r.stepIndex >= r.plan.steps.length - 1;
        if (opts.full || last) {
          await end(tx, ctx, r, "promoted", "promote", [
            `promoted by ${ctx.actor}${opts.full ? " (full promotion, remaining steps skipped)" : ""}`,
          ]);
          return;
        }
        const next = r.stepIndex + 1;
        const share = r.plan.steps[next]!.weight;
        const weight = r.mode === "blue_green" ? 0 : share;
        const now = clock.now();
        await setWeight(tx, ctx, r, share);
        await tx.query(
          `UPDATE rollouts SET status = 'running', paused_reason = NULL, step_index = $2, step_started_at = $3,
                  weight = $4, consecutive_failures = 0, next_analysis_at = $5 WHERE id = $1`,
          [
            r.id,
            next,
            now.toISOString(),
            weight,
            new Date(now.getTime() + r.plan.analysisIntervalMs).toISOString(),
          ],
        );
        await record(tx, ctx, r, "advance", weight, [
          `promoted by ${ctx.actor} past step ${r.stepIndex + 1}`,
        ]);
      }).then(() => service.status(model));
    },

    abort(ctx: RequestContext, model: string, reason = "aborted by an operator") {
      return withActive(model, (tx, r) => end(tx, ctx, r, "aborted", "abort", [reason])).then(() =>
        service.status(model),
      );
    },

    /**
     * All traffic back to the previous production version at once: an active rollout is
     * rolled back (its candidate gets 0); without one, the production alias moves back to
     * the version it pointed to before, and any split is cleared.
     */
    async rollback(ctx: RequestContext, model: string, reason = "rolled back by an operator") {
      await db.transaction(async (tx) => {
        const modelId = await modelRow(tx, model);
        const r = await activeRollout(tx, modelId, true);
        if (r) return end(tx, ctx, r, "rolled_back", "rollback", [reason]);
        const moves = await registry.aliasHistoryIn(tx, model, "production");
        const current = moves.at(-1)?.version ?? null;
        const previous = [...moves].reverse().find((m) => m.version && m.version !== current)?.version;
        if (!current || !previous)
          throw new AppError(
            "precondition_failed",
            `'${model}' has no earlier production version to return to`,
            {
              errors: [{ field: "model", reason: "no previous production version" }],
            },
          );
        await registry.setAliasIn(tx, ctx, model, "production", previous, reason);
        const cfg = await routes.getIn(tx, model);
        if (cfg.split) await routes.set(ctx, model, { ...cfg, split: null }, tx);
      });
      return service.status(model);
    },

    // ------------------------------------------------------------------ controller side

    now: () => clock.now(),
    active: () => activeRollouts(db),

    /**
     * One analysis of a rollout: the step's window for baseline and candidate, the judge,
     * the step machine, and the decision applied (weights, promotion, rollback) with its
     * audit event — all in one transaction, refused if `fence` says the caller lost the lease.
     */
    async analyze(
      rolloutId: string,
      ctx: RequestContext,
      fence?: (tx: Tx) => Promise<boolean>,
    ): Promise<{ decision: Decision; judgement: Judgement } | null> {
      return db.transaction(async (tx) => {
        if (fence && !(await fence(tx))) return null;
        const r = await rolloutById(tx, rolloutId, true);
        if (!r || (r.status !== "running" && r.status !== "paused")) return null;
        const now = clock.now();
        const { judgement, decision } = await analyseStep(tx, r, now);
        const analysis = { verdict: judgement.verdict, metrics: judgement.metrics };
        const next = new Date(now.getTime() + r.plan.analysisIntervalMs).toISOString();
        if (decision.action === "rollback") {
          // The count that decided it stays on the rollout (the status shows "2 of 2", as the reason says).
          await tx.query("UPDATE rollouts SET consecutive_failures = $2 WHERE id = $1", [
            r.id,
            decision.next.consecutiveFailures,
          ]);
          await end(tx, ctx, r, "rolled_back", "rollback", decision.reasons, analysis);
        } else if (decision.action === "promote") {
          await end(tx, ctx, r, "promoted", "promote", decision.reasons, analysis);
        } else if (decision.action === "advance") {
          await setWeight(tx, ctx, r, decision.weight);
          const served = r.mode === "blue_green" ? 0 : decision.weight;
          await tx.query(
            `UPDATE rollouts SET step_index = $2, step_started_at = $3, weight = $4, consecutive_failures = 0,
                    next_analysis_at = $5 WHERE id = $1`,
            [r.id, decision.next.stepIndex, now.toISOString(), served, next],
          );
          await record(tx, ctx, r, "advance", served, decision.reasons, analysis);
        } else {
          const gate = decision.action === "paused" && r.status === "running";
          await tx.query(
            `UPDATE rollouts SET consecutive_failures = $2, next_analysis_at = $3,
                    status = CASE WHEN $4 THEN 'paused' ELSE status END,
                    paused_reason = CASE WHEN $4 THEN $5 ELSE paused_reason END WHERE id = $1`,
            [r.id, decision.next.consecutiveFailures, next, gate, decision.reasons[0] ?? "manual gate"],
          );
          await record(tx, ctx, r, gate ? "pause" : "hold", r.weight, decision.reasons, analysis);
        }
        return { decision, judgement };
      });
    },

    /** A kill switch on the candidate rolls back, on the baseline pauses (killed.ts); first every tick. */
    async killCheck(rolloutId: string, ctx: RequestContext, fence?: (tx: Tx) => Promise<boolean>) {
      return db.transaction(async (tx) => {
        if (fence && !(await fence(tx))) return null;
        const r = await rolloutById(tx, rolloutId, true);
        if (!r || (r.status !== "running" && r.status !== "paused")) return null;
        return applyKills(tx, ctx, r, moves);
      });
    },

    /**
     * The fast path, between analyses: the candidate's breaker, every recent request failing,
     * and the sequential error test on the step so far against the baseline. A breach rolls
     * back at once.
     */
    async fastCheck(
      rolloutId: string,
      ctx: RequestContext,
      breaker: "closed" | "half_open" | "open" | undefined,
      fence?: (tx: Tx) => Promise<boolean>,
    ): Promise<FastPathResult | null> {
      return db.transaction(async (tx) => {
        if (fence && !(await fence(tx))) return null;
        const r = await rolloutById(tx, rolloutId, true);
        if (!r || (r.status !== "running" && r.status !== "paused")) return null;
        const now = clock.now();
        const to = new Date(now.getTime() + 1);
        const recentFrom = new Date(
          Math.max(now.getTime() - r.plan.fastPath.windowMs, r.stepStartedAt.getTime()),
        );
        const full = r.mode === "canary" && (r.plan.steps[r.stepIndex]?.weight ?? 0) >= 100;
        const ids = [r.baselineVersionId, r.candidateVersionId];
        let candidate: { requests: number; errors: number };
        let recent: { requests: number; errors: number };
        let baseline: { requests: number; errors: number } | undefined;
        if (r.mode === "blue_green") {
          candidate = await mirrorWindow(tx, r.model, r.candidateVersionId, r.stepStartedAt, to);
          recent = await mirrorWindow(tx, r.model, r.candidateVersionId, recentFrom, to);
          baseline = (await errorCounts(tx, r.model, [r.baselineVersionId], r.stepStartedAt, to)).get(
            r.baselineVersionId,
          );
        } else {
          const step = await errorCounts(tx, r.model, ids, r.stepStartedAt, to);
          candidate = step.get(r.candidateVersionId)!;
          recent = (await errorCounts(tx, r.model, [r.candidateVersionId], recentFrom, to)).get(
            r.candidateVersionId,
          )!;
          // At a 100% step the baseline serves nothing: its reference is the rollout so far.
          baseline = full
            ? (await errorCounts(tx, r.model, [r.baselineVersionId], r.startedAt, r.stepStartedAt)).get(
                r.baselineVersionId,
              )
            : step.get(r.baselineVersionId);
        }
        const result = fastPath(
          {
            candidate: { requests: candidate.requests, errors: candidate.errors },
            baseline,
            concurrent: !full,
            recent: { requests: recent.requests, errors: recent.errors },
            breaker,
          },
          r.plan,
          { stepIndex: r.stepIndex },
        );
        if (result.rollback)
          await end(tx, ctx, r, "rolled_back", "rollback", [`fast path: ${result.reason}`], {
            fastPath: {
              ...result,
              windowMs: r.plan.fastPath.windowMs,
              requests: candidate.requests,
              errors: candidate.errors,
              recentRequests: recent.requests,
              recentErrors: recent.errors,
            },
          });
        return result;
      });
    },
  };
  return service;
}

export type RolloutsService = ReturnType<typeof createRolloutsService>;
