import type { ReleaseGate } from "../../engines/policy/gates.ts";
import { fmtDuration } from "../../engines/rollout/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { invalid, notFound } from "../../lib/errors.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { findVersion, getVersionById, lockModelNoKeyUpdate, modelByName } from "../registry/index.ts";
import { modelsWithTraffic, outcomesByGroups } from "../request-log/index.ts";
import { judgeWindow, type PointDraft, shouldAlert } from "./bias-drift.compute.ts";
import type { ComputedView, ComputeInput, PointView, SeriesQuery, SeriesView } from "./bias-drift.schemas.ts";
import * as store from "./bias-drift.store.ts";

export const ALERT_ACTION = "fairness.drift_alert";
/** An on-demand computation covers at most this many windows (a week of hours). */
export const MAX_WINDOWS_PER_CALL = 168;

export interface Window {
  start: Date;
  end: Date;
}

/** True while the caller still holds the job's lease (checked inside the writing transaction). */
export type Fence = (tx: Tx) => Promise<boolean>;

const round = (x: number | null) => (x === null ? null : Number(x.toFixed(2)));

export function toView(p: store.PointRow): PointView {
  return {
    id: p.id,
    model: p.model,
    version: p.version,
    attribute: p.attribute,
    windowStart: p.windowStart.toISOString(),
    windowEnd: p.windowEnd.toISOString(),
    n: p.n,
    unassigned: p.unassigned,
    groups: p.groups,
    gapPoints: p.gapPoints,
    ratio: p.ratio,
    thresholdPoints: p.thresholdPoints,
    minRatio: p.minRatio,
    minGroupSize: p.minGroupSize,
    breached: p.breached,
    alerted: p.alerted,
    previousGapPoints: p.previousGapPoints,
    reasons: p.reasons,
    computedAt: p.computedAt.toISOString(),
  };
}

/**
 * Bias drift on live traffic: per window, per version with feedback, per attribute set,
 * success by group from the gateway's feedback, held to the fairness part of the release
 * gates that apply to the model. Points are written once; an alert is the audit event
 * `fairness.drift_alert`, and through the outbox the webhook.
 */
export function createBiasDriftService({
  db,
  clock,
  gatesFor,
  windowMs = 3_600_000,
  settleMs = 300_000,
}: {
  db: Db;
  clock: Clock;
  /** The release gates that apply to a model (the approvals service's). */
  gatesFor: (q: Queryable, modelId: string) => Promise<ReleaseGate[]>;
  /** Window length; windows are aligned to multiples of it since the epoch (UTC). */
  windowMs?: number;
  /** How long after a window ends the job waits for late feedback and spooled log batches. */
  settleMs?: number;
}) {
  async function modelOrThrow(name: string) {
    const m = await modelByName(db, name);
    if (!m) throw notFound(`model '${name}'`);
    return m;
  }

  /** Writes one draft's point, and its alert when the rule says so; null when the window already has it. */
  async function record(
    tx: Tx,
    ctx: RequestContext,
    model: { id: string; name: string },
    version: string,
    d: PointDraft,
    w: Window,
  ): Promise<string | null> {
    const previous = await store.previousJudged(tx, d.versionId, d.attribute, w.start);
    const alerted = shouldAlert(d, previous);
    const { breaches, ...point } = d;
    const id = await store.insertPoint(tx, {
      ...point,
      modelId: model.id,
      windowStart: w.start,
      windowEnd: w.end,
      alerted,
      previousGapPoints: previous?.gapPoints ?? null,
      computedAt: clock.now(),
    });
    if (!id || !alerted) return id;
    const window = `${w.start.toISOString()} to ${w.end.toISOString()}`;
    const before = previous ? `previous gap ${round(previous.gapPoints)} points` : "no previous window";
    await recordAudit(tx, ctx, clock.now(), {
      action: ALERT_ACTION,
      subjectType: "model_version",
      subjectId: d.versionId,
      before: previous ? { gapPoints: previous.gapPoints, breached: previous.breached } : undefined,
      after: {
        pointId: id,
        model: model.name,
        version,
        attribute: d.attribute,
        windowStart: w.start.toISOString(),
        windowEnd: w.end.toISOString(),
        n: d.n,
        gapPoints: d.gapPoints,
        ratio: d.ratio,
        thresholdPoints: d.thresholdPoints,
        minRatio: d.minRatio,
        previousGapPoints: previous?.gapPoints ?? null,
        groups: d.groups.map((g) => ({
          key: g.key,
          n: g.n,
          successes: g.successes,
          successRate: g.successRate,
          status: g.status,
        })),
      },
      reason: `${model.name}@${version} ${d.attribute}, ${window}: ${breaches.join("; ")} (${before})`,
    });
    return id;
  }

  /**
   * One window of one model. The data is read first; the writing transaction locks the model
   * row so two computations of the model (job and backfill) read each other's previous point.
   */
  async function computeWindow(
    ctx: RequestContext,
    model: { id: string; name: string },
    w: Window,
    fence?: Fence,
  ): Promise<store.PointRow[]> {
    const outcomes = await outcomesByGroups(db, model.name, w.start, w.end);
    if (outcomes.length === 0) return [];
    const drafts = judgeWindow(outcomes, await gatesFor(db, model.id));
    const ids = await db.transaction(async (tx) => {
      if (fence && !(await fence(tx))) return [];
      // Serialises computations of one model's points (job, replica, backfill), so each reads the
      // previous point the other wrote; held only for the short writing transaction.
      await lockModelNoKeyUpdate(tx, model.id);
      const versions = new Map<string, string | null>();
      const created: string[] = [];
      for (const d of drafts) {
        if (!versions.has(d.versionId))
          versions.set(d.versionId, (await getVersionById(tx, d.versionId))?.version ?? null);
        const version = versions.get(d.versionId);
        // A request logged against a version the registry does not hold has no series to join.
        if (!version) continue;
        const id = await record(tx, ctx, model, version, d, w);
        if (id) created.push(id);
      }
      return created;
    });
    return store.getPoints(db, ids);
  }

  /** The aligned windows in [from, to), refusing what the caller cannot mean. */
  function windowsOf(from: Date, to: Date): Window[] {
    const every = fmtDuration(windowMs);
    const boundary = (t: Date, field: string) => {
      if (t.getTime() % windowMs !== 0)
        throw invalid(
          field,
          `must be on a window boundary (windows are ${every}, aligned to UTC), e.g. ${new Date(Math.floor(t.getTime() / windowMs) * windowMs).toISOString()}`,
        );
    };
    boundary(from, "body.from");
    boundary(to, "body.to");
    if (to <= from) throw invalid("body.to", "must be after from");
    if (to > clock.now())
      throw invalid("body.to", `the window has not ended yet (now ${clock.now().toISOString()})`);
    const count = (to.getTime() - from.getTime()) / windowMs;
    if (count > MAX_WINDOWS_PER_CALL)
      throw invalid("body.to", `at most ${MAX_WINDOWS_PER_CALL} windows of ${every} per call, got ${count}`);
    return Array.from({ length: count }, (_, i) => ({
      start: new Date(from.getTime() + i * windowMs),
      end: new Date(from.getTime() + (i + 1) * windowMs),
    }));
  }

  return {
    windowMs,
    computeWindow,

    /**
     * The windows the job still owes, oldest first: the last `catchUp` complete windows
     * (each ended at least `settleMs` ago) it has not been through. Older misses stay
     * missed; a backfill through the API computes them.
     */
    async dueWindows(catchUp: number): Promise<Window[]> {
      const last = Math.floor((clock.now().getTime() - settleMs) / windowMs) * windowMs;
      const starts = Array.from({ length: catchUp }, (_, i) => new Date(last - (catchUp - i) * windowMs));
      const done = await store.windowsDone(db, starts, windowMs);
      return starts
        .filter((s) => !done.has(s.getTime()))
        .map((start) => ({ start, end: new Date(start.getTime() + windowMs) }));
    },

    /**
     * One window for every model with live traffic in it. The window is marked done only
     * when every model went through; a failed one is tried again next tick (the others
     * add nothing then: points are written once).
     */
    async runWindow(ctx: RequestContext, w: Window, fence?: Fence) {
      const models = await modelsWithTraffic(db, w.start, w.end);
      const points: store.PointRow[] = [];
      const failed: { model: string; error: unknown }[] = [];
      for (const m of models) {
        try {
          points.push(...(await computeWindow(ctx, m, w, fence)));
        } catch (error) {
          failed.push({ model: m.name, error });
        }
      }
      if (failed.length === 0)
        await db.transaction(async (tx) => {
          if (!fence || (await fence(tx)))
            await store.markWindow(tx, w.start, w.end, models.length, clock.now());
        });
      return { models: models.length, points, alerts: points.filter((p) => p.alerted), failed };
    },

    /** On demand (backfill, demos): every aligned window in [from, to) of one model. */
    async compute(ctx: RequestContext, modelName: string, input: ComputeInput): Promise<ComputedView> {
      const model = await modelOrThrow(modelName);
      const windows = windowsOf(new Date(input.from), new Date(input.to));
      const points: store.PointRow[] = [];
      for (const w of windows) points.push(...(await computeWindow(ctx, model, w)));
      const views = points.map(toView);
      return {
        model: model.name,
        windows: windows.map((w) => ({ start: w.start.toISOString(), end: w.end.toISOString() })),
        points: views,
        alerts: views.filter((p) => p.alerted),
      };
    },

    /** The series of a model, filtered, in time order, with the points that alerted. */
    async series(modelName: string, q: SeriesQuery): Promise<SeriesView> {
      const model = await modelOrThrow(modelName);
      const from = q.from ? new Date(q.from) : undefined;
      const to = q.to ? new Date(q.to) : undefined;
      if (from && to && to <= from) throw invalid("query.to", "must be after from");
      let versionId: string | undefined;
      if (q.version) {
        const v = await findVersion(db, model.name, q.version);
        if (!v) throw notFound(`version '${q.version}' of model '${model.name}'`);
        versionId = v.id;
      }
      const points = (
        await store.listPoints(db, {
          modelId: model.id,
          versionId,
          attribute: q.attribute,
          from,
          to,
          limit: q.limit,
        })
      ).map(toView);
      return { model: model.name, windowMs, points, alerts: points.filter((p) => p.alerted) };
    },
  };
}

export type BiasDriftService = ReturnType<typeof createBiasDriftService>;
