import { setTimeout as sleep } from "node:timers/promises";
import type { Plan } from "../engines/rollout/index.ts";
import type { RequestContext } from "../http/context.ts";
import { demoCard } from "./card.ts";
import { type MonitorStack, openMonitorStack } from "./monitor-stack.ts";
import { type SlotResult, sendSlot } from "./monitor-traffic.ts";
import { DEMO_RULE } from "./seed.ts";

/**
 * `modelgov demo monitor`: weeks of a model's life in seconds, in this process. The real
 * services on a throwaway embedded store and a manual clock; traffic through the real gateway
 * (simulator answers, feedback as a client sends it); the monitoring job judging each day; the
 * retraining task it opens carried through to a promoted retrained version; webhooks delivered
 * to a loopback receiver. Every expectation is checked: `ok` is false, naming what failed,
 * when one does not hold.
 */

const MODEL = "support-assistant";
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** A Monday; the demo's time is its own, so its timeline reads the same on every run. */
export const DEMO_START = new Date("2026-03-02T00:00:00Z");
const BASELINE_DAYS = 7;
const RULE_DAYS = 3;
const RULES = [
  { name: "success-decay", when: `success rate drops >10% from baseline for ${RULE_DAYS} consecutive days` },
  { name: "input-drift", when: `PSI of input tokens > 0.2 for ${RULE_DAYS} days` },
];
/** Enterprise traffic's share before and from the decay day: long tickets the model serves badly. */
const SHARE = { before: 0.05, after: 0.5 };
const PRODUCTION = { version: "1.0.0", success: 0.85, enterprise: 0.45 };
const CANDIDATE = { version: "1.1.0", success: 0.88, enterprise: 0.84 };
const SLOTS_PER_DAY = 8;
const CALLERS = 8;

const OPERATOR: RequestContext = { actor: "modelgov-demo", requestId: "demo-monitor", roles: ["admin"] };
/** Signs approvals: not the requester (separation of duties). */
const REVIEWER: RequestContext = {
  actor: "demo-reviewer",
  requestId: "demo-monitor",
  roles: ["engineering"],
};
const ENGINEER: RequestContext = {
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

export interface MonitorDemoOptions {
  /** Days of traffic (default 14); at least the decay day plus the rule's 3 days. */
  days?: number;
  /** The first day of decay (default 10; at least the baseline's 7). */
  decayDay?: number;
  requestsPerDay?: number;
  out?: (line: string) => void;
}

export interface TimelineEntry {
  day: number;
  at: string;
  event: string;
  detail: string;
}

export interface MonitorDemoResult {
  ok: boolean;
  /** The expectations that did not hold. */
  failures: string[];
  timeline: TimelineEntry[];
  fired: { rule: string; day: number; expectedDay: number } | null;
  task: { id: string; state: string } | null;
  dataset: { lines: number; corrected: number; withoutBody: number };
  webhook: { delivered: { event: string; delivery: string; signatureValid: boolean }[] };
  candidate: {
    version: string;
    evaluation: {
      passed: boolean;
      p: number | null;
      candidate: number | null;
      production: number | null;
      pairs: number;
    } | null;
    rollout: { status: string; hours: number } | null;
  };
  tookMs: number;
}

/** The UTC day of the window in which a rule with this run length first fires. */
export function expectedFiringDay(
  productionAt: Date,
  baselineDays: number,
  decayDay: number,
  runDays: number,
) {
  const baselineEnd = productionAt.getTime() + baselineDays * DAY;
  // Windows are whole UTC days from the first one after the baseline ends.
  const firstWindow = Math.ceil((baselineEnd - DEMO_START.getTime()) / DAY);
  return Math.max(firstWindow, decayDay) + runDays - 1;
}

export async function runMonitorDemo(opts: MonitorDemoOptions = {}): Promise<MonitorDemoResult> {
  const started = Date.now();
  const days = opts.days ?? 14;
  const decayDay = opts.decayDay ?? 10;
  const perDay = opts.requestsPerDay ?? 200;
  if (decayDay < BASELINE_DAYS || days < decayDay + RULE_DAYS)
    throw new Error(
      `--days ${days}: the baseline takes ${BASELINE_DAYS} days and the decay, from day ${decayDay}, ${RULE_DAYS} more: at least ${decayDay + RULE_DAYS}`,
    );
  const out = opts.out ?? (() => {});
  const s = await openMonitorStack(DEMO_START);
  try {
    return await scenario(s, { days, decayDay, perDay, out, started });
  } finally {
    await s.close();
  }
}

async function scenario(
  s: MonitorStack,
  o: { days: number; decayDay: number; perDay: number; out: (line: string) => void; started: number },
): Promise<MonitorDemoResult> {
  const { services: sv, clock } = s;
  const failures: string[] = [];
  const expect = (cond: boolean, what: string) => {
    if (!cond) failures.push(what);
    return cond;
  };
  const timeline: TimelineEntry[] = [];
  const dayOf = (at: Date) => Math.floor((at.getTime() - DEMO_START.getTime()) / DAY);
  const note = (event: string, detail: string, at = clock.now()) => {
    const e = { day: dayOf(at), at: at.toISOString(), event, detail };
    timeline.push(e);
    o.out(`day ${String(e.day).padStart(2)}  ${e.at.slice(0, 16).replace("T", " ")}  ${event}: ${detail}`);
  };

  // The receiver subscribes first: a subscription hears of events from its creation on.
  const hook = await sv.webhooks.create(OPERATOR, {
    name: "demo-receiver",
    url: s.receiver.url,
    eventTypes: ["monitor.*", "retraining.*"],
  });
  const delivered: Delivered = [];
  await setUpModel(s);
  note(
    "production",
    `${MODEL}@${PRODUCTION.version} in production, monitored: ${RULES.map((r) => r.when).join("; ")}`,
  );
  const tokens: string[] = [];
  for (let i = 0; i < CALLERS; i++)
    tokens.push((await sv.identity.create(OPERATOR, { name: `demo-app-${i + 1}`, roles: ["agent"] })).token);
  await s.gateway.routing.refresh();

  let n = 0;
  const traffic = (count: number, share: number): Promise<SlotResult> => {
    const first = n;
    n += count;
    return sendSlot({
      gatewayUrl: s.gatewayUrl,
      model: MODEL,
      tokens,
      count,
      first,
      share,
      flushRequests: () => sv.requestLog.flush(),
      flushFeedback: () => sv.feedbackLog.flush(),
    });
  };

  // Weeks of traffic, a day at a time; the monitoring job judges each day after it settles.
  const expectedDay = expectedFiringDay(DEMO_START, BASELINE_DAYS, o.decayDay, RULE_DAYS);
  const firedDays = new Map<string, number>();
  let cursor = 0;
  const newEvents = async () => {
    const page = await sv.audit.events({ order: "asc", limit: 1000, cursor: String(cursor) });
    const last = page.items[page.items.length - 1];
    if (last) cursor = last.position;
    return page.items;
  };
  await newEvents();
  for (let d = 0; d < o.days; d++) {
    const share = d >= o.decayDay ? SHARE.after : SHARE.before;
    const sum: SlotResult = { sent: 0, succeeded: 0, failed: 0, errors: 0, tokensIn: 0 };
    for (let k = 0; k < SLOTS_PER_DAY; k++) {
      s.advanceTo(new Date(DEMO_START.getTime() + d * DAY + 90 * 60_000 + k * 3 * HOUR));
      const count =
        Math.floor((o.perDay * (k + 1)) / SLOTS_PER_DAY) - Math.floor((o.perDay * k) / SLOTS_PER_DAY);
      const r = await traffic(count, share);
      for (const key of Object.keys(sum) as (keyof SlotResult)[]) sum[key] += r[key];
    }
    const judged = sum.succeeded + sum.failed;
    note(
      "traffic",
      `${sum.sent} requests, success ${pct(sum.succeeded / Math.max(1, judged))}, mean input ${Math.round(sum.tokensIn / Math.max(1, judged))} tokens${sum.errors ? `, ${sum.errors} not served` : ""}`,
      new Date(DEMO_START.getTime() + d * DAY + 90 * 60_000),
    );
    expect(sum.errors === 0, `day ${d}: ${sum.errors} requests not served`);
    // The window settles for an hour after midnight (late feedback), then the job judges it.
    s.advanceTo(new Date(DEMO_START.getTime() + (d + 1) * DAY + 65 * 60_000));
    await s.monitoringJob.tick();
    for (const e of await newEvents()) {
      const after = (e.after ?? {}) as {
        rule?: string;
        summary?: string;
        windows?: { windowStart: string }[];
      };
      if (e.action === "monitor.rule_fired") {
        const windowStart = after.windows?.[after.windows.length - 1]?.windowStart;
        const day = windowStart ? dayOf(new Date(windowStart)) : -1;
        firedDays.set(after.rule ?? "?", day);
        note(
          "rule fired",
          `${after.rule} on the window of day ${day} (expected day ${expectedDay}): ${after.summary ?? e.reason ?? ""}`,
        );
      } else if (e.action === "retraining.opened") note("task opened", `${e.subjectId}: ${e.reason ?? ""}`);
      else if (e.action === "retraining.evidence_added") note("evidence added", `${e.subjectId}`);
    }
    await deliverWebhooks(s, hook.secret, delivered, note);
  }
  const primary = RULES[0]!.name;
  for (const r of RULES)
    expect(
      firedDays.get(r.name) === expectedDay,
      `rule ${r.name} fired on day ${firedDays.get(r.name) ?? "never"}, expected day ${expectedDay}`,
    );
  const fired = firedDays.has(primary) ? { rule: primary, day: firedDays.get(primary)!, expectedDay } : null;

  const result: MonitorDemoResult = {
    ok: false,
    failures,
    timeline,
    fired,
    task: null,
    dataset: { lines: 0, corrected: 0, withoutBody: 0 },
    webhook: { delivered: [] },
    candidate: { version: CANDIDATE.version, evaluation: null, rollout: null },
    tookMs: 0,
  };
  const [task] = (await sv.retraining.list({ model: MODEL, state: "active", limit: 5 })).items;
  if (expect(task !== undefined, "no retraining task opened") && task) {
    result.task = { id: task.id, state: task.state };
    await closeTheLoop(s, task.id, result, note, expect, traffic);
    result.task = { id: task.id, state: (await sv.retraining.get(task.id)).state };
    expect(result.task.state === "closed", `the task ended ${result.task.state}, expected closed`);
  }
  await deliverWebhooks(s, hook.secret, delivered, note);
  result.webhook.delivered = delivered;
  const verified = new Set(delivered.filter((d) => d.signatureValid).map((d) => d.event));
  for (const event of [
    "monitor.rule_fired",
    "retraining.opened",
    "retraining.training",
    "retraining.candidate_registered",
    "retraining.evaluated",
    "retraining.approved",
    "retraining.rolled_out",
    "retraining.closed",
  ])
    expect(verified.has(event), `webhook ${event} not delivered with a valid signature`);
  expect(
    result.webhook.delivered.every((d) => d.signatureValid),
    "a webhook delivery's signature did not verify",
  );
  result.ok = failures.length === 0;
  result.tookMs = Date.now() - o.started;
  return result;
}

/** The model, its production version (approved, card and all), and its monitor. */
async function setUpModel(s: MonitorStack) {
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
  await sv.monitoring.setConfig(OPERATOR, MODEL, {
    baseline: { kind: "first-days", days: BASELINE_DAYS },
    rules: RULES,
    settleMinutes: 60,
  });
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

type Note = (event: string, detail: string, at?: Date) => void;

type Delivered = MonitorDemoResult["webhook"]["delivered"];

/**
 * One dispatcher pass: every pending event to the receiver. Each delivery's signature is
 * checked as a receiver does, on arrival: against the subscription's secret, its timestamp
 * within 5 minutes of the (demo's) clock.
 */
async function deliverWebhooks(s: MonitorStack, secret: string, delivered: Delivered, note: Note) {
  const before = s.receiver.received.length;
  await s.dispatcher.runOnce();
  const got = s.receiver.received.slice(before);
  for (const r of got)
    delivered.push({ event: r.event, delivery: r.delivery, signatureValid: s.verify(secret, r) });
  if (got.length)
    note(
      "webhooks delivered",
      `${got.map((r) => r.event).join(", ")}${got.every((r) => s.verify(secret, r)) ? " (signatures valid)" : " (a signature did not verify)"}`,
    );
}

/**
 * The retraining loop, as a team runs it: the failing slice exported, training started, the
 * retrained version registered, both versions evaluated on the slice, the verdict recorded,
 * the approval signed, a canary promoted on the fake clock, the task closed.
 */
async function closeTheLoop(
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

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
