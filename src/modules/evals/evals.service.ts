/**
 * Evaluation runs: start (or resume) a run of a version on a suite, read its progress and
 * cases, complete it (report, evidence, card and audit in one transaction), compare two runs
 * case by case, and accept a flagged disparity with a written justification. The cases
 * themselves are run by the worker (worker.ts), which holds each run through a lease.
 */
import { comparePaired } from "../../engines/evaluation/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import type { ApprovalsService } from "../approvals/index.ts";
import { recordAudit } from "../audit/index.ts";
import { latestRevision } from "../cards/cards.store.ts";
import type { CardContent, CardsService } from "../cards/index.ts";
import { findVersion, getVersionById, lockModelByName, scopeIds } from "../registry/index.ts";
import * as store from "./evals.store.ts";
import { buildReport, cardSection, type RunReport, reportHash } from "./report.ts";
import { type RoutingSection, routingSection } from "./routing.ts";
import { parseSuiteObject, type Suite } from "./suite.ts";

export interface StartOptions {
  concurrency?: number;
  maxAttempts?: number;
  outputs?: "text" | "hash";
  intersections?: string[][];
  minGroupSize?: number;
}

export interface RunView extends Omit<store.RunRow, "report"> {
  report: RunReport | null;
  /** A fairness gate failed and no reviewer has accepted the disparity yet. */
  needsReview: boolean;
  acceptance: { by: string; justification: string; at: string } | null;
  /** A completed run of a router version, read one at a time: per tier, the tiers alone, the curve (routing.ts). */
  routing?: RoutingSection;
}

export function createEvalsService(deps: {
  db: Db;
  clock: Clock;
  approvals: ApprovalsService;
  cards: CardsService;
  /** Custom scorers are enabled only when the operator set a scorer directory. */
  scorersDir?: string;
}) {
  const { db, clock, approvals, cards } = deps;
  /** The worker subscribes, so a started run begins at once rather than at the next look. */
  const startListeners = new Set<() => void>();

  async function versionOrThrow(q: Queryable, model: string, version: string) {
    const v = await findVersion(q, model, version);
    if (!v) throw notFound(`version '${version}' of model '${model}'`);
    return v;
  }

  /** `model@version` of a judge → its version id. */
  async function resolveRef(ref: string): Promise<string> {
    const [model, version] = ref.split("@") as [string, string];
    const v = await findVersion(db, model, version);
    if (!v) throw notFound(`judge model ${ref}`);
    if (v.status === "retired") throw invalid("suite.scorers", `judge model ${ref} is retired`);
    return v.id;
  }

  async function acceptanceOf(q: Queryable, runId: string) {
    const rows = await q.query<{ details: { acceptance?: RunView["acceptance"] } | null }>(
      `SELECT details FROM evidence WHERE run_id = $1 AND kind = 'fairness-passed' ORDER BY seq DESC LIMIT 1`,
      [runId],
    );
    return rows[0]?.details?.acceptance ?? null;
  }

  async function view(q: Queryable, r: store.RunRow): Promise<RunView> {
    const report = r.report as RunReport | null;
    const acceptance = report ? await acceptanceOf(q, r.id) : null;
    const needsReview = !!report?.gates.fairness && !report.gates.fairness.passed && !acceptance;
    return { ...r, report, needsReview, acceptance };
  }

  async function runOrThrow(q: Queryable, id: string, forUpdate = false) {
    const r = await store.getRun(q, id, forUpdate);
    if (!r) throw notFound(`evaluation run '${id}'`);
    return r;
  }

  /** Checks what the server must provide before any case runs: judge models and the scorer directory. */
  async function preflight(suite: Suite) {
    const all = [...suite.scorers, ...suite.cases.flatMap((c) => c.scorers ?? [])];
    for (const s of all) {
      if (s.kind === "llm_judge") await resolveRef(s.model);
      if (s.kind === "custom" && !deps.scorersDir)
        throw invalid(
          "suite.scorers",
          `custom scorer ${s.module}: custom scorers are disabled on this server (set MODELGOV_EVAL_SCORERS_DIR)`,
        );
    }
  }

  /** Writes the report, the evidence, the card section and the audit events of a finished run. */
  async function completeTx(tx: Tx, run: store.RunRow): Promise<RunView> {
    const ctx: RequestContext = { actor: run.createdBy, requestId: `eval-${run.id}`, roles: [] };
    const cases = await store.caseResults(tx, run.id);
    const version = (await getVersionById(tx, run.versionId))!;
    const gates = await approvals.gatesFor(tx, version.modelId);
    const suite = await store.loadSuiteByHash(tx, run.suiteHash);
    const expected = new Map<string, string>();
    for (const c of suite?.cases ?? [])
      if (typeof c.expect.label === "string") expected.set(c.id, c.expect.label);
    const report = buildReport(run, cases, gates, expected);
    const hash = reportHash(report);
    const at = clock.now().toISOString();
    await store.finishRun(tx, run.id, { status: "completed", at, report, reportHash: hash });
    const uri = `modelgov:eval-run/${run.id}`;
    const base = { uri, contentHash: hash, runId: run.id };
    const b = report.gates.benchmark;
    await approvals.attachEvidenceTx(tx, ctx, run.versionId, {
      ...base,
      kind: "benchmark-passed",
      passed: b.passed,
      summary: b.failures.length
        ? b.failures.map((f) => f.reason).join("; ")
        : `suite ${run.suiteName}: gates pass`,
      details: { runId: run.id, gatesHash: report.gates.hash, failures: b.failures },
    });
    const f = report.gates.fairness;
    await approvals.attachEvidenceTx(tx, ctx, run.versionId, {
      ...base,
      kind: "fairness-passed",
      passed: f ? f.passed : true,
      summary: f?.failures.length
        ? f.failures.map((x) => x.reason).join("; ")
        : "no group gap past the gates",
      details: { runId: run.id, gatesHash: report.gates.hash, failures: f?.failures ?? [], acceptance: null },
    });
    // The card's Quantitative Analyses section follows the latest run, while the version is
    // on its way to approval. Once an approval is in force the card stays as it was signed
    // (a new card would void that approval): the run is still attached as evidence.
    const settled = version.status === "production" || version.status === "deprecated";
    if (!settled && !(await approvals.gate(tx, run.versionId)).ok) {
      const latest = await latestRevision(tx, run.versionId);
      const content: CardContent = latest?.content ?? { metadata: {}, sections: {}, extraSections: [] };
      await cards.saveTx(
        tx,
        ctx,
        run.model,
        run.version,
        { ...content, sections: { ...content.sections, quantitative_analyses: cardSection(report, hash) } },
        "evaluation",
      );
    }
    await recordAudit(tx, ctx, clock.now(), {
      action: "eval.completed",
      subjectType: "model_version",
      subjectId: run.versionId,
      after: {
        run: run.id,
        suite: run.suiteName,
        reportHash: hash,
        aggregate: report.aggregate,
        gates: { benchmark: b.passed, fairness: f ? f.passed : null },
      },
    });
    if (f && !f.passed)
      await recordAudit(tx, ctx, clock.now(), {
        action: "eval.review_needed",
        subjectType: "model_version",
        subjectId: run.versionId,
        after: { run: run.id, failures: f.failures },
        reason:
          "a group gap exceeds the release gate: a reviewer must accept it or the version stays blocked",
      });
    return view(tx, (await store.getRun(tx, run.id))!);
  }

  return {
    resolveRef,
    onStart(fn: () => void) {
      startListeners.add(fn);
      return () => startListeners.delete(fn);
    },

    async start(
      ctx: RequestContext,
      model: string,
      version: string,
      suiteDoc: unknown,
      opts: StartOptions = {},
    ): Promise<RunView & { resumed: boolean }> {
      const suite = parseSuiteObject(suiteDoc, {
        baseDir: "/",
        readText: () => {
          throw new Error("an uploaded suite carries its cases inline (casesFile is read by the CLI)");
        },
      });
      await preflight(suite);
      const out = await db.transaction(async (tx) => {
        await lockModelByName(tx, model);
        const v = await versionOrThrow(tx, model, version);
        if (v.status === "retired")
          throw conflict(`${model}@${version} is retired`, [{ field: "version", reason: "retired" }]);
        await store.saveSuite(tx, suite, clock.now().toISOString());
        const running = await store.runningRunFor(tx, v.id, suite.hash);
        if (running) return { ...(await view(tx, running)), resumed: true };
        const options: store.RunOptions = {
          concurrency: opts.concurrency ?? 8,
          maxAttempts: opts.maxAttempts ?? 3,
          outputs: opts.outputs ?? "text",
          intersections: opts.intersections ?? [],
          minGroupSize: opts.minGroupSize ?? 30,
        };
        const id = newId("evr");
        await store.insertRun(tx, {
          id,
          versionId: v.id,
          suiteHash: suite.hash,
          suiteName: suite.name,
          options,
          total: suite.cases.length,
          createdBy: ctx.actor,
          createdAt: clock.now().toISOString(),
        });
        await recordAudit(tx, ctx, clock.now(), {
          action: "eval.started",
          subjectType: "model_version",
          subjectId: v.id,
          after: { run: id, suite: suite.name, suiteHash: suite.hash, cases: suite.cases.length, options },
        });
        return { ...(await view(tx, (await store.getRun(tx, id))!)), resumed: false };
      });
      for (const fn of startListeners) fn();
      return out;
    },

    async get(id: string): Promise<RunView> {
      const r = await runOrThrow(db, id);
      const out = await view(db, r);
      if (r.status !== "completed") return out;
      const v = await getVersionById(db, r.versionId);
      if (v?.provider !== "router") return out;
      const cases = await store.caseResults(db, id);
      const suite = await store.loadSuiteByHash(db, r.suiteHash);
      return { ...out, routing: await routingSection(db, r, v.parameters, cases, suite) };
    },

    async list(f: { model?: string; version?: string; status?: store.RunStatus; limit: number }) {
      const scope = await scopeIds(db, f);
      const rows = await store.listRuns(db, { ...scope, status: f.status, limit: f.limit });
      return Promise.all(rows.map((r) => view(db, r)));
    },

    async cases(id: string, page: { after?: number; limit?: number }) {
      await runOrThrow(db, id);
      return store.caseResults(db, id, page);
    },

    suiteOf: (hash: string) => store.loadSuiteByHash(db, hash),
    runningIds: () => store.runningRunIds(db),
    getRow: (id: string) => store.getRun(db, id),

    /**
     * Completes a run whose every case is recorded. `stillHeld` fences a runner whose lease
     * was taken over meanwhile (checked inside the transaction). Returns null when not done.
     */
    async complete(id: string, stillHeld: (tx: Tx) => Promise<boolean>): Promise<RunView | null> {
      return db.transaction(async (tx) => {
        const run = await runOrThrow(tx, id, true);
        if (run.status !== "running" || run.done < run.total || !(await stillHeld(tx))) return null;
        await lockModelByName(tx, run.model);
        return completeTx(tx, run);
      });
    },

    async cancel(ctx: RequestContext, id: string, reason: string): Promise<RunView> {
      return db.transaction(async (tx) => {
        const run = await runOrThrow(tx, id, true);
        if (run.status !== "running")
          throw conflict(`run ${id} is ${run.status}`, [{ field: "id", reason: `run is ${run.status}` }]);
        await store.finishRun(tx, id, { status: "cancelled", at: clock.now().toISOString(), error: reason });
        await recordAudit(tx, ctx, clock.now(), {
          action: "eval.cancelled",
          subjectType: "model_version",
          subjectId: run.versionId,
          after: { run: id, done: run.done, total: run.total },
          reason,
        });
        return view(tx, (await store.getRun(tx, id))!);
      });
    },

    /** Two runs on the same suite, paired case by case: the flips and McNemar's test. */
    async compare(a: string, b: string, alpha = 0.05) {
      const [ra, rb] = [await runOrThrow(db, a), await runOrThrow(db, b)];
      if (ra.suiteHash !== rb.suiteHash)
        throw invalid("b", `runs ${a} and ${b} ran different suites (${ra.suiteName}, ${rb.suiteName})`);
      const comparison = comparePaired(await store.caseResults(db, a), await store.caseResults(db, b), alpha);
      const summary = async (r: store.RunRow) => {
        const v = await view(db, r);
        return {
          id: r.id,
          model: r.model,
          version: r.version,
          status: r.status,
          aggregate: v.report?.aggregate ?? null,
        };
      };
      return {
        suite: ra.suiteName,
        suiteHash: ra.suiteHash,
        a: await summary(ra),
        b: await summary(rb),
        ...comparison,
      };
    },

    /** The latest completed run of a version on a suite (compare reuses it rather than running again). */
    async latestCompleted(model: string, version: string, suiteHash: string) {
      const v = await versionOrThrow(db, model, version);
      const r = await store.latestCompleted(db, v.id, suiteHash);
      return r ? view(db, r) : null;
    },

    /**
     * A reviewer accepts a flagged disparity with a written justification: the run's
     * fairness evidence is attached again (same report hash) as passed, with the acceptance.
     */
    async acceptDisparity(ctx: RequestContext, id: string, justification: string): Promise<RunView> {
      return db.transaction(async (tx) => {
        const run = await runOrThrow(tx, id, true);
        await lockModelByName(tx, run.model);
        const v = await view(tx, run);
        const forbid = (reason: string) =>
          new AppError("forbidden", reason, { errors: [{ field: "id", reason }] });
        if (run.status !== "completed" || !v.report?.gates.fairness || v.report.gates.fairness.passed)
          throw conflict(`run ${id} has no failing fairness gate to accept`, [
            { field: "id", reason: "nothing to accept" },
          ]);
        if (v.acceptance) throw conflict(`run ${id}: already accepted by ${v.acceptance.by}`, []);
        const version = (await getVersionById(tx, run.versionId))!;
        if (ctx.actor === run.createdBy)
          throw forbid("separation of duties: whoever ran the evaluation cannot accept it");
        if (ctx.actor === version.createdBy)
          throw forbid("separation of duties: the version's author cannot accept it");
        const latest = await tx.query<{ run_id: string | null }>(
          `SELECT run_id FROM evidence WHERE version_id = $1 AND kind = 'fairness-passed' ORDER BY seq DESC LIMIT 1`,
          [run.versionId],
        );
        if (latest[0]?.run_id !== id)
          throw conflict(`run ${id} is no longer the version's latest evaluation`, [
            { field: "id", reason: "superseded by a later run" },
          ]);
        const acceptance = { by: ctx.actor, justification, at: clock.now().toISOString() };
        const failures = v.report.gates.fairness.failures;
        await approvals.attachEvidenceTx(tx, ctx, run.versionId, {
          kind: "fairness-passed",
          uri: `modelgov:eval-run/${id}`,
          contentHash: run.reportHash!,
          passed: true,
          summary: `disparity accepted by ${ctx.actor}: ${justification}`,
          runId: id,
          details: { runId: id, gatesHash: v.report.gates.hash, failures, acceptance },
        });
        await recordAudit(tx, ctx, clock.now(), {
          action: "eval.disparity_accepted",
          subjectType: "model_version",
          subjectId: run.versionId,
          after: { run: id, failures, justification },
          reason: justification,
        });
        return view(tx, (await store.getRun(tx, id))!);
      });
    },
  };
}

export type EvalsService = ReturnType<typeof createEvalsService>;
