import assert from "node:assert/strict";
import { test } from "node:test";
import { shortfall } from "./checks.ts";
import { bounded, readPick, readTier } from "./llm-prompts.ts";
import { compileRouter, type Tier } from "./router.ts";
import {
  type Ask,
  classify,
  emptyRow,
  runCascade,
  runEnsemble,
  type Step,
  type StrategyContext,
} from "./strategies.ts";

/*
 * The router strategies the gateway serves and evaluations run, with fakes for the models:
 * a tier answers the text it is given, a judge or classifier the reply a test sets.
 */

const TIERS = [
  { name: "cheap", target: "small" },
  { name: "strong", target: "large" },
];
const THREE = [...TIERS, { name: "best", target: "huge" }];

const answer = (text: string, finish = "stop") => [
  { message: { role: "assistant", content: text }, finish_reason: finish },
];

/** A tier that answers `texts[tier]` at `cost` (or fails when the text is null). */
function tiers(texts: Record<string, string | null>, cost = 0.001) {
  const called: string[] = [];
  const call = async (tier: Tier): Promise<Step> => {
    called.push(tier.name);
    const text = texts[tier.name];
    if (text === null || text === undefined) return { row: emptyRow(tier.name, "failed", "boom") };
    return {
      label: `${tier.target}@1.0.0`,
      choices: answer(text),
      row: { ...emptyRow(tier.name, "served", null), version: "1.0.0", costUsd: cost, tokensOut: 10 },
    };
  };
  return { call, called };
}

/** A classifier or judge that replies `reply` (null: fails; "refused": cannot serve) at `cost`, recording prompts. */
function asker(reply: string | null | "refused", cost = 0.0001) {
  const prompts: string[] = [];
  const ask: Ask = async (role, target, messages) => {
    prompts.push(messages.map((m) => m.content).join("\n"));
    if (reply === "refused") return { row: emptyRow(role, "refused", `${target}: unapproved`, role) };
    if (reply === null) return { row: emptyRow(role, "failed", "no answer within 10 ms", role) };
    return {
      choices: answer(reply),
      row: { ...emptyRow(role, "served", null, role), version: "1.0.0", costUsd: cost, tokensIn: 50 },
    };
  };
  return { ask, prompts };
}

const ctx = (ask: Ask, over: Partial<StrategyContext> = {}): StrategyContext => ({
  responseFormat: undefined,
  question: "What is the refund policy?",
  tokensIn: 1000,
  ask,
  priceOf: () => ({ inputPer1kUsd: 0.001, outputPer1kUsd: 0.002 }),
  ...over,
});

test("an LLM classifier's reply names the tier; an unreadable or failed one sends the default tier", async () => {
  const router = compileRouter({
    tiers: TIERS,
    classifier: {
      kind: "llm",
      target: "grader@1.0.0",
      rubric: "Hard questions go to strong.",
      default: "cheap",
    },
  });
  assert.equal(router.pick({} as never).tier.name, "cheap", "the synchronous pick is the default");
  const strong = asker('```json\n{"tier": "Strong"}\n```');
  const got = await classify(router, "Prove the bound", strong.ask);
  assert.deepEqual(got.choice, { tier: TIERS[1], reason: "llm:strong" });
  assert.equal(got.step.row.role, "classifier");
  assert.equal(got.step.row.reason, "tier strong");
  assert.match(strong.prompts[0]!, /Hard questions go to strong\.[\s\S]*cheap, strong[\s\S]*Prove the bound/);

  const vague = await classify(router, "x", asker("probably the strong one, or cheap").ask);
  assert.deepEqual(vague.choice, { tier: TIERS[0], reason: "llm:default (no tier in the answer)" });
  assert.match(vague.step.row.reason ?? "", /^no tier in its answer: "probably/);
  const failed = await classify(router, "x", asker(null).ask);
  assert.deepEqual(failed.choice, { tier: TIERS[0], reason: "llm:default (classifier failed)" });
  const refused = await classify(router, "x", asker("refused").ask);
  assert.equal(refused.step.row.outcome, "refused", "the caller refuses the request, as for a tier");
});

test("reading a classifier's and a judge's reply: strict, never guessed", () => {
  const names = ["cheap", "strong"];
  assert.equal(readTier("strong", names), "strong");
  assert.equal(readTier(' "strong". ', names), "strong");
  assert.equal(readTier("tier: cheap", names), "cheap");
  assert.equal(readTier('Sure! {"tier": "cheap"}', names), "cheap");
  assert.equal(readTier('{"tier": "cheap"} {"tier": "strong"}', names), null, "two objects disagree");
  assert.equal(readTier('{"tier": "medium"}', names), null);
  assert.equal(readTier("I would say strong", names), null);
  assert.deepEqual(readPick('{"best": 2, "reason": "complete"}', 3), { index: 1 });
  assert.deepEqual(readPick(" 3 ", 3), { index: 2 });
  assert.match((readPick('{"best": 4}', 3) as { error: string }).error, /not an answer's number/);
  assert.match((readPick('{"best": "2"}', 3) as { error: string }).error, /not an answer's number/);
  assert.match((readPick("the second", 3) as { error: string }).error, /no \{"best": n\}/);
  const long = `${"a".repeat(3000)}QUESTION?`;
  const cut = bounded(long, 100);
  assert.equal(cut.length, 100);
  assert.ok(cut.endsWith("QUESTION?"), "the tail is kept: the question is often at the end");
});

test("an ensemble by judge: every tier answers, the judge picks among the valid ones, its cost is a step", async () => {
  const router = compileRouter({
    strategy: "ensemble",
    tiers: THREE,
    combine: { by: "judge", judge: "grader", rubric: "Prefer the complete answer." },
  });
  const t = tiers({
    cheap: "Refunds within 30 days.",
    strong: "I'm sorry, I can't help with that.",
    best: "Refunds within 30 days, with the receipt, to the card.",
  });
  const judge = asker('{"best": 2, "reason": "more complete"}');
  const run = await runEnsemble(router, t.call, ctx(judge.ask));
  assert.equal(run.chosen?.row.tier, "best", "the second valid answer: the refusal is not a candidate");
  assert.match(
    judge.prompts[0]!,
    /<answer number="1">\nRefunds within 30 days\.\n<\/answer>[\s\S]*<answer number="2">\nRefunds within 30 days, with/,
  );
  assert.doesNotMatch(judge.prompts[0]!, /I'm sorry/);
  assert.deepEqual(
    run.steps.map((s) => [s.row.tier, s.row.outcome, s.row.reason]),
    [
      ["cheap", "outvoted", "the judge picked best"],
      ["strong", "outvoted", "the judge picked best"],
      ["best", "served", null],
      ["judge", "served", "picked best"],
    ],
  );
  assert.equal(run.steps[3]!.row.role, "judge");
  assert.match(run.describe, /^judge chose best \(cheap outvoted, strong outvoted, best served\)$/);

  // A judge that fails or answers nonsense: the first valid answer, the judge's call recorded.
  const failed = await runEnsemble(router, t.call, ctx(asker(null).ask));
  assert.equal(failed.chosen?.row.tier, "cheap");
  assert.equal(failed.steps[0]!.row.outcome, "served");
  assert.equal(failed.steps[2]!.row.reason, "a tier before it was valid (the judge failed)");
  const unreadable = await runEnsemble(router, t.call, ctx(asker('{"best": 7}').ask));
  assert.equal(unreadable.chosen?.row.tier, "cheap");
  assert.deepEqual([unreadable.steps[3]!.row.outcome, unreadable.steps[3]!.row.costUsd], ["failed", 0.0001]);
  // One valid answer needs no judge.
  const single = asker('{"best": 1}');
  const one = await runEnsemble(
    router,
    tiers({ cheap: "ok", strong: null, best: null }).call,
    ctx(single.ask),
  );
  assert.equal(one.chosen?.row.tier, "cheap");
  assert.equal(single.prompts.length, 0);
});

test("a cascade escalates when the judge scores the cheap answer below the bar, or cannot judge; the last tier is not judged", async () => {
  const policy = (below: number) =>
    compileRouter({
      strategy: "cascade",
      tiers: THREE,
      escalateWhen: { judge: { target: "grader", rubric: "Cites the policy.", below } },
    });
  const texts = { cheap: "Refunds take a while.", strong: "Refunds within 30 days.", best: "x" };
  const judge = asker('{"score": 0.4, "reason": "vague"}');
  const low = await runCascade(policy(0.5), tiers(texts).call, ctx(judge.ask));
  assert.equal(low.chosen?.row.tier, "best", "0.4 < 0.5 at both judged tiers");
  assert.deepEqual(
    low.steps.map((s) => [s.row.tier, s.row.outcome, s.row.reason]),
    [
      ["cheap", "escalated", "judge score 0.4 below 0.5"],
      ["judge", "served", "score 0.4: vague"],
      ["strong", "escalated", "judge score 0.4 below 0.5"],
      ["judge", "served", "score 0.4: vague"],
      ["best", "served", null],
    ],
  );
  assert.equal(judge.prompts.length, 2, "the last tier is served as it is, unjudged");
  assert.match(judge.prompts[0]!, /<answer>\nRefunds take a while\.\n<\/answer>/);
  assert.equal(
    low.describe,
    "cheap (small@1.0.0) escalated: judge score 0.4 below 0.5 -> strong (large@1.0.0) escalated: judge score 0.4 below 0.5 -> best (huge@1.0.0) served",
  );
  const pass = await runCascade(policy(0.4), tiers(texts).call, ctx(judge.ask));
  assert.equal(pass.chosen?.row.tier, "cheap", "0.4 meets a bar of 0.4");
  const broken = await runCascade(policy(0.1), tiers(texts).call, ctx(asker("great answer!").ask));
  assert.equal(broken.steps[0]!.row.reason, "judge unreadable", "a check that cannot be made does not pass");
  assert.equal(broken.steps[1]!.row.outcome, "failed");
});

test("a cascade escalates on an answer that does not meet its JSON schema", async () => {
  const router = compileRouter({
    strategy: "cascade",
    tiers: TIERS,
    escalateWhen: {
      jsonSchema: {
        type: "object",
        required: ["label"],
        properties: { label: { enum: ["refund", "other"] } },
      },
    },
  });
  const bad = await runCascade(
    router,
    tiers({ cheap: '{"label": "maybe"}', strong: '{"label": "refund"}' }).call,
    ctx(asker(null).ask),
  );
  assert.equal(bad.chosen?.row.tier, "strong");
  assert.match(
    bad.steps[0]!.row.reason ?? "",
    /^JSON schema: \/label: must be equal to one of the allowed values: "refund", "other"$/,
  );
  const prose = await runCascade(router, tiers({ cheap: "refund", strong: "{}" }).call, ctx(asker(null).ask));
  assert.equal(prose.steps[0]!.row.reason, "not JSON (jsonSchema)");
  const good = await runCascade(
    router,
    tiers({ cheap: '```json\n{"label": "other"}\n```', strong: "{}" }).call,
    ctx(asker(null).ask),
  );
  assert.equal(good.chosen?.row.tier, "cheap", "a fenced JSON answer that meets the schema is kept");
});

test("a cascade's JSON schema may be a structured-output one: $defs, $ref, anyOf with null, formats", async () => {
  const router = compileRouter({
    strategy: "cascade",
    tiers: TIERS,
    escalateWhen: {
      jsonSchema: {
        $defs: { Label: { enum: ["refund", "other"], title: "Label", type: "string" } },
        properties: {
          label: { $ref: "#/$defs/Label" },
          due: { anyOf: [{ format: "date", type: "string" }, { type: "null" }], default: null },
          confidence: { exclusiveMinimum: 0, maximum: 1, type: "number" },
        },
        required: ["label", "confidence"],
        type: "object",
      },
    },
  });
  const run = (cheap: string) =>
    runCascade(router, tiers({ cheap, strong: "{}" }).call, ctx(asker(null).ask));
  const kept = await run('{"label": "refund", "due": "2026-12-24", "confidence": 0.8}');
  assert.equal(kept.chosen?.row.tier, "cheap");
  const late = await run('{"label": "refund", "due": "Christmas", "confidence": 0.8}');
  assert.match(late.steps[0]!.row.reason ?? "", /^JSON schema: \/due: must match format "date"$/);
  const unsure = await run('{"label": "other", "confidence": 0}');
  assert.equal(unsure.steps[0]!.row.reason, "JSON schema: /confidence: must be > 0");
});

test("a cascade schema stored before registration checked it, and that does not compile, escalates", () => {
  const { policy } = compileRouter({ strategy: "cascade", tiers: TIERS });
  const stored = {
    ...policy,
    escalateWhen: {
      ...policy.escalateWhen!,
      jsonSchema: { $schema: "http://json-schema.org/draft-07/schema#", type: "object" },
    },
  };
  const answer = [{ message: { role: "assistant", content: "{}" }, finish_reason: "stop" }];
  assert.match(
    shortfall(stored, undefined, answer) ?? "",
    /^JSON schema does not compile: schema\.\$schema: only draft 2020-12/,
  );
  assert.equal(shortfall(policy, undefined, answer), null);
});

test("maxCostUsd: a cascade stops before a tier whose worst case passes the cap; an ensemble leaves such tiers out", async () => {
  // Worst case per tier: 1,000 input tokens at $0.001/1k + 100 output (max_tokens) at $0.002/1k = $0.0012.
  const cascade = (maxCostUsd: number) => compileRouter({ strategy: "cascade", tiers: THREE, maxCostUsd });
  const refusing = {
    cheap: "I'm sorry, I can't help with that.",
    strong: "I'm sorry, I can't help with that.",
    best: "ok",
  };
  // Spent $0.001 on cheap; strong's worst case takes it to $0.0022: within $0.003; best's to $0.0032: over.
  const t = tiers(refusing);
  const capped = await runCascade(cascade(0.003), t.call, ctx(asker(null).ask, { maxTokens: 100 }));
  assert.deepEqual(t.called, ["cheap", "strong"]);
  assert.equal(capped.chosen?.row.tier, "strong", "the answer in hand is served as it is");
  assert.equal(
    capped.steps[1]!.row.reason,
    "refusal (cost cap: best could take the spend to $0.00320, over $0.00300: served as it is)",
  );
  assert.equal(capped.steps[0]!.row.outcome, "escalated");
  const roomy = tiers(refusing);
  await runCascade(cascade(0.0033), roomy.call, ctx(asker(null).ask, { maxTokens: 100 }));
  assert.deepEqual(roomy.called, ["cheap", "strong", "best"]);
  // Without max_tokens, 1,024 output tokens are assumed: $0.003048 a tier.
  const unbounded = tiers(refusing);
  await runCascade(cascade(0.004), unbounded.call, ctx(asker(null).ask));
  assert.deepEqual(unbounded.called, ["cheap"]);

  const ensemble = (maxCostUsd: number, by: "majority" | "judge" = "majority") =>
    compileRouter({
      strategy: "ensemble",
      tiers: THREE,
      combine: by === "judge" ? { by, judge: "grader" } : { by },
      maxCostUsd,
    });
  const e = tiers({ cheap: "ok", strong: "ok", best: "ok" });
  const run = await runEnsemble(ensemble(0.0025), e.call, ctx(asker(null).ask, { maxTokens: 100 }));
  assert.deepEqual(e.called, ["cheap", "strong"], "two worst cases ($0.0024) fit, three ($0.0036) do not");
  assert.deepEqual(
    run.steps[2]!.row,
    emptyRow("best", "skipped", "cost cap: worst case $0.00360 over $0.00250"),
  );
  const first = tiers({ cheap: "ok", strong: "ok", best: "ok" });
  await runEnsemble(ensemble(0.000001), first.call, ctx(asker(null).ask, { maxTokens: 100 }));
  assert.deepEqual(first.called, ["cheap"], "the first tier is always called");
  // The members' spend ($0.003 for three, their worst cases $0.0003) reaching the cap leaves the judge uncalled: first valid.
  const judge = asker('{"best": 2}');
  const noJudge = await runEnsemble(
    ensemble(0.002, "judge"),
    tiers({ cheap: "a", strong: "b", best: "c" }).call,
    ctx(judge.ask, { maxTokens: 1, tokensIn: 100 }),
  );
  assert.equal(judge.prompts.length, 0);
  assert.equal(noJudge.chosen?.row.tier, "cheap");
  assert.equal(noJudge.steps[1]!.row.reason, "a tier before it was valid (cost cap reached: no judge)");
});
