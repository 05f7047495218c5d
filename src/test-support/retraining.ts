// Test fixtures for retraining tasks: models whose production version scores 60% on a label
// suite (the simulator), candidates registered over the API, evaluation runs that complete, and
// monitors' evidence.

import assert from "node:assert/strict";
import { createLogger } from "../lib/logger.ts";
import { SignSchema } from "../modules/approvals/approvals.schemas.ts";
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";
import { createEvalInvoker, createEvalWorker } from "../modules/evals/index.ts";
import { ModelCreateSchema, VersionCreateSchema } from "../modules/registry/index.ts";
import { createAdapters } from "../providers/index.ts";
import { ctx, type Harness, readJson } from "./stores.ts";

const JSON_HEADERS = { "content-type": "application/json" };
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: test fixture.`])),
  extraSections: [],
};
const LABELS = ["billing", "technical", "account", "shipping"];
/** 120 label cases: enough for McNemar to tell 95% from 60%, and to find nothing between 60% and 60%. */
export const labelSuite = (name: string) => ({
  name,
  template: "Classify: {{ticket}}",
  scorers: [{ kind: "label", labels: LABELS }],
  cases: Array.from({ length: 120 }, (_, i) => ({
    id: `c${String(i).padStart(3, "0")}`,
    input: { fields: { ticket: `ticket number ${i}` } },
    expect: { label: LABELS[i % 4] },
  })),
});
const sim = (success: number, seed = 42) => ({
  latencyMs: { p50: 0, p95: 0 },
  tokens: { output: 20 },
  quality: { success },
  seed,
});
export const JUSTIFICATION = "seasonal dip: the December baseline is known to run 8 points lower";

/** A monitor's evidence: one breached window of `hours` hours starting `startH` hours after 09:00. */
export function evidence(startH = 0, hours = 1, metric = "success_rate") {
  const from = new Date(Date.UTC(2026, 2, 1, 9 + startH)).toISOString();
  const to = new Date(Date.UTC(2026, 2, 1, 9 + startH + hours)).toISOString();
  return {
    metric,
    windows: [{ from, to, value: 0.78, baseline: 0.9, n: 500, p: 0.0004, breached: true, z: -3.5 }],
    summary: `${metric} 78.0% vs 90.0% baseline over ${hours} h (p = 0.0004)`,
    test: { name: "two-proportion z", alpha: 0.01 },
  };
}

/** The helpers of a retraining test over one harness; `ids` maps `model@version` to version ids. */
export function retrainingKit(h: () => Harness) {
  const ids: Record<string, string> = {};
  const post = (path: string, body: unknown, token?: string) =>
    h().request(
      `/api/v1${path}`,
      { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(body) },
      token,
    );
  const get = (path: string, token?: string) => h().request(`/api/v1${path}`, {}, token);
  const register = (model: string, version: string, success: number, extra: Record<string, unknown> = {}) =>
    post(`/models/${model}/versions`, {
      version,
      provider: "simulator",
      providerModelId: "sim",
      parameters: sim(success),
      card: CARD,
      ...extra,
    });
  const approve = async (model: string, version: string) => {
    const req = await h().services.approvals.request(ctx(), model, version, "ship it");
    return h().services.approvals.sign(
      ctx("eve", ["engineering"]),
      req.id,
      SignSchema.parse({ role: "engineering", decision: "approve" }),
    );
  };
  /** A model whose 1.0.0 (60% on the suite) is in production. */
  const seed = async (model: string) => {
    await h().services.registry.createModel(
      ctx(),
      ModelCreateSchema.parse({ name: model, owner: "team", riskTier: "low" }),
    );
    const v = await h().services.registry.registerVersion(
      ctx(),
      model,
      VersionCreateSchema.parse({
        version: "1.0.0",
        provider: "simulator",
        providerModelId: "sim",
        parameters: sim(0.6),
        card: CARD,
      }),
    );
    ids[`${model}@1.0.0`] = v.id;
    await approve(model, "1.0.0");
    await h().services.registry.setAlias(ctx(), model, "production", "1.0.0", "first release");
  };
  const report = (model: string, version = "1.0.0", rule = "success-drop", ev = evidence()) =>
    h().services.retraining.openOrExtend(
      { model, versionId: ids[`${model}@${version}`]!, rule, evidence: ev },
      ctx("monitoring", ["admin"]),
    );
  /** Starts an evaluation worker on the harness (stop it in `after`). */
  const startWorker = async () => {
    const worker = createEvalWorker({
      db: h().db,
      clock: h().clock,
      evals: h().services.evals,
      invoker: createEvalInvoker({ db: h().db, adapters: createAdapters(), apiKeyFor: () => undefined }),
      logger: createLogger("silent"),
      intervalMs: 20,
      leaseTtlMs: 5_000,
    });
    await worker.start();
    return worker;
  };
  /** Runs the label suite on a version to completion (a worker must be running); the run's id. */
  const runSuite = async (model: string, version: string, name = "churn-slice") => {
    const run = await h().services.evals.start(ctx(), model, version, labelSuite(name));
    for (let i = 0; i < 600; i++) {
      const x = await h().services.evals.get(run.id);
      if (x.status === "completed") return x.id;
      if (x.status !== "running") throw new Error(`run ${run.id} ${x.status}: ${x.error}`);
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`run ${run.id} did not finish`);
  };
  /** What a refusal must leave untouched: audit events, versions, task rows, moves and evidence. */
  const footprint = async () =>
    JSON.stringify(
      await h().db.query(
        `SELECT (SELECT count(*)::int FROM audit_events) AS audit,
                (SELECT count(*)::int FROM model_versions) AS versions,
                (SELECT count(*)::int FROM retraining_transitions) AS moves,
                (SELECT count(*)::int FROM retraining_evidence) AS evidence,
                (SELECT string_agg(id || ':' || state || ':' || updated_at::text, ',' ORDER BY id)
                   FROM retraining_tasks) AS tasks`,
      ),
    );
  /** Asserts a problem+json answer of this status (naming this field first); returns it. */
  const problem = async (res: Response, status: number, field?: string) => {
    assert.equal(res.status, status, await res.clone().text());
    assert.equal(res.headers.get("content-type"), "application/problem+json");
    const p = await readJson(res);
    if (field) assert.equal(p.errors[0]?.field, field, JSON.stringify(p));
    return p;
  };
  return { ids, post, get, register, approve, seed, report, startWorker, runSuite, footprint, problem };
}
