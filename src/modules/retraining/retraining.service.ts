/**
 * Retraining tasks: a monitor whose rule fires opens one for the model (or adds its evidence
 * to the one open), and the task follows the retrained candidate to production:
 *
 *   open → training → candidate_registered → evaluated → approved → rolled_out → closed
 *   any state before closed → dismissed (with a written justification)
 *
 * Every move is a row in retraining_transitions and an audit event (retraining.*) in the same
 * transaction; a refused move writes neither. The registry, the approvals and the evals know
 * nothing of this module: services.ts passes the hooks it exports to them.
 */
import type { CaseResult } from "../../engines/evaluation/index.ts";
import type { RequestContext } from "../../http/context.ts";
import { can } from "../../http/permissions.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { textProblem, unstorableText } from "../../lib/text-guard.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import {
  findVersion,
  getVersionById,
  lockModelNoKeyUpdate,
  modelByName,
  productionVersionId,
  type Version,
} from "../registry/index.ts";
import {
  failingSliceCounts,
  failingSlicePage,
  type SliceCounts,
  type SliceRow,
} from "../request-log/index.ts";
import { exportLines, type Range, rangesOf } from "./dataset.ts";
import { judgeCandidate } from "./evaluation.ts";
import {
  type DatasetQuery,
  type EvaluateInput,
  type Evidence,
  EvidenceSchema,
  type EvidenceView,
  MIN_JUSTIFICATION,
  type Opened,
  type OpenInput,
  type TaskDetail,
  type TaskQuery,
  type TaskState,
  type TaskView,
  type Verdict,
} from "./retraining.schemas.ts";
import * as store from "./retraining.store.ts";

/** Where each state may go. A new candidate may replace one not yet rolled out (a retry). */
export const NEXT: Record<TaskState, readonly TaskState[]> = {
  open: ["training", "dismissed"],
  training: ["candidate_registered", "dismissed"],
  candidate_registered: ["candidate_registered", "evaluated", "dismissed"],
  evaluated: ["candidate_registered", "approved", "dismissed"],
  approved: ["candidate_registered", "rolled_out", "dismissed"],
  rolled_out: ["closed", "dismissed"],
  closed: [],
  dismissed: [],
};

/** What the audit action of a move to each state is called. */
const ACTION: Record<TaskState, string> = {
  open: "retraining.opened",
  training: "retraining.training",
  candidate_registered: "retraining.candidate_registered",
  evaluated: "retraining.evaluated",
  approved: "retraining.approved",
  rolled_out: "retraining.rolled_out",
  closed: "retraining.closed",
  dismissed: "retraining.dismissed",
};

/** An evaluation run as this module reads it (the evals module's). */
export interface RunInfo {
  id: string;
  versionId: string;
  model: string;
  version: string;
  suiteHash: string;
  suiteName: string;
  status: string;
}

export interface RetrainingDeps {
  db: Db;
  clock: Clock;
  /** Whether the version has an approval in force now (the approvals module's gate). */
  approvalOf: (
    q: Queryable,
    versionId: string,
  ) => Promise<{ ok: boolean; requestId: string | null; unmet: { requirement: string; reason: string }[] }>;
  /** Evaluation runs and their case results (the evals module's). */
  runs: {
    get(id: string): Promise<RunInfo | null>;
    cases(id: string): Promise<CaseResult[]>;
  };
  /** Rows per read of the dataset export (tests make it small to cross pages). */
  slicePage?: number;
}

/** What a monitor passes when its rule fires. */
export interface BreachReport {
  /** The model's name. */
  model: string;
  /** The version the monitor watched (its id). */
  versionId: string;
  /** The rule that fired. */
  rule: string;
  /** The windows, numbers and test results: validated against EvidenceSchema. */
  evidence: unknown;
}

const EVIDENCE_SHOWN = 100;
const MAX_EVIDENCE_BYTES = 256 * 1024;

export function toView(t: store.TaskRow): TaskView {
  return {
    id: t.id,
    model: t.model,
    version: t.version,
    state: t.state,
    next: [...NEXT[t.state]],
    rule: t.rule,
    metric: t.metric,
    suiteHash: t.suiteHash,
    candidate:
      t.candidateVersionId && t.candidateVersion
        ? { id: t.candidateVersionId, version: t.candidateVersion }
        : null,
    evaluation: t.evaluation,
    resolution: t.resolution,
    evidenceCount: t.evidenceCount,
    openedBy: t.openedBy,
    openedAt: t.openedAt,
    updatedAt: t.updatedAt,
    endedAt: t.endedAt,
  };
}

const evidenceView = ({ versionId: _, ...e }: store.EvidenceRow): EvidenceView => e;

const encodeCursor = (t: store.TaskRow) =>
  Buffer.from(JSON.stringify([t.openedAt, t.id])).toString("base64url");

function decodeCursor(cursor: string): { at: string; id: string } {
  try {
    const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (
      Array.isArray(parts) &&
      parts.length === 2 &&
      typeof parts[0] === "string" &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(parts[0]) &&
      !Number.isNaN(Date.parse(parts[0])) &&
      typeof parts[1] === "string" &&
      /^rtk_[a-z0-9]{1,90}$/.test(parts[1])
    )
      return { at: parts[0], id: parts[1] };
  } catch {}
  throw invalid("query.cursor", "not a cursor this server issued");
}

/** Checks a monitor's evidence: its problems name the field, under `field`. */
function parseEvidence(value: unknown, rule: string, field: string): Evidence {
  const parsed = EvidenceSchema.safeParse(value);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({
      field: [field, ...i.path.map(String)].join("."),
      reason: i.message,
    }));
    throw new AppError("invalid_input", `${errors[0]!.field}: ${errors[0]!.reason}`, { errors });
  }
  // What the store cannot hold (a NUL, a lone surrogate) is refused here: the API's edge checks
  // request bodies, but monitors call this in-process.
  const unstorable = unstorableText(parsed.data, field);
  if (unstorable) throw invalid(unstorable.field, unstorable.reason);
  if (parsed.data.rule !== undefined && parsed.data.rule !== rule)
    throw invalid(`${field}.rule`, `names rule '${parsed.data.rule}', but the report is of rule '${rule}'`);
  if (JSON.stringify(parsed.data).length > MAX_EVIDENCE_BYTES)
    throw invalid(field, `at most ${MAX_EVIDENCE_BYTES / 1024} KiB of JSON`);
  return parsed.data;
}

export function createRetrainingService(deps: RetrainingDeps) {
  const { db, clock } = deps;
  const slicePage = deps.slicePage ?? 500;

  async function taskOrThrow(q: Queryable, id: string, forUpdate = false) {
    const t = await store.getTask(q, id, forUpdate);
    if (!t) throw notFound(`retraining task '${id}'`);
    return t;
  }

  /** The task, its model's row and then its own locked, in that order (every writer takes them so). */
  async function lockTask(tx: Tx, id: string) {
    const t = await taskOrThrow(tx, id);
    await lockModelNoKeyUpdate(tx, t.modelId);
    return taskOrThrow(tx, id, true);
  }

  function refuseMove(t: store.TaskRow, to: TaskState): never {
    const allowed = NEXT[t.state];
    throw new AppError(
      "conflict",
      `retraining task ${t.id} is ${t.state}: it cannot move to ${to}; ${allowed.length ? `next: ${allowed.join(", ")}` : "it is final"}`,
      { errors: [{ field: "state", reason: `illegal transition ${t.state} → ${to}` }], details: { allowed } },
    );
  }

  /** One move: the task's row, the transition, the audit event; refused when the state does not allow it. */
  async function move(
    tx: Tx,
    ctx: RequestContext,
    t: store.TaskRow,
    to: TaskState,
    opts: {
      reason: string;
      change?: Omit<Parameters<typeof store.updateTask>[2], "state" | "at">;
      after?: Record<string, unknown>;
    },
  ): Promise<store.TaskRow> {
    if (!NEXT[t.state].includes(to)) refuseMove(t, to);
    const at = clock.now().toISOString();
    await store.updateTask(tx, t.id, { state: to, at, ...opts.change });
    await store.insertTransition(tx, {
      taskId: t.id,
      from: t.state,
      to,
      reason: opts.reason,
      actor: ctx.actor,
      at,
    });
    await recordAudit(tx, ctx, clock.now(), {
      action: ACTION[to],
      subjectType: "retraining_task",
      subjectId: t.id,
      before: { state: t.state },
      after: { state: to, task: t.id, model: t.model, version: t.version, ...opts.after },
      reason: opts.reason,
    });
    return (await store.getTask(tx, t.id))!;
  }

  async function addEvidence(
    tx: Tx,
    ctx: RequestContext,
    t: { id: string },
    versionId: string,
    rule: string,
    evidence: Evidence,
  ) {
    const times = evidence.windows.flatMap((w) => [Date.parse(w.from), Date.parse(w.to)]);
    return store.insertEvidence(tx, {
      taskId: t.id,
      versionId,
      rule,
      metric: evidence.metric,
      evidence: { ...evidence, rule },
      windowFrom: new Date(Math.min(...times)).toISOString(),
      windowTo: new Date(Math.max(...times)).toISOString(),
      addedBy: ctx.actor,
      at: clock.now().toISOString(),
    });
  }

  /**
   * The one entry point of monitors. The model's row is locked first, so two replicas whose
   * rules fire at once are served one after the other: the first opens, the second adds its
   * evidence (a partial unique index on the open tasks of a model is the backstop). A task
   * rolled out whose retrained version now breaches is closed as superseded, and a new one opens.
   */
  async function openOrExtendValid(
    ctx: RequestContext,
    r: { model: string; versionId: string; rule: string; evidence: Evidence },
  ): Promise<Opened> {
    return db.transaction(async (tx) => {
      const model = await modelByName(tx, r.model);
      if (!model) throw notFound(`model '${r.model}'`);
      const version = await getVersionById(tx, r.versionId);
      if (!version || version.modelId !== model.id)
        throw invalid("versionId", `'${r.versionId}' is not a version of model '${r.model}'`);
      await lockModelNoKeyUpdate(tx, model.id);
      let open = await store.openTaskOf(tx, model.id, true);
      if (open?.state === "rolled_out" && open.candidateVersionId === version.id) {
        await move(tx, ctx, open, "closed", {
          reason: `superseded: rule ${r.rule} fired on the retrained version ${version.version}`,
          change: { resolution: `superseded by a new breach of ${version.version}` },
        });
        open = null;
      }
      if (open) {
        const e = await addEvidence(tx, ctx, open, version.id, r.rule, r.evidence);
        await store.updateTask(tx, open.id, { state: open.state, at: clock.now().toISOString() });
        const task = (await store.getTask(tx, open.id))!;
        await recordAudit(tx, ctx, clock.now(), {
          action: "retraining.evidence_added",
          subjectType: "retraining_task",
          subjectId: open.id,
          after: {
            task: open.id,
            model: model.name,
            version: version.version,
            state: task.state,
            evidenceCount: task.evidenceCount,
            evidence: evidenceView(e),
          },
          reason: r.evidence.summary,
        });
        return { opened: false, task: toView(task), evidence: evidenceView(e) };
      }
      const at = clock.now().toISOString();
      const id = newId("rtk");
      await store.insertTask(tx, {
        id,
        modelId: model.id,
        versionId: version.id,
        rule: r.rule,
        metric: r.evidence.metric,
        openedBy: ctx.actor,
        at,
      });
      const e = await addEvidence(tx, ctx, { id }, version.id, r.rule, r.evidence);
      await store.insertTransition(tx, {
        taskId: id,
        from: null,
        to: "open",
        reason: r.evidence.summary,
        actor: ctx.actor,
        at,
      });
      const task = (await store.getTask(tx, id))!;
      await recordAudit(tx, ctx, clock.now(), {
        action: "retraining.opened",
        subjectType: "retraining_task",
        subjectId: id,
        after: { task: toView(task), model: model.name, version: version.version, evidence: evidenceView(e) },
        reason: r.evidence.summary,
      });
      return { opened: true, task: toView(task), evidence: evidenceView(e) };
    });
  }

  /**
   * Opens a task for the model, or adds the evidence to the task open on it (a continuing
   * breach adds evidence, never a second task). The evidence is checked here: monitors call
   * this in-process. Bad input is an invalid_input error naming the field (`evidence.windows.0.to`).
   */
  async function openOrExtend(report: BreachReport, ctx: RequestContext): Promise<Opened> {
    if (typeof report.rule !== "string" || report.rule.length < 1 || report.rule.length > 200)
      throw invalid("rule", "a rule name of 1 to 200 characters");
    const badRule = textProblem(report.rule);
    if (badRule) throw invalid("rule", badRule);
    const evidence = parseEvidence(report.evidence, report.rule, "evidence");
    return openOrExtendValid(ctx, { ...report, evidence });
  }

  /** A version registered with `retrainedFrom` answers this task: may it? (before the version is written) */
  async function checkCandidate(tx: Tx, model: { id: string; name: string }, taskId: string) {
    const field = "body.retrainedFrom.task";
    const t = await store.getTask(tx, taskId, true);
    if (!t) throw invalid(field, `retraining task ${taskId} does not exist`);
    if (t.modelId !== model.id)
      throw invalid(field, `retraining task ${taskId} is about model '${t.model}', not '${model.name}'`);
    if (!NEXT[t.state].includes("candidate_registered"))
      throw new AppError(
        "conflict",
        t.state === "open"
          ? `retraining task ${taskId} is open: start training first (modelgov retraining start-training ${taskId})`
          : `retraining task ${taskId} is ${t.state}: it takes no candidate now`,
        { errors: [{ field, reason: `task is ${t.state}` }], details: { allowed: NEXT[t.state] } },
      );
  }

  /** The version is written: the task records its candidate; an earlier verdict no longer stands. */
  async function candidateRegistered(tx: Tx, ctx: RequestContext, v: Version) {
    const t = await taskOrThrow(tx, v.retrainedFrom!.task, true);
    const replaced = t.candidateVersion;
    await move(tx, ctx, t, "candidate_registered", {
      reason: `${v.model}@${v.version} registered, retrained from ${v.retrainedFrom!.version}${replaced ? ` (replaces ${replaced})` : ""}`,
      change: { candidateVersionId: v.id, evaluation: null },
      after: {
        candidate: { id: v.id, version: v.version },
        retrainedFrom: v.retrainedFrom!.version,
        replaced: replaced ?? null,
      },
    });
  }

  /** From evaluated to approved, when the candidate's approval is in force; quietly nothing otherwise. */
  async function approveIfDue(tx: Tx, ctx: RequestContext, t: store.TaskRow, requestId: string | null) {
    if (t.state !== "evaluated") return t;
    return move(tx, ctx, t, "approved", {
      reason: `${t.model}@${t.candidateVersion} approved${requestId ? ` (approval ${requestId})` : ""}`,
      after: { candidate: { id: t.candidateVersionId, version: t.candidateVersion }, approval: requestId },
    });
  }

  /** The approvals module's hook: a candidate's approval request was just approved. */
  async function onApproved(tx: Tx, ctx: RequestContext, versionId: string, requestId: string) {
    for (const id of await store.openTasksWithCandidate(tx, versionId))
      await approveIfDue(tx, ctx, await taskOrThrow(tx, id, true), requestId);
  }

  /**
   * The registry's hook: a version entered production. A task whose approved candidate it is
   * moves to rolled_out; one still at evaluated whose candidate's approval came first (and is
   * in force, or it could not be promoted) records the approval, then the roll-out.
   */
  async function onEnteredProduction(tx: Tx, ctx: RequestContext, v: Version) {
    for (const id of await store.openTasksWithCandidate(tx, v.id)) {
      let t = await taskOrThrow(tx, id, true);
      if (t.state === "evaluated") {
        const gate = await deps.approvalOf(tx, v.id);
        if (gate.ok) t = await approveIfDue(tx, ctx, t, gate.requestId);
      }
      if (t.state === "approved")
        await move(tx, ctx, t, "rolled_out", {
          reason: `${v.model}@${v.version} is now the production version`,
          after: { candidate: { id: v.id, version: v.version } },
        });
    }
  }

  async function get(id: string): Promise<TaskDetail> {
    const t = await taskOrThrow(db, id);
    return {
      ...toView(t),
      evidence: (await store.latestEvidence(db, id, EVIDENCE_SHOWN)).map(evidenceView),
      history: await store.transitionsOf(db, id),
    };
  }

  async function list(q: TaskQuery): Promise<{ items: TaskView[]; nextCursor: string | null }> {
    let modelId: string | undefined;
    if (q.model) {
      const m = await modelByName(db, q.model);
      if (!m) throw notFound(`model '${q.model}'`);
      modelId = m.id;
    }
    const rows = await store.listTasks(db, {
      modelId,
      state: q.state,
      before: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit);
    return {
      items: items.map(toView),
      nextCursor: rows.length > q.limit ? encodeCursor(items[items.length - 1]!) : null,
    };
  }

  /** A run this task may be judged on: completed, of the version expected. */
  async function runFor(id: string, field: string, versionId: string, what: string): Promise<RunInfo> {
    const run = await deps.runs.get(id);
    if (!run) throw invalid(field, `evaluation run ${id} does not exist`);
    if (run.status !== "completed")
      throw invalid(field, `evaluation run ${id} is ${run.status}, not completed`);
    if (run.versionId !== versionId)
      throw invalid(field, `evaluation run ${id} ran ${run.model}@${run.version}, not ${what}`);
    return run;
  }

  /**
   * Judges the candidate against production from two completed runs on the task's suite:
   * passed, the task moves to evaluated; not passed, it stays where it is and the verdict
   * (stored on the task, audited as retraining.evaluation_failed) says why.
   */
  async function evaluate(ctx: RequestContext, id: string, input: EvaluateInput) {
    const before = await taskOrThrow(db, id);
    if (before.state !== "candidate_registered") refuseMove(before, "evaluated");
    const production = await productionVersionId(db, before.modelId);
    if (!production) throw conflict(`'${before.model}' has no production version to compare with`);
    const prodVersion = (await getVersionById(db, production))!;
    const cand = await runFor(
      input.candidateRun,
      "body.candidateRun",
      before.candidateVersionId!,
      `the candidate ${before.model}@${before.candidateVersion}`,
    );
    const prod = await runFor(
      input.productionRun,
      "body.productionRun",
      production,
      `the production version ${before.model}@${prodVersion.version}`,
    );
    if (prod.suiteHash !== cand.suiteHash)
      throw invalid(
        "body.productionRun",
        `the runs ran different suites (${cand.suiteName} ${cand.suiteHash.slice(0, 15)}…, ${prod.suiteName} ${prod.suiteHash.slice(0, 15)}…)`,
      );
    if (before.suiteHash && cand.suiteHash !== before.suiteHash)
      throw invalid(
        "body.candidateRun",
        `the task's suite is ${before.suiteHash}; run ${cand.id} ran ${cand.suiteHash}`,
      );
    const judged = judgeCandidate({
      metric: before.metric,
      alpha: input.alpha,
      candidate: await deps.runs.cases(cand.id),
      production: await deps.runs.cases(prod.id),
    });
    const verdict: Verdict = {
      passed: judged.passed,
      metric: before.metric,
      basis: judged.basis,
      test: judged.test,
      direction: judged.direction,
      alpha: input.alpha,
      pairs: judged.pairs,
      unpaired: judged.unpaired,
      candidate: { run: cand.id, version: cand.version, value: judged.candidateValue },
      production: { run: prod.id, version: prod.version, value: judged.productionValue },
      difference: judged.difference,
      p: judged.p,
      details: judged.details,
      suite: { name: cand.suiteName, hash: cand.suiteHash },
      reasons: judged.reasons,
      at: clock.now().toISOString(),
    };
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      // What was read above still holds: same state, same candidate, same production.
      if (t.state !== "candidate_registered") refuseMove(t, "evaluated");
      if (t.candidateVersionId !== before.candidateVersionId)
        throw conflict(`retraining task ${id}: its candidate changed meanwhile; evaluate again`);
      if ((await productionVersionId(tx, t.modelId)) !== production)
        throw conflict(`'${t.model}': the production version changed meanwhile; evaluate again`);
      const pin = t.suiteHash ? {} : { suiteHash: cand.suiteHash };
      if (verdict.passed) {
        const moved = await move(tx, ctx, t, "evaluated", {
          reason: verdict.reasons.join("; "),
          change: { ...pin, evaluation: verdict },
          after: { candidate: { id: t.candidateVersionId, version: t.candidateVersion }, verdict },
        });
        return { task: toView(moved), verdict };
      }
      await store.updateTask(tx, t.id, {
        state: t.state,
        at: clock.now().toISOString(),
        ...pin,
        evaluation: verdict,
      });
      await recordAudit(tx, ctx, clock.now(), {
        action: "retraining.evaluation_failed",
        subjectType: "retraining_task",
        subjectId: t.id,
        after: { state: t.state, task: t.id, model: t.model, candidate: t.candidateVersion, verdict },
        reason: verdict.reasons.join("; "),
      });
      return { task: toView((await store.getTask(tx, t.id))!), verdict };
    });
  }

  async function startTraining(
    ctx: RequestContext,
    id: string,
    input: { note: string; suiteHash?: string | undefined },
  ) {
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      const moved = await move(tx, ctx, t, "training", {
        reason: input.note || "training started",
        change: input.suiteHash ? { suiteHash: input.suiteHash } : {},
        after: { suiteHash: input.suiteHash ?? t.suiteHash },
      });
      return toView(moved);
    });
  }

  /** Explicitly, when the hook could not (the approval came before the evaluation): checks the approval is in force. */
  async function markApproved(ctx: RequestContext, id: string) {
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      if (t.state !== "evaluated") refuseMove(t, "approved");
      const gate = await deps.approvalOf(tx, t.candidateVersionId!);
      if (!gate.ok)
        throw new AppError(
          "precondition_failed",
          `${t.model}@${t.candidateVersion} has no approval in force`,
          {
            errors: gate.unmet.map((u) => ({ field: u.requirement, reason: u.reason })),
            details: { unmet: gate.unmet },
          },
        );
      return toView(await approveIfDue(tx, ctx, t, gate.requestId));
    });
  }

  /** Explicitly, when the hook could not: checks the candidate is the production version now. */
  async function markRolledOut(ctx: RequestContext, id: string) {
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      if (t.state !== "approved") refuseMove(t, "rolled_out");
      const production = await productionVersionId(tx, t.modelId);
      if (production !== t.candidateVersionId) {
        const now = production ? (await getVersionById(tx, production))?.version : null;
        throw new AppError(
          "precondition_failed",
          `${t.model}@${t.candidateVersion} is not the production version (production: ${now ?? "none"})`,
          { errors: [{ field: "candidate", reason: "not the production version" }] },
        );
      }
      return toView(
        await move(tx, ctx, t, "rolled_out", {
          reason: `${t.model}@${t.candidateVersion} is the production version`,
          after: { candidate: { id: t.candidateVersionId, version: t.candidateVersion } },
        }),
      );
    });
  }

  async function close(ctx: RequestContext, id: string, note: string) {
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      return toView(
        await move(tx, ctx, t, "closed", {
          reason: note || "closed after roll-out",
          change: { resolution: note || null },
        }),
      );
    });
  }

  /**
   * Ends a task without retraining. Refused without a justification of at least
   * MIN_JUSTIFICATION characters, or to a caller without `retraining:dismiss` (checked here as
   * well as on the route: monitors and jobs call the service directly).
   */
  async function dismiss(ctx: RequestContext, id: string, justification: string) {
    if (!can(ctx.roles, "retraining:dismiss"))
      throw new AppError("forbidden", `dismissing needs the 'retraining:dismiss' permission`, {
        errors: [{ field: "authorization", reason: "missing permission retraining:dismiss" }],
      });
    const text = (justification ?? "").trim();
    if (text.length < MIN_JUSTIFICATION)
      throw invalid(
        "body.justification",
        `write at least ${MIN_JUSTIFICATION} characters: why the breach needs no retraining`,
      );
    return db.transaction(async (tx) => {
      const t = await lockTask(tx, id);
      return toView(await move(tx, ctx, t, "dismissed", { reason: text, change: { resolution: text } }));
    });
  }

  /**
   * The failing slice of the task's evidence windows. The counts are read first (the route
   * sends them as headers); the lines are read page by page as the client takes them.
   */
  async function dataset(id: string, q: DatasetQuery) {
    const t = await taskOrThrow(db, id);
    const evidence: store.EvidenceRow[] = [];
    for await (const e of store.allEvidence(db, id)) evidence.push(e);
    const ranges: Range[] = rangesOf(evidence);
    const filter = { model: t.model, ranges, scoreBelow: q.scoreBelow };
    const counts: SliceCounts = await failingSliceCounts(db, filter);
    async function* rows(): AsyncGenerator<SliceRow> {
      let after: { at: Date; id: string } | null = null;
      for (;;) {
        const page = await failingSlicePage(db, filter, after, slicePage);
        yield* page;
        const last = page[page.length - 1];
        if (!last || page.length < slicePage) return;
        after = { at: last.at, id: last.id };
      }
    }
    const suiteName = `retraining-${t.id.replaceAll("_", "-")}`;
    const lines = exportLines(rows(), {
      format: q.format,
      include: q.format === "suite" ? "corrected" : q.include,
      suiteName,
      describe: (x) =>
        `The failing slice of retraining task ${t.id} (${t.model}, ${t.metric}): ${x.exported} cases, each expecting the answer a reviewer's feedback gave. Left out: ${counts.withoutBody} failing requests whose body the body policy did not keep, ${x.uncorrected} without a correction, ${x.unrepresentable} whose chat a suite cannot hold (tool calls, turns without text). Scored by exact match: edit the scorers (an llm_judge with a rubric, say) for free-text answers.`,
    });
    return {
      task: toView(t),
      counts,
      ranges: ranges.map((r) => ({
        versionId: r.versionId,
        from: r.from.toISOString(),
        to: r.to.toISOString(),
      })),
      filename: q.format === "suite" ? `${suiteName}.suite.json` : `${suiteName}.jsonl`,
      contentType: q.format === "suite" ? "application/json" : "application/jsonl",
      lines,
    };
  }

  return {
    openOrExtend,
    /** `POST /retraining`: a person or an outside monitor reports a breach by version string. */
    async open(ctx: RequestContext, input: OpenInput): Promise<Opened> {
      const v = await findVersion(db, input.model, input.version);
      if (!v) {
        if (!(await modelByName(db, input.model))) throw notFound(`model '${input.model}'`);
        throw invalid("body.version", `version ${input.version} of '${input.model}' is not registered`);
      }
      if (input.evidence.rule !== undefined && input.evidence.rule !== input.rule)
        throw invalid(
          "body.evidence.rule",
          `names rule '${input.evidence.rule}', but the report is of rule '${input.rule}'`,
        );
      if (JSON.stringify(input.evidence).length > MAX_EVIDENCE_BYTES)
        throw invalid("body.evidence", `at most ${MAX_EVIDENCE_BYTES / 1024} KiB of JSON`);
      return openOrExtendValid(ctx, {
        model: input.model,
        versionId: v.id,
        rule: input.rule,
        evidence: input.evidence,
      });
    },
    get,
    list,
    startTraining,
    evaluate,
    markApproved,
    markRolledOut,
    close,
    dismiss,
    dataset,
    /** For the registry (services.ts wires them): a version registered with `retrainedFrom`. */
    retrainedCandidate: { check: checkCandidate, registered: candidateRegistered },
    /** For the approvals module: an approval request was approved. */
    onApproved,
    /** For the registry: a version entered production. */
    onEnteredProduction,
  };
}

export type RetrainingService = ReturnType<typeof createRetrainingService>;
/** What a monitor calls when its rule fires (the service's `openOrExtend`). */
export type OpenOrExtend = RetrainingService["openOrExtend"];
