/**
 * The routing section of a router version's evaluation (issue 18): per tier (cases answered,
 * success, cost, cost per success) and overall; each tier alone on the same suite (its latest
 * completed run: always-cheap, always-strong); and, for a two-tier complexity or trained
 * router, the exact cost-quality curve over its threshold, from each case's score and what
 * each tier did on that case. `modelgov router calibrate` and `train` read the same pieces.
 *
 * Computed when the run is read, not frozen in its report: the tiers' runs may come later,
 * and the report's hash (the approval evidence) must not move when they do.
 */
import { type CalibrationCase, type CurvePoint, costQualityCurve } from "../../engines/routing/index.ts";
import type { Queryable } from "../../store/db.ts";
import { type CompiledRouter, compileRouter, routerInput } from "../gateway/index.ts";
import * as store from "./evals.store.ts";
import type { Message, Suite } from "./suite.ts";

export interface Figures {
  cases: number;
  passed: number;
  successRate: number | null;
  costUsd: number;
  costPerCaseUsd: number | null;
  /** Dollars per passing case: what a success costs. */
  costPerSuccessUsd: number | null;
}

export interface TierFigures extends Figures {
  tier: string;
  target: string;
  /** The versions that answered this tier's cases (one, unless an alias moved mid-run). */
  versionIds: string[];
  /** Cases where the tier was called (a cascade's escalations, an ensemble's every member). */
  calls: number;
}

export interface Baseline extends Figures {
  tier: string;
  /** `model@version` the tier's cases went to (else its target resolved now). */
  version: string | null;
  versionId: string | null;
  /** The tier's own latest completed run of the suite; null with `missing` saying what to run. */
  runId: string | null;
  missing?: string;
}

/** A curve point as JSON: `threshold` null at the ends (all cheap, all strong: see strongShare). */
export interface JsonPoint {
  threshold: number | null;
  strongShare: number;
  successRate: number;
  costPerCaseUsd: number;
}

export interface RoutingSection {
  strategy: string;
  classifier: string | null;
  /** A two-tier router's threshold, the one the curve is over. */
  threshold: number | null;
  tiers: TierFigures[];
  /** Cases no tier answered (the router's call failed). */
  unanswered: number;
  overall: Figures;
  /** Each tier alone on the suite, in tier order: the first is always-cheap, the last always-strong. */
  baselines: Baseline[];
  /** The router against always-strong: its share of strong's success, and of strong's cost. */
  versusStrong: { successShare: number | null; costShare: number | null } | null;
  curve: { cases: number; points: JsonPoint[]; current: JsonPoint | null } | null;
  notes: string[];
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

export function figures(cases: readonly store.CaseRow[]): Figures {
  const passed = cases.filter((c) => c.passed).length;
  const costUsd = cases.reduce((s, c) => s + c.costUsd, 0);
  return {
    cases: cases.length,
    passed,
    successRate: ratio(passed, cases.length),
    costUsd,
    costPerCaseUsd: ratio(costUsd, cases.length),
    costPerSuccessUsd: ratio(costUsd, passed),
  };
}

/** A router that can be calibrated: `route` over two tiers, by complexity or a two-class trained model. */
export function calibratable(router: CompiledRouter): { threshold: number } | { reason: string } {
  const p = router.policy;
  const c = p.classifier;
  if (p.strategy !== "route" || !c)
    return {
      reason: `a ${p.strategy} has no threshold: only a route by complexity or a trained classifier does`,
    };
  if (p.tiers.length !== 2) return { reason: `${p.tiers.length} tiers: calibration is for two tiers` };
  if (c.kind === "complexity") return { threshold: c.thresholds[0]! };
  if (c.kind === "trained" && c.model.classes.length === 2) return { threshold: c.threshold ?? 0.5 };
  return { reason: `a ${c.kind} classifier has no threshold: only complexity or a two-class trained one` };
}

/** The router's score of a case (what its threshold is compared with), as the gateway computes it. */
export function scoreOf(router: CompiledRouter, messages: readonly Message[]): number | null {
  return (
    router.pick(routerInput({ model: "router", messages: messages.map((m) => ({ ...m })) })).score ?? null
  );
}

/** Cases run on both tiers with a score, paired by case id. */
export function calibrationCases(
  scores: ReadonlyMap<string, number>,
  cheap: readonly store.CaseRow[],
  strong: readonly store.CaseRow[],
): CalibrationCase[] {
  const strongById = new Map(strong.map((c) => [c.caseId, c]));
  const out: CalibrationCase[] = [];
  for (const a of cheap) {
    const b = strongById.get(a.caseId);
    const score = scores.get(a.caseId);
    if (!b || score === undefined) continue;
    out.push({
      score,
      cheap: { success: a.passed ? 1 : 0, costUsd: a.costUsd },
      strong: { success: b.passed ? 1 : 0, costUsd: b.costUsd },
    });
  }
  return out;
}

/** The mix at one threshold: cases scoring at or above it go to the strong tier. */
export function pointAt(cases: readonly CalibrationCase[], threshold: number): CurvePoint {
  let strong = 0;
  let success = 0;
  let cost = 0;
  for (const c of cases) {
    const side = c.score >= threshold ? c.strong : c.cheap;
    if (c.score >= threshold) strong++;
    success += side.success;
    cost += side.costUsd;
  }
  const n = Math.max(1, cases.length);
  return { threshold, strongShare: strong / n, successRate: success / n, costPerCaseUsd: cost / n };
}

export const jsonPoint = (p: CurvePoint): JsonPoint => ({
  ...p,
  threshold: Number.isFinite(p.threshold) ? p.threshold : null,
});

/** The version a tier's target names now, as the router would call it: production alias, alias, or version. */
export async function resolveTarget(q: Queryable, target: string): Promise<string | null> {
  const at = target.indexOf("@");
  const name = at < 0 ? target : target.slice(0, at);
  const selector = at < 0 ? "production" : target.slice(at + 1);
  const rows = await q.query<{ id: string }>(
    /^\d+\.\d+\.\d+/.test(selector)
      ? `SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id
          WHERE m.name = $1 AND v.version = $2 AND v.status <> 'retired'`
      : `SELECT a.version_id AS id FROM aliases a JOIN models m ON m.id = a.model_id
          WHERE m.name = $1 AND a.alias = $2`,
    [name, selector],
  );
  return rows[0]?.id ?? null;
}

async function labelOf(q: Queryable, versionId: string): Promise<string | null> {
  const rows = await q.query<{ label: string }>(
    `SELECT m.name || '@' || v.version AS label FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.id = $1`,
    [versionId],
  );
  return rows[0]?.label ?? null;
}

export interface TierRun {
  tier: string;
  versionId: string | null;
  version: string | null;
  run: store.RunRow | null;
  cases: store.CaseRow[];
}

/** Each tier's version and its latest completed run of the suite (`preferred`: the version its cases went to). */
export async function tierRuns(
  q: Queryable,
  router: CompiledRouter,
  suiteHash: string,
  preferred: ReadonlyMap<string, string> = new Map(),
): Promise<TierRun[]> {
  const out: TierRun[] = [];
  for (const t of router.tiers) {
    const versionId = preferred.get(t.name) ?? (await resolveTarget(q, t.target));
    const run = versionId ? await store.latestCompleted(q, versionId, suiteHash) : null;
    out.push({
      tier: t.name,
      versionId,
      version: versionId ? await labelOf(q, versionId) : null,
      run,
      cases: run ? await store.caseResults(q, run.id) : [],
    });
  }
  return out;
}

/** The routing section of a completed run of a router version (parameters: its policy). */
export async function routingSection(
  q: Queryable,
  run: store.RunRow,
  parameters: unknown,
  cases: readonly store.CaseRow[],
  suite: Suite | null,
): Promise<RoutingSection> {
  const router = compileRouter(parameters);
  const notes: string[] = [];
  const tiers: TierFigures[] = router.tiers.map((t) => {
    const answered = cases.filter((c) => c.route?.tier === t.name);
    const calls = cases.filter((c) =>
      c.route?.tiers ? c.route.tiers.some((x) => x.tier === t.name) : c.route?.tier === t.name,
    ).length;
    return {
      tier: t.name,
      target: t.target,
      versionIds: [...new Set(answered.map((c) => c.route!.versionId))],
      calls,
      ...figures(answered),
    };
  });
  // The baseline of a tier is the version its cases went to (the most common), else its target now.
  const preferred = new Map<string, string>();
  for (const t of tiers) {
    const counts = new Map<string, number>();
    for (const c of cases)
      if (c.route?.tier === t.tier) counts.set(c.route.versionId, (counts.get(c.route.versionId) ?? 0) + 1);
    const top = [...counts].sort((a, b) => b[1] - a[1])[0];
    if (top) preferred.set(t.tier, top[0]);
  }
  const runs = await tierRuns(q, router, run.suiteHash, preferred);
  const baselines: Baseline[] = runs.map((r) => ({
    tier: r.tier,
    version: r.version,
    versionId: r.versionId,
    runId: r.run?.id ?? null,
    ...figures(r.cases),
    ...(r.run
      ? {}
      : {
          missing: r.version
            ? `no completed run of suite ${run.suiteName} on ${r.version}: modelgov eval run ${r.version} --suite <file>`
            : `tier ${r.tier} names no version now`,
        }),
  }));
  const overall = figures(cases);
  const strong = baselines.at(-1);
  const versusStrong =
    strong?.runId && overall.successRate !== null
      ? {
          successShare: strong.successRate ? overall.successRate / strong.successRate : null,
          costShare: strong.costPerCaseUsd ? (overall.costPerCaseUsd ?? 0) / strong.costPerCaseUsd : null,
        }
      : null;
  const can = calibratable(router);
  let curve: RoutingSection["curve"] = null;
  if ("reason" in can) notes.push(`no cost-quality curve: ${can.reason}`);
  else if (!runs[0]!.run || !runs[1]!.run)
    notes.push("no cost-quality curve until the suite is evaluated on both tiers alone (see baselines)");
  else {
    // The score each case had: as recorded, else computed from the suite by the same code.
    const scores = new Map<string, number>();
    for (const c of cases) if (c.route?.score !== undefined) scores.set(c.caseId, c.route.score);
    for (const c of suite?.cases ?? [])
      if (!scores.has(c.id)) {
        const s = scoreOf(router, c.input.messages);
        if (s !== null) scores.set(c.id, s);
      }
    const paired = calibrationCases(scores, runs[0]!.cases, runs[1]!.cases);
    if (paired.length === 0) notes.push("no case was run on both tiers with a score");
    else
      curve = {
        cases: paired.length,
        points: costQualityCurve(paired).map(jsonPoint),
        current: jsonPoint(pointAt(paired, can.threshold)),
      };
  }
  const c = router.policy.classifier;
  return {
    strategy: router.policy.strategy,
    classifier: c?.kind ?? null,
    threshold: "threshold" in can ? can.threshold : null,
    tiers,
    unanswered: cases.filter((x) => !x.route).length,
    overall,
    baselines,
    versusStrong,
    curve,
    notes,
  };
}
