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
import type { RequestContext } from "../../http/context.ts";
import { can } from "../../http/permissions.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { textProblem, unstorableText } from "../../lib/text-guard.ts";
import type { Db, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import {
  findVersion,
  getVersionById,
  lockModelNoKeyUpdate,
  modelByName,
  productionVersionId,
} from "../registry/index.ts";
import { createDatasetExport } from "./dataset-export.ts";
import { createEvaluation, type Runs } from "./evaluate.ts";
import { type ApprovalOf, createHooks } from "./hooks.ts";
import { createMoves, evidenceView, refuseMove, toView } from "./moves.ts";
import {
  type Evidence,
  EvidenceSchema,
  MIN_JUSTIFICATION,
  type Opened,
  type OpenInput,
  type TaskDetail,
  type TaskQuery,
  type TaskView,
} from "./retraining.schemas.ts";
import * as store from "./retraining.store.ts";

export interface RetrainingDeps {
  db: Db;
  clock: Clock;
  /** Whether the version has an approval in force now (the approvals module's gate). */
  approvalOf: ApprovalOf;
  /** Evaluation runs and their case results (the evals module's). */
  runs: Runs;
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
  const moves = createMoves(clock);
  const { taskOrThrow, lockTask, move } = moves;
  const hooks = createHooks({ moves, approvalOf: deps.approvalOf });
  const evaluate = createEvaluation({ db, clock, runs: deps.runs, moves });
  const dataset = createDatasetExport({ db, moves, slicePage: deps.slicePage ?? 500 });
  /** Runs on the caller's transaction when given one (a monitor's window), else in one of its own. */
  const inTx = <T>(q: Tx | undefined, fn: (tx: Tx) => Promise<T>) => (q ? fn(q) : db.transaction(fn));

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
    q?: Tx,
  ): Promise<Opened> {
    return inTx(q, async (tx) => {
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
   * Given a transaction (a monitor's window), it runs in it: the task commits with the verdict.
   */
  async function openOrExtend(report: BreachReport, ctx: RequestContext, tx?: Tx): Promise<Opened> {
    if (typeof report.rule !== "string" || report.rule.length < 1 || report.rule.length > 200)
      throw invalid("rule", "a rule name of 1 to 200 characters");
    const badRule = textProblem(report.rule);
    if (badRule) throw invalid("rule", badRule);
    const evidence = parseEvidence(report.evidence, report.rule, "evidence");
    return openOrExtendValid(ctx, { ...report, evidence }, tx);
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
      return toView(await hooks.approveIfDue(tx, ctx, t, gate.requestId));
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
    retrainedCandidate: hooks.retrainedCandidate,
    /** For the approvals module: an approval request was approved. */
    onApproved: hooks.onApproved,
    /** For the registry: a version entered production. */
    onEnteredProduction: hooks.onEnteredProduction,
  };
}

export type RetrainingService = ReturnType<typeof createRetrainingService>;
/** What a monitor calls when its rule fires (the service's `openOrExtend`). */
export type OpenOrExtend = RetrainingService["openOrExtend"];
