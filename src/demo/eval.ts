import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, type Client, type EvalComparisonView, type EvalRunView } from "../client/index.ts";
import { demoSuite } from "./suite.ts";

/**
 * `modelgov demo eval`: the demo model's current production version (1.1.0) and its release
 * candidate (2.0.0, which the demo workspace plants to be much worse for the 65+ age band)
 * through the demo suite, on the server, with the public API only. The evaluation must find
 * the disparity, and the release gate must then refuse the candidate's approval request with
 * the failing numbers.
 */

const MODEL = "support-assistant";
export const DEMO_EVAL = { baseline: "1.1.0", candidate: "2.0.0" } as const;

export interface EvalDemoResult {
  baseline: EvalRunView;
  candidate: EvalRunView;
  comparison: EvalComparisonView;
  /** The approval request's refusal, or null when it was (unexpectedly) accepted. */
  blocked: { status: number; detail: string; errors: { field: string; reason: string }[] } | null;
}

async function evaluate(client: Client, version: string, out: (line: string) => void): Promise<EvalRunView> {
  let run = await client.evals.start(MODEL, version, { suite: demoSuite(), concurrency: 64 });
  out(`${MODEL}@${version}: ${run.resumed ? "resuming" : "started"} ${run.id} (${run.total} cases)`);
  while (run.status === "running") {
    await sleep(250);
    run = await client.evals.get(run.id);
  }
  return run;
}

export async function runEvalDemo(client: Client, out: (line: string) => void): Promise<EvalDemoResult> {
  const [baseline, candidate] = await Promise.all([
    evaluate(client, DEMO_EVAL.baseline, out),
    evaluate(client, DEMO_EVAL.candidate, out),
  ]);
  const comparison = await client.evals.compare(baseline.id, candidate.id);
  let blocked: EvalDemoResult["blocked"] = null;
  try {
    await client.approvals.request(
      MODEL,
      DEMO_EVAL.candidate,
      `Release ${DEMO_EVAL.candidate} to production`,
    );
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    const p = err.problem as { detail?: string; errors?: { field: string; reason: string }[] };
    blocked = { status: err.status, detail: p.detail ?? "", errors: p.errors ?? [] };
  }
  return { baseline, candidate, comparison, blocked };
}
