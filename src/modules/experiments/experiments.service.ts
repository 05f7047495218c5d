import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import type { RouteConfigService } from "../gateway/index.ts";
import { describeSwitch, switchesCovering } from "../kill-switches/index.ts";
import { lockModel, modelIdByName, versionStatuses } from "../registry/index.ts";
import { requireNotKilled, requireServable, type ServableGate } from "../rollouts/serving.ts";
import type { ExperimentCreate } from "./experiments.schemas.ts";
import {
  type ArmConfig,
  type ExperimentRow,
  experimentById,
  insertExperiment,
  type Look,
  latestExperiment,
  nameTaken,
  rolloutActive,
  runningExperiment,
  runningExperiments,
} from "./experiments.store.ts";
import { computeLook, endWith, takeLook } from "./look.ts";

export interface ExperimentsDeps {
  db: Db;
  clock: Clock;
  routes: RouteConfigService;
  /** Whether a version outside production may serve (an approval in force); the gateway refuses it otherwise. */
  servable?: ServableGate;
}

/**
 * A/B experiments: the arms are versions of one model, split by the gateway's sticky
 * weighted split (set in the same transaction as the experiment and its audit event). Each
 * look reads the arms' windows from the request log and feedback and asks the experiments
 * engine; a breached guardrail stops the experiment at once (`check`, run by the watcher).
 */
export function createExperimentsService(deps: ExperimentsDeps) {
  const { db, clock, routes } = deps;

  async function modelRow(q: Tx | Db, name: string) {
    const id = await modelIdByName(q, name);
    if (!id) throw notFound(`model '${name}'`);
    return id;
  }

  /** The version behind each arm, refusing what the gateway could not serve. */
  async function resolveArms(tx: Tx, model: string, modelId: string, input: ExperimentCreate) {
    const versions = await versionStatuses(tx, modelId);
    const arms: ArmConfig[] = [];
    for (const [i, a] of input.arms.entries()) {
      const field = `body.arms.${i}`;
      if (arms.some((b) => b.name === a.name))
        throw invalid(`${field}.name`, `arm '${a.name}' is named twice`);
      if (arms.some((b) => b.version === a.version))
        throw invalid(
          `${field}.version`,
          `version ${a.version} is already arm '${arms.find((b) => b.version === a.version)!.name}'`,
        );
      const v = versions.find((x) => x.version === a.version);
      if (!v) throw invalid(`${field}.version`, `version ${a.version} of '${model}' is not registered`);
      if (v.status === "retired")
        throw invalid(`${field}.version`, `version ${a.version} of '${model}' is retired`);
      await requireServable(
        deps.servable,
        tx,
        v,
        `${model}@${a.version}`,
        "; the gateway would refuse its traffic",
        `${field}.version`,
      );
      await requireNotKilled(tx, v, `${model}@${a.version}`, `${field}.version`);
      arms.push({ name: a.name, version: a.version, versionId: v.id, weight: a.weight });
    }
    return arms;
  }

  function checkRules(input: ExperimentCreate) {
    const total = input.arms.reduce((s, a) => s + a.weight, 0);
    if (Math.abs(total - 100) > 1e-9)
      throw invalid("body.arms", `the arms' weights add up to ${total}, not 100`);
    if (input.plannedSamplePerArm < input.minSamplePerArm)
      throw invalid(
        "body.plannedSamplePerArm",
        `must be at least minSamplePerArm (${input.minSamplePerArm})`,
      );
    if (input.primary === "score_mean" && input.scoreVariance === undefined)
      throw invalid("body.scoreVariance", "required when the primary metric is score_mean");
    for (const [i, g] of input.guardrails.entries())
      if (g.metric !== "error_rate" && g.max === undefined && g.maxRelativeIncrease === undefined)
        throw invalid(`body.guardrails.${i}`, "set max or maxRelativeIncrease");
  }

  /**
   * A running experiment gets fresh results, computed but not recorded: a read changes nothing
   * (the watcher records a look every second, so the sequential test carries on); an ended one
   * gets its last.
   */
  async function withResults(e: ExperimentRow): Promise<ExperimentRow> {
    if (e.status !== "running") return e;
    return { ...e, lastResults: await computeLook(db, e, clock.now()) };
  }

  async function current(model: string): Promise<ExperimentRow> {
    const id = await modelRow(db, model);
    const e = (await runningExperiment(db, id)) ?? (await latestExperiment(db, id));
    if (!e) throw notFound(`an experiment of '${model}'`);
    return e;
  }

  const service = {
    async create(ctx: RequestContext, model: string, input: ExperimentCreate): Promise<ExperimentRow> {
      checkRules(input);
      const id = await db.transaction(async (tx) => {
        const modelId = await modelRow(tx, model);
        await lockModel(tx, modelId);
        if (await runningExperiment(tx, modelId))
          throw conflict(`'${model}' already has a running experiment; stop it first`, [
            { field: "model", reason: "experiment running" },
          ]);
        if (await rolloutActive(tx, modelId))
          throw conflict(
            `'${model}' has an active rollout; an experiment would fight over its traffic split`,
            [{ field: "model", reason: "rollout in progress" }],
          );
        if (await nameTaken(tx, modelId, input.name))
          throw conflict(`'${model}' already has an experiment named '${input.name}'`, [
            { field: "body.name", reason: "already exists" },
          ]);
        const arms = await resolveArms(tx, model, modelId, input);
        const eid = newId("exp");
        const now = clock.now();
        await insertExperiment(tx, {
          id: eid,
          modelId,
          name: input.name,
          arms,
          primary: input.primary,
          secondary: input.secondary,
          guardrails: input.guardrails,
          minSamplePerArm: input.minSamplePerArm,
          minDurationMs: input.minDurationMs,
          plannedSamplePerArm: input.plannedSamplePerArm,
          baselineRate: input.baselineRate ?? null,
          scoreVariance: input.scoreVariance ?? null,
          alpha: input.alpha,
          startedAt: now,
          startedBy: ctx.actor,
        });
        // Sticky assignment: the gateway hashes each subject to one arm of this split.
        const cfg = await routes.getIn(tx, model);
        await routes.set(
          ctx,
          model,
          { ...cfg, split: arms.map((a) => ({ version: a.version, weight: a.weight })), splitScope: eid },
          tx,
        );
        await recordAudit(tx, ctx, now, {
          action: "experiment.created",
          subjectType: "model",
          subjectId: modelId,
          after: { experiment: eid, ...input, arms },
          reason: `experiment '${input.name}': ${arms.map((a) => `${a.name}=${a.version}:${a.weight}%`).join(", ")}`,
        });
        return eid;
      });
      return (await experimentById(db, id))!;
    },

    /** The running experiment, else the last one, with its latest results. */
    async get(model: string): Promise<ExperimentRow> {
      return withResults(await current(model));
    },

    async results(model: string): Promise<ExperimentRow & { lastResults: Look }> {
      const e = await withResults(await current(model));
      if (!e.lastResults) throw notFound(`results of experiment '${e.name}'`);
      return e as ExperimentRow & { lastResults: Look };
    },

    /** Ends the running experiment: a final look, the split cleared. Completed when that look reached a decision. */
    async stop(
      ctx: RequestContext,
      model: string,
      reason = "stopped by an operator",
    ): Promise<ExperimentRow> {
      const id = await db.transaction(async (tx) => {
        const e = await runningExperiment(tx, await modelRow(tx, model), true);
        if (!e) throw notFound(`a running experiment of '${model}'`);
        const look = await takeLook(tx, e, clock.now());
        const decided = ["ship", "no_difference"].includes(look.results.recommendation.decision);
        await endWith(tx, ctx, routes, e, look, {
          status: decided ? "completed" : "stopped",
          action: "experiment.stopped",
          reason,
          at: clock.now(),
        });
        return e.id;
      });
      return (await experimentById(db, id))!;
    },

    // ------------------------------------------------------------------ watcher side

    running: () => runningExperiments(db),

    /**
     * One look at a running experiment; a breached guardrail, or an arm's version switched off
     * by a kill switch, stops it at once. Null when it is not running.
     */
    async check(
      ctx: RequestContext,
      id: string,
    ): Promise<{ look: Look; stopped: boolean; reason?: string } | null> {
      return db.transaction(async (tx) => {
        const e = await experimentById(tx, id, true);
        if (e?.status !== "running") return null;
        const look = await takeLook(tx, e, clock.now());
        const killed = await killedArm(tx, e);
        if (killed) {
          await endWith(tx, ctx, routes, e, look, {
            status: "stopped",
            action: "experiment.stopped",
            reason: killed,
            at: clock.now(),
          });
          return { look, stopped: true, reason: killed };
        }
        const rec = look.results.recommendation;
        if (rec.decision !== "stopped_by_guardrail") return { look, stopped: false };
        await endWith(tx, ctx, routes, e, look, {
          status: "stopped",
          action: "experiment.guardrail_stopped",
          reason: rec.reasons[0] ?? `guardrail breached by ${rec.arm}`,
          at: clock.now(),
        });
        return { look, stopped: true, reason: rec.reasons[0] };
      });
    },
  };
  return service;
}

/**
 * An arm whose version a kill switch covers (its own or its provider's), in words; null when
 * none. Its subjects go to the baseline and leave the split's scope, so the arm stops
 * gathering while the others go on: the look would compare a frozen arm with moving ones.
 */
async function killedArm(tx: Tx, e: ExperimentRow): Promise<string | null> {
  const covering = await switchesCovering(
    tx,
    e.arms.map((a) => a.versionId),
  );
  const arm = e.arms.find((a) => covering.has(a.versionId));
  if (!arm) return null;
  return `arm '${arm.name}' (${e.model}@${arm.version}) is switched off by ${describeSwitch(covering.get(arm.versionId)!)}: the experiment is stopped with the results so far`;
}

export type ExperimentsService = ReturnType<typeof createExperimentsService>;
