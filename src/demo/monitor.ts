import {
  CANDIDATE,
  closeTheLoop,
  MODEL,
  type Note,
  OPERATOR,
  PRODUCTION,
  SHARE,
  setUpModel,
} from "./monitor-loop.ts";
import { type MonitorStack, openMonitorStack } from "./monitor-stack.ts";
import { type SlotResult, sendSlot } from "./monitor-traffic.ts";

/**
 * `modelgov demo monitor`: weeks of a model's life in seconds, in this process. The real
 * services on a throwaway embedded store and a manual clock; traffic through the real gateway
 * (simulator answers, feedback as a client sends it); the monitoring job judging each day; the
 * retraining task it opens carried through to a promoted retrained version; webhooks delivered
 * to a loopback receiver. Every expectation is checked: `ok` is false, naming what failed,
 * when one does not hold.
 */

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
const SLOTS_PER_DAY = 8;
const CALLERS = 8;

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
  await setUpModel(s, {
    baseline: { kind: "first-days", days: BASELINE_DAYS },
    rules: RULES,
    settleMinutes: 60,
  });
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
    const pass = await s.monitoringJob.tick();
    // A pass that did no work would show later only as a rule that never fired: say why now.
    if (!pass) expect(false, `day ${d + 1}: the monitoring pass failed (see the log)`);
    else if (!pass.held) expect(false, `day ${d + 1}: the monitoring job did not hold its lease`);
    else
      for (const m of pass.models)
        if (m.error)
          expect(
            false,
            `day ${d + 1}: monitoring ${m.model} failed: ${String((m.error as Error).message ?? m.error)}`,
          );
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

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
