import { advance, type Histogram, type MonitorRule } from "../../engines/monitoring/index.ts";
import type { ReleaseGate } from "../../engines/policy/gates.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, invalid, notFound } from "../../lib/errors.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { baselineOf, createWindowJudge } from "./monitoring.judge.ts";
import { productionPaths } from "./monitoring.paths.ts";
import {
  compileRules,
  type MonitorConfig,
  MonitorConfigSchema,
  type MonitorStatus,
  type WindowView,
} from "./monitoring.schemas.ts";
import * as store from "./monitoring.store.ts";

const HOUR = 3_600_000;

/** What a rule that fires (or keeps breaching) hands on: to the retraining task, to the audit event. */
export interface FiredRule {
  model: string;
  versionId: string;
  version: string;
  rule: string;
  text: string | null;
  kind: MonitorRule["kind"];
  subject: string;
  /** The windows of the breaching run, oldest first (the last `windows` of them). */
  windows: WindowView[];
  summary: string;
  event: "fired" | "breach_continues";
}

/** True while the caller still holds the job's lease (checked inside the writing transaction). */
export type Fence = (tx: Tx) => Promise<boolean>;

export interface MonitoringDeps {
  db: Db;
  clock: Clock;
  /** The release gates that apply to a model (bias rules hold the fairness part of them). */
  gatesFor: (q: Queryable, modelId: string) => Promise<ReleaseGate[]>;
  /** Per-feature histograms of one version over [from, to) (the request log's feature roll-ups). */
  readFeatures?: (
    q: Queryable,
    model: string,
    versionId: string,
    from: Date,
    to: Date,
  ) => Promise<Record<string, Histogram>>;
  /**
   * The hours whose requests are not all in the feature roll-up yet (the features migration's
   * backfill, still running), or null: a drift window that overlaps them, or whose baseline
   * does, is not judged until the backfill has passed it.
   */
  featuresPending?: (q: Queryable) => Promise<{ from: Date; to: Date } | null>;
  /** The model's production version and since when (default: the registry's production alias). */
  productionOf?: (q: Queryable, model: string) => Promise<store.Production | null>;
  /** Called in the window's transaction when a rule fires or keeps breaching (opens or extends a retraining task). */
  onFire?: (tx: Tx, ctx: RequestContext, fired: FiredRule) => Promise<void>;
}

const alignUp = (t: number, len: number) => Math.ceil(t / len) * len;

export function createMonitoringService(deps: MonitoringDeps) {
  const { db, clock } = deps;
  const judge = createWindowJudge(deps);
  const productionOf = deps.productionOf ?? store.production;

  async function effective(q: Queryable, model: string) {
    const own = await store.readConfig(q, model);
    if (own) return { configuredFor: model, config: own };
    const def = await store.readConfig(q, store.DEFAULT_MODEL);
    return def ? { configuredFor: store.DEFAULT_MODEL, config: def } : null;
  }

  function compiled(config: MonitorConfig): MonitorRule[] {
    const { rules, errors } = compileRules(config.rules);
    // Stored configs were checked when set; a rule that no longer reads is skipped, not fatal.
    void errors;
    return rules;
  }

  const subjectOf = (rule: MonitorRule) =>
    rule.kind === "metric"
      ? rule.metric
      : rule.kind === "drift"
        ? `${rule.statistic}:${rule.feature}`
        : "bias";

  /**
   * Judges every window of one model that has ended and settled since the last pass, for its
   * production version, rule by rule; each window's verdict, the rule's state and any event
   * commit together (fenced by the job's lease when one is given).
   */
  async function runModel(
    ctx: RequestContext,
    model: string,
    opts: { fence?: Fence; maxWindows?: number } = {},
  ): Promise<{ judged: number; fired: FiredRule[]; resolved: string[] }> {
    const out = { judged: 0, fired: [] as FiredRule[], resolved: [] as string[] };
    const eff = await effective(db, model);
    if (!eff?.config.enabled) return out;
    const prod = await productionOf(db, model);
    if (!prod) return out;
    const baseline = await baselineOf(db, eff.config, prod);
    const now = clock.now().getTime();
    const settle = eff.config.settleMinutes * 60_000;
    const states = await store.readStates(db, model, prod.versionId);
    const cache = new Map<string, unknown>();
    const pending = deps.featuresPending ? await deps.featuresPending(db) : null;
    const waits = (f: number, t: number) =>
      pending !== null && f < pending.to.getTime() && t > pending.from.getTime();
    for (const rule of compiled(eff.config)) {
      const len = rule.windowHours * HOUR;
      let state = states.get(rule.name) ?? { streak: 0, firing: false, lastWindowEnd: null, firedAt: null };
      // Windows start after the baseline (and the version's production start), on UTC boundaries.
      let start = state.lastWindowEnd
        ? Date.parse(state.lastWindowEnd)
        : alignUp(
            Math.max(baseline.evaluation === undefined ? baseline.to.getTime() : 0, prod.since.getTime()),
            len,
          );
      let budget = opts.maxWindows ?? 400;
      while (start + len + settle <= now && budget-- > 0) {
        const from = new Date(start);
        const to = new Date(start + len);
        // A drift window reads the feature roll-up: judged once the backfill has filled it and
        // its baseline (newest hours first), so a verdict is never taken on half-summed hours.
        if (
          rule.kind === "drift" &&
          (waits(start, start + len) ||
            (baseline.evaluation === undefined && waits(baseline.from.getTime(), baseline.to.getTime())))
        )
          break;
        const result = await db.transaction(async (tx) => {
          if (opts.fence && !(await opts.fence(tx))) return null;
          const verdict = await judge(tx, model, prod, rule, from, to, baseline, cache);
          const at = clock.now();
          if (
            !(await store.insertWindow(
              tx,
              { model, versionId: prod.versionId, rule: rule.name, start: from, end: to, verdict },
              at,
            ))
          )
            return null;
          const step = advance(rule, state, verdict, to.toISOString());
          const next: store.StoredState = {
            ...step.state,
            firedAt: step.event === "fired" ? to.toISOString() : step.state.firing ? state.firedAt : null,
          };
          await store.writeState(tx, model, prod.versionId, rule.name, next, at);
          let fired: FiredRule | null = null;
          if (step.event === "fired" || step.event === "breach_continues") {
            const run = (
              await store.windows(tx, model, {
                rule: rule.name,
                versionId: prod.versionId,
                to: to.toISOString(),
                limit: rule.windows,
                latestFirst: true,
              })
            ).reverse();
            fired = {
              model,
              versionId: prod.versionId,
              version: prod.version,
              rule: rule.name,
              text: rule.text ?? null,
              kind: rule.kind,
              subject: subjectOf(rule),
              windows: run,
              summary: `${rule.text ?? rule.name}: ${next.streak} consecutive breaching windows; ${verdict.reason}`,
              event: step.event,
            };
            if (step.event === "fired")
              await recordAudit(tx, ctx, at, {
                action: "monitor.rule_fired",
                subjectType: "model",
                subjectId: model,
                after: { ...fired, windows: run },
                reason: fired.summary,
              });
            await deps.onFire?.(tx, ctx, fired);
          } else if (step.event === "resolved") {
            await recordAudit(tx, ctx, at, {
              action: "monitor.rule_resolved",
              subjectType: "model",
              subjectId: model,
              after: {
                model,
                version: prod.version,
                rule: rule.name,
                window: { from: from.toISOString(), to: to.toISOString() },
              },
              reason: verdict.reason,
            });
          }
          return { next, fired, resolved: step.event === "resolved" };
        });
        if (!result) break;
        state = result.next;
        out.judged++;
        if (result.fired) out.fired.push(result.fired);
        if (result.resolved) out.resolved.push(rule.name);
        start += len;
      }
    }
    return out;
  }

  async function watchedModels(q: Queryable): Promise<string[]> {
    const configured = await store.configuredModels(q);
    if (!configured.includes(store.DEFAULT_MODEL)) return configured;
    return [
      ...new Set([
        ...configured.filter((m) => m !== store.DEFAULT_MODEL),
        ...(await store.modelsInProduction(q)),
      ]),
    ].sort();
  }

  return {
    async getConfig(model: string) {
      const eff = await effective(db, model);
      if (!eff) throw notFound(`monitor for ${model}`);
      return { model, configuredFor: eff.configuredFor, config: eff.config };
    },
    /** The model's own monitor (not the default), inside a transaction: for the spec. */
    configIn: (q: Queryable, model: string) => store.readConfig(q, model),
    async setConfig(
      ctx: RequestContext,
      model: string,
      input: unknown,
      opts: { tx?: Tx; field?: string } = {},
    ) {
      const parsed = MonitorConfigSchema.safeParse(input);
      const field = opts.field ?? "";
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw invalid([field, ...issue.path].filter((x) => x !== "").join("."), issue.message);
      }
      const { errors } = compileRules(parsed.data.rules);
      if (errors.length)
        throw invalid([field, errors[0]!.path].filter(Boolean).join("."), errors[0]!.message);
      const run = async (tx: Tx) => {
        const before = await store.readConfig(tx, model);
        const at = clock.now();
        await store.writeConfig(tx, model, parsed.data, at, ctx.actor);
        await recordAudit(tx, ctx, at, {
          action: "monitor.config_set",
          subjectType: "monitor",
          subjectId: model,
          before,
          after: parsed.data,
        });
        return parsed.data;
      };
      return opts.tx ? run(opts.tx) : db.transaction(run);
    },
    async deleteConfig(ctx: RequestContext, model: string) {
      return db.transaction(async (tx) => {
        const before = await store.readConfig(tx, model);
        if (!before) throw notFound(`monitor for ${model}`);
        await store.deleteConfig(tx, model);
        await recordAudit(tx, ctx, clock.now(), {
          action: "monitor.config_deleted",
          subjectType: "monitor",
          subjectId: model,
          before,
        });
      });
    },
    async status(model: string): Promise<MonitorStatus> {
      const eff = await effective(db, model);
      if (!eff) throw notFound(`monitor for ${model}`);
      const prod = await productionOf(db, model);
      const rules = compiled(eff.config);
      const states = prod ? await store.readStates(db, model, prod.versionId) : new Map();
      const baseline = prod ? await baselineOf(db, eff.config, prod) : null;
      const latest = prod
        ? await store.windows(db, model, { versionId: prod.versionId, limit: 5000, latestFirst: true })
        : [];
      return {
        model,
        configuredFor: eff.configuredFor,
        enabled: eff.config.enabled,
        version: prod?.version ?? null,
        baseline: baseline
          ? {
              from: baseline.from.toISOString(),
              to: baseline.to.toISOString(),
              complete: baseline.to.getTime() <= clock.now().getTime(),
            }
          : null,
        paths: prod ? await productionPaths(db, model, prod.versionId, clock.now()) : null,
        rules: rules.map((r) => {
          const s = states.get(r.name);
          const last = latest.find((w) => w.rule === r.name) ?? null;
          return {
            name: r.name,
            text: r.text ?? null,
            kind: r.kind,
            metric: r.kind === "metric" ? r.metric : null,
            feature: r.kind === "drift" ? r.feature : null,
            statistic: r.kind === "drift" ? r.statistic : null,
            windows: r.windows,
            windowHours: r.windowHours,
            state: !s ? "pending" : s.firing ? "firing" : s.streak > 0 ? "breaching" : "ok",
            streak: s?.streak ?? 0,
            lastWindowEnd: s?.lastWindowEnd ?? null,
            firedAt: s?.firedAt ?? null,
            last,
          };
        }),
      };
    },
    async history(model: string, f: { rule?: string; from?: string; to?: string; limit: number }) {
      if (!(await effective(db, model))) throw notFound(`monitor for ${model}`);
      return { model, windows: await store.windows(db, model, f) };
    },
    runModel,
    /** One pass over every watched model. */
    async runPass(ctx: RequestContext, opts: { fence?: Fence; maxWindows?: number } = {}) {
      const results: {
        model: string;
        judged: number;
        fired: FiredRule[];
        resolved: string[];
        error?: unknown;
      }[] = [];
      for (const model of await watchedModels(db)) {
        try {
          results.push({ model, ...(await runModel(ctx, model, opts)) });
        } catch (err) {
          if (err instanceof AppError)
            results.push({ model, judged: 0, fired: [], resolved: [], error: err });
          else throw err;
        }
      }
      return results;
    },
    ruleStates: () => store.allStates(db),
  };
}

export type MonitoringService = ReturnType<typeof createMonitoringService>;
