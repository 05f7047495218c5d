import type { RouteMember } from "../../request-log/index.ts";
import { answerOfChoices } from "../features/derive.ts";
import { ballot, escalatesOnError, shortfall } from "./checks.ts";
import {
  bounded,
  classifierPrompt,
  type PromptMessage,
  pickPrompt,
  readPick,
  readScore,
  readTier,
  scorePrompt,
} from "./llm-prompts.ts";
import type { CompiledRouter, RouteChoice, Tier } from "./router.ts";

/*
 * What a router does when it calls more than one model for a request: an LLM classifier
 * before the tier, a cascade's tiers in order (with its checks, judge and cost cap), an
 * ensemble's tiers at once (majority, first valid, or a judge's pick, within its latency and
 * cost caps). One statement for the gateway (http/chat/multi.ts, http/chat/classify.ts) and
 * for evaluations of router versions (evals' invoker): each supplies only how a tier or a
 * model is called, so a router is evaluated exactly as it serves.
 */

/** One call a router made: a tier, or (with `row.role`) its classifier or a judge. */
export interface Step<X = unknown> {
  row: RouteMember;
  /** `model@version` that answered (for the route's description). */
  label?: string;
  /** The answer's choices, when it answered. */
  choices?: unknown;
  /** What the caller keeps of the call (the gateway: the call and its answer). */
  x?: X;
}

export interface AskLimits {
  maxTokens: number;
  timeoutMs: number;
}

/**
 * Calls a model for the router itself (its classifier, a judge): the target resolved as a tier
 * is (servable, not a router; else a `refused` row), the answer as a step with its cost.
 */
export type Ask = (
  role: "classifier" | "judge",
  target: string,
  messages: PromptMessage[],
  limits: AskLimits,
) => Promise<Step>;

export interface Price {
  inputPer1kUsd: number;
  outputPer1kUsd: number;
}

export interface StrategyContext {
  responseFormat: unknown;
  /** The user's last message (what judges read). */
  question: string;
  /** Input tokens of the request, estimated (four characters a token). */
  tokensIn: number;
  /** The request's max_tokens, if it set one. */
  maxTokens?: number | undefined;
  ask: Ask;
  /** The price of the version a tier would call; null when it cannot be called. */
  priceOf: (tier: Tier) => Promise<Price | null> | Price | null;
}

export interface Run<X> {
  steps: Step<X>[];
  chosen?: Step<X>;
  /** How the route went, for the header and the log (`cheap (small@1.0.0) escalated: … -> …`). */
  describe: string;
}

const CLASSIFIER_TOKENS = 50;
const JUDGE_TOKENS = 200;
/** Judges are awaited this long; a late judge is a failed one. */
export const JUDGE_TIMEOUT_MS = 10_000;
/** A tier's worst-case output when the request sets no max_tokens (a cost cap's estimate). */
export const ASSUMED_OUTPUT_TOKENS = 1024;
const QUESTION_CHARS = 4000;
const ANSWER_CHARS = 8000;

export const emptyRow = (
  tier: string,
  outcome: RouteMember["outcome"],
  reason: string | null,
  role?: RouteMember["role"],
): RouteMember => ({
  tier,
  ...(role ? { role } : {}),
  versionId: null,
  version: null,
  outcome,
  reason,
  tokensIn: 0,
  tokensOut: 0,
  costUsd: 0,
  upstreamMs: null,
});

const textOf = (s: Step) => answerOfChoices(s.choices).text;
const usd = (n: number) => `$${n.toPrecision(3)}`;
const spentOn = (steps: readonly Step[]) => steps.reduce((s, m) => s + m.row.costUsd, 0);

/** A route policy's LLM classifier: the tier it names, else the default tier (and why). */
export async function classify(
  router: CompiledRouter,
  text: string,
  ask: Ask,
): Promise<{ choice: RouteChoice; step: Step }> {
  const c = router.llm!;
  const names = router.tiers.map((t) => t.name);
  const fallback = router.tiers.find((t) => t.name === c.default)!;
  const step = await ask(
    "classifier",
    c.target,
    classifierPrompt(c.rubric, names, bounded(text, c.maxInputChars)),
    {
      maxTokens: CLASSIFIER_TOKENS,
      timeoutMs: c.maxLatencyMs,
    },
  );
  if (step.choices === undefined)
    return { choice: { tier: fallback, reason: `llm:default (classifier ${step.row.outcome})` }, step };
  const answer = textOf(step);
  const name = readTier(answer, names);
  if (!name) {
    step.row.reason = `no tier in its answer: ${JSON.stringify(bounded(answer, 120))}`;
    return { choice: { tier: fallback, reason: "llm:default (no tier in the answer)" }, step };
  }
  step.row.reason = `tier ${name}`;
  return { choice: { tier: router.tiers.find((t) => t.name === name)!, reason: `llm:${name}` }, step };
}

/** A tier's worst-case cost for this request (a cost cap's estimate); 0 when it cannot be called. */
async function worstCase(ctx: StrategyContext, tier: Tier): Promise<number> {
  const p = await ctx.priceOf(tier);
  if (!p) return 0;
  const out = ctx.maxTokens ?? ASSUMED_OUTPUT_TOKENS;
  return (ctx.tokensIn / 1000) * p.inputPer1kUsd + (out / 1000) * p.outputPer1kUsd;
}

/** A cascade judge's verdict on an answer: why it falls short (a low score, or the judge failed), or null. */
async function judged(
  judge: NonNullable<NonNullable<CompiledRouter["policy"]["escalateWhen"]>["judge"]>,
  ctx: StrategyContext,
  answer: Step,
): Promise<{ step: Step; why: string | null }> {
  const step = await ctx.ask(
    "judge",
    judge.target,
    scorePrompt(judge.rubric, bounded(ctx.question, QUESTION_CHARS), bounded(textOf(answer), ANSWER_CHARS)),
    { maxTokens: JUDGE_TOKENS, timeoutMs: JUDGE_TIMEOUT_MS },
  );
  // A check that cannot be made does not pass: the answer escalates (the cost cap bounds it).
  if (step.choices === undefined) return { step, why: `judge ${step.row.outcome}` };
  const read = readScore(textOf(step));
  if ("error" in read) {
    step.row.outcome = "failed";
    step.row.reason = `unreadable: ${read.error}`;
    return { step, why: "judge unreadable" };
  }
  step.row.reason = `score ${read.score}: ${read.reason}`;
  return { step, why: read.score < judge.below ? `judge score ${read.score} below ${judge.below}` : null };
}

/**
 * A cascade: tiers in order, cheapest first, escalating while an answer falls short (the
 * checks, then the judge's score; the last tier is served as it is). Under `maxCostUsd`, a
 * tier is not called when the spend so far plus its worst case would pass the cap: the
 * answer in hand is served as it is.
 */
export async function runCascade<X>(
  router: CompiledRouter,
  callTier: (tier: Tier, i: number) => Promise<Step<X>>,
  ctx: StrategyContext,
): Promise<Run<X>> {
  const policy = router.policy;
  const judge = policy.escalateWhen?.judge;
  const cap = policy.maxCostUsd;
  const steps: Step<X>[] = [];
  let pending: { m: Step<X>; why: string } | undefined;
  let stopped: string | undefined;
  for (const [i, tier] of router.tiers.entries()) {
    const last = i === router.tiers.length - 1;
    if (i > 0 && cap !== undefined) {
      const next = spentOn(steps) + (await worstCase(ctx, tier));
      if (next > cap) {
        stopped = `cost cap: ${tier.name} could take the spend to ${usd(next)}, over ${usd(cap)}`;
        break;
      }
    }
    if (pending) {
      pending.m.row.outcome = "escalated";
      pending.m.row.reason = pending.why;
      pending = undefined;
    }
    const m = await callTier(tier, i);
    steps.push(m);
    if (m.choices === undefined) {
      if (m.row.outcome === "failed" && !escalatesOnError(policy)) break;
      continue;
    }
    let why = shortfall(policy, ctx.responseFormat, m.choices);
    if (!why && judge && !last) {
      const j = await judged(judge, ctx, m);
      steps.push(j.step as Step<X>);
      why = j.why;
    }
    if (!why) return done(steps, m);
    if (last) {
      m.row.reason = `${why} (the last tier: served as it is)`;
      return done(steps, m);
    }
    pending = { m, why };
  }
  if (pending) {
    pending.m.row.reason = `${pending.why} (${stopped}: served as it is)`;
    return done(steps, pending.m);
  }
  const described = describeCascade(steps);
  return {
    steps,
    describe: `no tier answered (${stopped ? `${described}; ${stopped}` : described})`,
  };
}

const done = <X>(steps: Step<X>[], chosen: Step<X>): Run<X> => ({
  steps,
  chosen,
  describe: describeCascade(steps),
});

function describeCascade(steps: readonly Step[]): string {
  return steps
    .filter((s) => !s.row.role)
    .map((s) => {
      const who = s.row.version ? `${s.row.tier} (${s.label ?? s.row.version})` : s.row.tier;
      return s.row.reason ? `${who} ${s.row.outcome}: ${s.row.reason}` : `${who} ${s.row.outcome}`;
    })
    .join(" -> ");
}

/**
 * An ensemble: every tier at once (under `maxCostUsd`, those whose worst cases fit, in order,
 * the first always), combined by majority, first valid, or a judge's pick among the valid
 * answers (first valid when the judge fails, or when the spend has reached the cap).
 * `combine.maxLatencyMs` combines what has come by then.
 */
export async function runEnsemble<X>(
  router: CompiledRouter,
  callTier: (tier: Tier, i: number) => Promise<Step<X>>,
  ctx: StrategyContext,
): Promise<Run<X>> {
  const policy = router.policy;
  const combine = policy.combine!;
  const cap = policy.maxCostUsd;
  const skipped = new Map<number, Step<X>>();
  if (cap !== undefined) {
    let sum = 0;
    for (const [i, tier] of router.tiers.entries()) {
      const w = await worstCase(ctx, tier);
      if (i > 0 && sum + w > cap)
        skipped.set(i, {
          row: emptyRow(tier.name, "skipped", `cost cap: worst case ${usd(sum + w)} over ${usd(cap)}`),
        });
      else sum += w;
    }
  }
  const calls = router.tiers.map((t, i) => skipped.get(i) ?? callTier(t, i));
  const members = combine.maxLatencyMs
    ? await withDeadline(calls, combine.maxLatencyMs, router.tiers)
    : await Promise.all(calls);
  const valid = (m: Step<X>) => m.choices !== undefined && !shortfall(policy, ctx.responseFormat, m.choices);
  let chosen: Step<X> | undefined;
  let why = "";
  const extra: Step<X>[] = [];
  if (combine.by === "first-valid") {
    chosen = members.find(valid);
    why = "a tier before it was valid";
  } else if (combine.by === "majority") {
    const votes = new Map<string, Step<X>[]>();
    for (const m of members) {
      const b = m.choices !== undefined ? ballot(m.choices, combine.field) : null;
      if (b !== null) votes.set(b, [...(votes.get(b) ?? []), m]);
    }
    let best: Step<X>[] = [];
    for (const group of votes.values()) if (group.length > best.length) best = group; // ties: the earlier tier's (Map keeps first-seen order)
    chosen = best[0];
    why = "not in the majority";
  } else {
    const candidates = members.filter(valid);
    chosen = candidates[0];
    why = "a tier before it was valid";
    if (candidates.length > 1 && cap !== undefined && spentOn(members) >= cap)
      why = "a tier before it was valid (cost cap reached: no judge)";
    else if (candidates.length > 1) {
      const step = await ctx.ask(
        "judge",
        combine.judge!,
        pickPrompt(
          combine.rubric,
          bounded(ctx.question, QUESTION_CHARS),
          candidates.map((m) => bounded(textOf(m), ANSWER_CHARS)),
        ),
        { maxTokens: JUDGE_TOKENS, timeoutMs: JUDGE_TIMEOUT_MS },
      );
      extra.push(step as Step<X>);
      const pick = step.choices !== undefined ? readPick(textOf(step), candidates.length) : null;
      if (pick && "index" in pick) {
        chosen = candidates[pick.index];
        step.row.reason = `picked ${chosen!.row.tier}`;
        why = `the judge picked ${chosen!.row.tier}`;
      } else {
        if (pick) {
          step.row.outcome = "failed";
          step.row.reason = `unreadable: ${pick.error}`;
        }
        why = "a tier before it was valid (the judge failed)";
      }
    }
  }
  for (const m of members)
    if (m !== chosen && m.choices !== undefined) {
      m.row.outcome = "outvoted";
      m.row.reason = why;
    }
  const tally = members.map((m) => `${m.row.tier} ${m.row.outcome}`).join(", ");
  const steps = [...members, ...extra];
  if (!chosen) return { steps, describe: `no answer to combine (${tally})` };
  return { steps, chosen, describe: `${combine.by} chose ${chosen.row.tier} (${tally})` };
}

/** The members that answered within `ms`; a late one is recorded as failed (its call goes on, unheard). */
async function withDeadline<X>(
  calls: (Step<X> | Promise<Step<X>>)[],
  ms: number,
  tiers: readonly Tier[],
): Promise<Step<X>[]> {
  const settled: (Step<X> | undefined)[] = tiers.map(() => undefined);
  for (const [i, c] of calls.entries())
    void Promise.resolve(c).then((m) => {
      settled[i] = m;
    });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(calls),
    new Promise((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  clearTimeout(timer);
  return tiers.map((t, i) => settled[i] ?? { row: emptyRow(t.name, "failed", `no answer within ${ms} ms`) });
}

/** Waits for `p` at most `ms`: its value, or "late" (it goes on, unheard). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((r) => {
    timer = setTimeout(() => r("late"), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
