import { setTimeout as sleep } from "node:timers/promises";
import type { Plan } from "../engines/rollout/index.ts";
import type { RequestContext } from "../http/context.ts";
import { demoCard } from "./card.ts";
import type { MonitorDemoResult } from "./monitor.ts";
import type { MonitorStack } from "./monitor-stack.ts";
import type { SlotResult } from "./monitor-traffic.ts";
import { DEMO_RULE } from "./seed.ts";

/** The demo monitor's model and the retraining loop carried through on it (see monitor.ts). */

export const MODEL = "support-assistant";
const HOUR = 3_600_000;
export const PRODUCTION = { version: "1.0.0", success: 0.85, enterprise: 0.45 };
export const CANDIDATE = { version: "1.1.0", success: 0.88, enterprise: 0.84 };
/** Enterprise traffic's share before and from the decay day: long tickets the model serves badly. */
export const SHARE = { before: 0.05, after: 0.5 };

export const OPERATOR: RequestContext = {
  actor: "modelgov-demo",
  requestId: "demo-monitor",
  roles: ["admin"],
};
/** Signs approvals: not the requester (separation of duties). */
export const REVIEWER: RequestContext = {
  actor: "demo-reviewer",
  requestId: "demo-monitor",
  roles: ["engineering"],
};
export const ENGINEER: RequestContext = {
  actor: "demo-ml-engineer",
  requestId: "demo-monitor",
  roles: ["engineering"],
};

/** The canary on the fake clock: hours, not days; samples a few hundred requests an hour can fill. */
export const MONITOR_DEMO_PLAN: Plan = {
  name: "demo-monitor",
  steps: [25, 50, 100].map((weight) => ({ weight, durationMs: 4 * HOUR })),
  analysisIntervalMs: HOUR,
  minSamplePerArm: 40,
  failureLimit: 2,
  onInconclusive: "advance",
  alpha: 0.05,
  metrics: [
    { kind: "success_rate", maxRelativeDrop: 0.1 },
    { kind: "error_rate", max: 0.05 },
  ],
  fastPath: { windowMs: HOUR, minRequests: 20 },
};

/** The model, its production version (approved, card and all), and its monitor. */
export async function setUpModel(s: MonitorStack, monitor: unknown) {
  const sv = s.services;
  await sv.approvals.setPolicy(OPERATOR, { rules: [DEMO_RULE] });
  await sv.registry.createModel(OPERATOR, {
    name: MODEL,
    owner: "support-platform-team",
    description: "DEMO (modelgov demo monitor): drafts answers to customer-support tickets.",
    useCases: ["customer-support"],
    riskTier: "medium",
    tags: ["demo"],
  });
  await register(s, PRODUCTION, "First release.");
  await approve(s, PRODUCTION.version, "Release 1.0.0 to production");
  await sv.registry.setAlias(OPERATOR, MODEL, "production", PRODUCTION.version, "demo: first release");
  await sv.monitoring.setConfig(OPERATOR, MODEL, monitor);
}

async function register(
  s: MonitorStack,
  v: { version: string; success: number; enterprise: number },
  changelog: string,
  retrainedFrom?: { version: string; task: string },
) {
  return s.services.registry.registerVersion(
    OPERATOR,
    MODEL,
    {
      version: v.version,
      provider: "simulator",
      providerModelId: `sim-support-${v.version}`,
      parameters: {
        latencyMs: { p50: 1, p95: 4 },
        errorRate: 0,
        tokens: { output: 60 },
        quality: { success: v.success, byGroup: { "segment:enterprise": v.enterprise } },
        seed: 3000 + Number(v.version.split(".")[1]),
      },
      changelog,
      metrics: { success_rate: v.success },
      limitations: ["Simulated model: answers are placeholders"],
      tags: ["demo"],
      card: demoCard(v.version, v.success, changelog),
      ...(retrainedFrom ? { retrainedFrom } : {}),
    },
    undefined,
    "demo",
  );
}

async function approve(s: MonitorStack, version: string, summary: string) {
  const req = await s.services.approvals.request(OPERATOR, MODEL, version, summary);
  return s.services.approvals.sign(REVIEWER, req.id, {
    role: "engineering",
    decision: "approve",
    comment: "demo sign-off",
    evidenceRefs: [],
  });
}

export type Note = (event: string, detail: string, at?: Date) => void;

/**
 * The retraining loop, as a team runs it: the failing slice exported, training started, the
 * retrained version registered, both versions evaluated on the slice, the verdict recorded,
 * the approval signed, a canary promoted on the fake clock, the task closed.
 */
export async function closeTheLoop(
  s: MonitorStack,
  taskId: string,
  result: MonitorDemoResult,
  note: Note,
  expect: (cond: boolean, what: string) => boolean,
  traffic: (count: number, share: number) => Promise<SlotResult>,
) {
  const sv = s.services;
  const state = async () => (await sv.retraining.get(taskId)).state;
  const jsonl = await sv.retraining.dataset(taskId, { format: "openai-jsonl", include: "all" });
  let lines = 0;
  let corrected = 0;
  for await (const line of jsonl.lines) {
    if (!line.trim()) continue;
    lines++;
    const messages = (JSON.parse(line) as { messages: { role: string }[] }).messages;
    if (messages[messages.length - 1]?.role === "assistant") corrected++;
  }
  result.dataset = { lines, corrected, withoutBody: jsonl.counts.withoutBody };
  note(
    "dataset exported",
    `openai-jsonl: ${lines} lines (${corrected} with the corrected answer), ${jsonl.counts.withoutBody} failing requests without a kept body`,
  );
  expect(
    lines > 0 && lines === jsonl.counts.failing,
    `dataset: ${lines} lines of ${jsonl.counts.failing} failing requests`,
  );
  expect(corrected === lines, `dataset: ${lines - corrected} lines without a corrected answer`);
  expect(
    jsonl.counts.withoutBody === 0,
    `dataset: ${jsonl.counts.withoutBody} failing requests without a body`,
  );

  const suiteExport = await sv.retraining.dataset(taskId, { format: "suite", include: "corrected" });
  let text = "";
  for await (const chunk of suiteExport.lines) text += chunk;
  const suite = JSON.parse(text) as { cases: unknown[] };

  await sv.retraining.startTraining(ENGINEER, taskId, { note: "fine-tune on the failing slice" });
  note("training", `${taskId}: started on ${suite.cases.length} corrected cases`);
  await register(s, CANDIDATE, "Retrained on the enterprise slice.", {
    version: PRODUCTION.version,
    task: taskId,
  });
  note(
    "candidate registered",
    `${MODEL}@${CANDIDATE.version} retrained from ${PRODUCTION.version} (task ${await state()})`,
  );

  const [candidateRun, productionRun] = await Promise.all([
    runSuite(s, CANDIDATE.version, suite),
    runSuite(s, PRODUCTION.version, suite),
  ]);
  const { verdict } = await sv.retraining.evaluate(ENGINEER, taskId, {
    candidateRun,
    productionRun,
    alpha: 0.05,
  });
  result.candidate.evaluation = {
    passed: verdict.passed,
    p: verdict.p ?? null,
    candidate: verdict.candidate.value,
    production: verdict.production.value,
    pairs: verdict.pairs,
  };
  note("evaluated", verdict.reasons.join("; "));
  if (!expect(verdict.passed, `evaluation: ${verdict.reasons.join(" ")}`)) return;

  await approve(s, CANDIDATE.version, `Release the retrained ${CANDIDATE.version} (task ${taskId})`);
  note("approved", `${CANDIDATE.version} signed by ${REVIEWER.actor} (task ${await state()})`);
  expect((await state()) === "approved", "the approval did not move the task to approved");

  // The canary, on the fake clock: an hour of traffic, then the controller's look.
  const begun = clock(s);
  await sv.rollouts.start(ENGINEER, MODEL, CANDIDATE.version, { plan: MONITOR_DEMO_PLAN });
  await s.gateway.routing.refresh();
  note(
    "canary started",
    `${CANDIDATE.version} against ${PRODUCTION.version}, steps 25% → 50% → 100%, 4 h each`,
  );
  let view = await sv.rollouts.status(MODEL);
  let weight = view?.weight ?? 0;
  for (let h = 0; h < 48 && view?.status === "running"; h++) {
    await traffic(60, SHARE.after);
    s.advanceTo(new Date(clock(s) + HOUR));
    await s.controller.kick();
    await s.gateway.routing.refresh();
    view = await sv.rollouts.status(MODEL);
    if (view && (view.weight !== weight || view.status !== "running")) {
      note(
        "canary step",
        `${view.status === "running" ? `weight ${view.weight}%` : view.status}: ${view.decisions[0]?.reasons.slice(0, 2).join("; ") ?? ""}`,
      );
      weight = view.weight;
    }
  }
  const hours = (clock(s) - begun) / HOUR;
  result.candidate.rollout = { status: view?.status ?? "none", hours };
  note("canary ended", `${view?.status} after ${hours} h (task ${await state()})`);
  expect(view?.status === "promoted", `the canary ended ${view?.status}, expected promoted`);
  expect((await state()) === "rolled_out", "the promotion did not move the task to rolled_out");

  await sv.retraining.close(ENGINEER, taskId, "the retrained version is in production; success is back");
  note("task closed", taskId);
}

const clock = (s: MonitorStack) => s.clock.now().getTime();

/** Runs the suite on a version to completion on the in-process evaluation worker; the run's id. */
async function runSuite(s: MonitorStack, version: string, suite: unknown): Promise<string> {
  const run = await s.services.evals.start(OPERATOR, MODEL, version, suite, { concurrency: 32 });
  for (;;) {
    const r = await s.services.evals.get(run.id);
    if (r.status === "completed") return r.id;
    if (r.status !== "running")
      throw new Error(`evaluation ${run.id} of ${version} ${r.status}: ${r.error ?? ""}`);
    await sleep(25);
  }
}
