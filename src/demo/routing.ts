import { calibrateThreshold, predictHashedLogistic, trainHashedLogistic } from "../engines/routing/index.ts";
import type { RequestContext } from "../http/context.ts";
import { RouteConfigSchema } from "../modules/gateway/index.ts";
import { mulberry32 } from "../providers/simulator/random.ts";
import { demoCard } from "./card.ts";
import { openMonitorStack } from "./monitor-stack.ts";
import { DEMO_RULE } from "./seed.ts";

/*
 * `modelgov demo routing`: the seed's "simple questions to a fast, cheap model, complex ones to
 * a capable one; cost down 40% at constant quality", on the simulator, in this process.
 *
 * Two simulated models: support-small (cheap: good on simple tickets, poor on hard ones, and
 * it declines what it cannot answer) and support-large (good everywhere, about 16 times the
 * price). A seeded suite of tickets with a known difficulty (30% hard; some hard tickets look
 * simple and some simple ones are long). Half of it trains and calibrates a router, RouteLLM's
 * way: every case through both models; a classifier (hashed n-grams) that tells where the
 * small model failed and the large did not, cross-fitted (each half scored by the classifier
 * trained on the other); the cost-quality curve of its probability, and the cheapest threshold
 * that keeps 97.5% of always-large's success. The router (1.0.0) and a cascade (2.0.0: small first, large when
 * small declines) are registered, approved and served as versions of `assistant`; the other
 * half goes through each of them and through each model alone, over the real gateway, and the
 * request log says what each cost. The demo passes when the router and the cascade each reach
 * at least 95% of always-large's success at no more than 60% of its cost.
 */

const OPERATOR: RequestContext = { actor: "modelgov-demo", requestId: "demo-routing", roles: ["admin"] };
const REVIEWER: RequestContext = {
  actor: "demo-reviewer",
  requestId: "demo-routing",
  roles: ["engineering"],
};

const SMALL = { price: { inputPer1kUsd: 0.15, outputPer1kUsd: 0.6 }, easy: 0.97, hard: 0.3 };
const LARGE = { price: { inputPer1kUsd: 2.5, outputPer1kUsd: 10 }, success: 0.96 };
/** What calibration aims for: a margin over the 95% the demo checks on the other half (cost has room). */
const TARGET = 0.975;

export interface Arm {
  requests: number;
  successRate: number;
  /** Dollars per 1,000 requests, from the request log. */
  costPer1k: number;
}

export interface RoutingDemoResult {
  ok: boolean;
  failures: string[];
  cases: { calibration: number; test: number; hardShare: number };
  threshold: number;
  router: Arm & { strongShare: number };
  cascade: Arm & { escalatedShare: number };
  strongOnly: Arm;
  cheapOnly: Arm;
  tookMs: number;
}

interface Case {
  text: string;
  hard: boolean;
}

const EASY = [
  "What are your opening hours on {d}?",
  "Where is my order {n}?",
  "How do I reset my password?",
  "Can I change the delivery address of order {n}?",
  "Do you ship to {c}?",
  "How long does a refund take?",
];
const HARD = [
  "Compare the annual and the monthly plan for a team of {n} and explain why one costs less over three years; show the calculation step by step.",
  "My export script fails:\n```python\nfor row in rows:\n    total += row['amount']\nprint(total / len(rows))\n```\nWhy does it crash on an empty month, and how should it handle it? What are the trade-offs?",
  "Design a migration of {n} customer accounts from the legacy billing system without double charges; what must happen first, and what if a payment fails mid-way?",
  "Prove that the discount rules cannot stack above 40% for order {n}, and derive the worst case.",
];
// Hard tickets that read as simple ones, and simple ones padded with pasted details.
const HARD_BUT_SHORT = ["Why was I charged twice for order {n}?", "Is clause 7 of my contract still valid?"];
const PASTE =
  "\n\nOrder details (pasted): item SKU-{n}, quantity 1, shipping standard, address on file, payment card ending 4242, placed via the mobile app, confirmation email received, tracking not yet available.";

function suite(n: number, rand: () => number): Case[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const fill = (t: string) =>
    t
      .replaceAll("{n}", String(1000 + Math.floor(rand() * 9000)))
      .replaceAll("{d}", pick(["Sunday", "Monday", "a public holiday"]))
      .replaceAll("{c}", pick(["Canada", "Norway", "Japan"]));
  return Array.from({ length: n }, () => {
    const hard = rand() < 0.3;
    if (hard) return { hard, text: fill(rand() < 0.15 ? pick(HARD_BUT_SHORT) : pick(HARD)) };
    return { hard, text: fill(pick(EASY)) + (rand() < 0.1 ? fill(PASTE) : "") };
  });
}

export async function runRoutingDemo(opts: { cases?: number; out?: (line: string) => void } = {}) {
  const started = performance.now();
  const out = opts.out ?? (() => {});
  const n = opts.cases ?? 600;
  const cases = suite(n, mulberry32(20261207));
  const calibration = cases.slice(0, n / 2);
  const held = cases.slice(n / 2);
  const s = await openMonitorStack(new Date(), { keepBodies: false, name: "routing" });
  try {
    const sv = s.services;
    await sv.approvals.setPolicy(OPERATOR, { rules: [DEMO_RULE] });
    const approve = async (model: string, version: string) => {
      const req = await sv.approvals.request(OPERATOR, model, version, `Release ${model}@${version}`);
      await sv.approvals.sign(REVIEWER, req.id, {
        role: "engineering",
        decision: "approve",
        comment: "demo sign-off",
        evidenceRefs: [],
      });
    };
    const model = (name: string, description: string) =>
      sv.registry.createModel(OPERATOR, {
        name,
        owner: "support-platform-team",
        description: `DEMO (modelgov demo routing): ${description}`,
        useCases: ["customer-support"],
        riskTier: "medium",
        tags: ["demo"],
      });
    const version = (
      name: string,
      v: string,
      provider: "simulator" | "router",
      parameters: Record<string, unknown>,
    ) =>
      sv.registry.registerVersion(
        OPERATOR,
        name,
        {
          version: v,
          provider,
          providerModelId: `${name}-${v}`,
          parameters,
          changelog: "",
          metrics: {},
          limitations: [],
          tags: ["demo"],
          card: demoCard(v, 0.9, `${name} ${v}`),
        },
        undefined,
        "demo",
      );
    await model("support-small", "a fast, cheap model: fine on simple tickets, declines hard ones");
    await model("support-large", "a capable, expensive model");
    await model("assistant", "what the support agents call: a routing policy over the two");
    await version("support-small", "1.0.0", "simulator", {
      latencyMs: { p50: 1, p95: 3 },
      tokens: { output: 150 },
      quality: { success: SMALL.easy, byGroup: { "difficulty:hard": SMALL.hard } },
      poorAnswer: "refusal",
      seed: 101,
    });
    await version("support-large", "1.0.0", "simulator", {
      latencyMs: { p50: 1, p95: 3 },
      tokens: { output: 150 },
      quality: { success: LARGE.success },
      seed: 202,
    });
    for (const [m, price] of [
      ["support-small", SMALL.price],
      ["support-large", LARGE.price],
    ] as const) {
      await approve(m, "1.0.0");
      await sv.registry.setAlias(OPERATOR, m, "production", "1.0.0", "demo: launch");
      await sv.routes.set(OPERATOR, m, RouteConfigSchema.parse({ prices: { "1.0.0": price } }));
    }
    await s.gateway.routing.refresh();
    out(
      `models: support-small ($${SMALL.price.outputPer1kUsd}/1k output) and support-large ($${LARGE.price.outputPer1kUsd}/1k output)`,
    );

    let seq = 0;
    /** One ticket through the gateway: whether the answer was good, and its request id. */
    const ask = async (modelField: string, c: Case) => {
      const res = await fetch(`${s.gatewayUrl}/v1/chat/completions`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${agent}`,
          "x-modelgov-groups": `difficulty=${c.hard ? "hard" : "easy"}`,
          "x-modelgov-subject": `ticket-${seq++}`,
        },
        body: JSON.stringify({ model: modelField, messages: [{ role: "user", content: c.text }] }),
      });
      const body = (await res.json()) as {
        choices?: { message?: { content?: string } }[];
        usage?: { prompt_tokens: number; completion_tokens: number };
      };
      if (res.status !== 200) throw new Error(`${modelField}: HTTP ${res.status} ${JSON.stringify(body)}`);
      return {
        success: (body.choices?.[0]?.message?.content ?? "").startsWith("SIM-OK"),
        usage: body.usage!,
        id: res.headers.get("x-modelgov-request-id")!,
      };
    };
    const agent = (await sv.identity.create(OPERATOR, { name: "support-agent", roles: ["agent"] })).token;
    const costOf = (u: { prompt_tokens: number; completion_tokens: number }, p: typeof SMALL.price) =>
      (u.prompt_tokens / 1000) * p.inputPer1kUsd + (u.completion_tokens / 1000) * p.outputPer1kUsd;

    // Every calibration case through both models: what each did, and what it cost.
    const seen: {
      text: string;
      cheap: { success: number; costUsd: number };
      strong: { success: number; costUsd: number };
    }[] = [];
    for (const c of calibration) {
      const cheap = await ask("support-small", c);
      const strong = await ask("support-large", c);
      seen.push({
        text: c.text,
        cheap: { success: cheap.success ? 1 : 0, costUsd: costOf(cheap.usage, SMALL.price) },
        strong: { success: strong.success ? 1 : 0, costUsd: costOf(strong.usage, LARGE.price) },
      });
    }
    // Cross-fitted, so every calibration ticket is scored by a classifier that never saw it:
    // two halves, each scored by the classifier trained on the other; the curve over all of
    // them; the router's own classifier trained on all. A label says where only the large model
    // answered well.
    const label = (x: (typeof seen)[number]) => ({
      text: x.text,
      label: !x.cheap.success && x.strong.success ? "strong" : "cheap",
    });
    const half = Math.floor(seen.length / 2);
    const folds = [seen.slice(0, half), seen.slice(half)];
    const scored = folds.flatMap((fold, i) => {
      const { model: other } = trainHashedLogistic(folds[1 - i]!.map(label), { l2: 1 });
      return fold.map((x) => ({
        ...x,
        score: predictHashedLogistic(other, x.text).probabilities.strong ?? 0,
      }));
    });
    const { model: classifier } = trainHashedLogistic(seen.map(label), { l2: 1 });
    const cal = calibrateThreshold(scored, { target: TARGET, relativeToStrong: true });
    out(
      `trained and calibrated (2-fold) on ${seen.length} tickets: threshold ${cal.threshold.toFixed(3)} keeps ${(cal.point.successRate * 100).toFixed(1)}% success (always-large ${(cal.strongOnly.successRate * 100).toFixed(1)}%) at ${((cal.point.costPerCaseUsd / cal.strongOnly.costPerCaseUsd) * 100).toFixed(0)}% of its cost, ${(cal.point.strongShare * 100).toFixed(0)}% sent to large`,
    );
    const threshold = Number.isFinite(cal.threshold) ? Math.min(1, Math.max(0, cal.threshold)) : 1;

    // The router and the cascade, versions of `assistant`.
    await version("assistant", "1.0.0", "router", {
      tiers: [
        { name: "cheap", target: "support-small" },
        { name: "strong", target: "support-large" },
      ],
      classifier: { kind: "trained", model: classifier, threshold },
    });
    await version("assistant", "2.0.0", "router", {
      strategy: "cascade",
      tiers: [
        { name: "cheap", target: "support-small" },
        { name: "strong", target: "support-large" },
      ],
    });
    for (const v of ["1.0.0", "2.0.0"]) await approve("assistant", v);
    await sv.registry.setAlias(OPERATOR, "assistant", "production", "1.0.0", "demo: calibrated router");
    await sv.registry.setAlias(OPERATOR, "assistant", "cascade", "2.0.0", "demo: cascade");
    await s.gateway.routing.refresh();
    out("registered assistant@1.0.0 (trained, calibrated router) and assistant@2.0.0 (cascade), approved");

    // The held-out half through each arm; costs from the request log.
    const arms: Record<string, { field: string; ids: string[]; successes: number }> = {
      router: { field: "assistant", ids: [], successes: 0 },
      cascade: { field: "assistant@cascade", ids: [], successes: 0 },
      strongOnly: { field: "support-large", ids: [], successes: 0 },
      cheapOnly: { field: "support-small", ids: [], successes: 0 },
    };
    for (const c of held)
      for (const arm of Object.values(arms)) {
        const r = await ask(arm.field, c);
        arm.ids.push(r.id);
        if (r.success) arm.successes++;
      }
    await sv.requestLog.flush();
    const measured = async (arm: (typeof arms)[string]) => {
      const [row] = await s.db.query<{ cost: number; strong: number; escalated: number }>(
        `SELECT sum(cost_usd)::float8 AS cost,
                count(*) FILTER (WHERE route_reason LIKE '%tier strong%')::int AS strong,
                count(*) FILTER (WHERE route_path @> '[{"outcome": "escalated"}]')::int AS escalated
           FROM request_log WHERE id = ANY($1::text[])`,
        [arm.ids],
      );
      return {
        requests: arm.ids.length,
        successRate: arm.successes / arm.ids.length,
        costPer1k: ((row?.cost ?? 0) / arm.ids.length) * 1000,
        strong: (row?.strong ?? 0) / arm.ids.length,
        escalated: (row?.escalated ?? 0) / arm.ids.length,
      };
    };
    const router = await measured(arms.router!);
    const cascade = await measured(arms.cascade!);
    const strongOnly = await measured(arms.strongOnly!);
    const cheapOnly = await measured(arms.cheapOnly!);
    const failures: string[] = [];
    for (const [name, arm] of [
      ["router", router],
      ["cascade", cascade],
    ] as const) {
      if (arm.successRate < 0.95 * strongOnly.successRate)
        failures.push(
          `${name}: success ${(arm.successRate * 100).toFixed(1)}% is under 95% of always-large's ${(strongOnly.successRate * 100).toFixed(1)}%`,
        );
      if (arm.costPer1k > 0.6 * strongOnly.costPer1k)
        failures.push(
          `${name}: $${arm.costPer1k.toFixed(2)} per 1k is over 60% of always-large's $${strongOnly.costPer1k.toFixed(2)}`,
        );
    }
    const arm = (a: Awaited<ReturnType<typeof measured>>): Arm => ({
      requests: a.requests,
      successRate: round(a.successRate),
      costPer1k: round(a.costPer1k),
    });
    const result: RoutingDemoResult = {
      ok: failures.length === 0,
      failures,
      cases: {
        calibration: calibration.length,
        test: held.length,
        hardShare: round(held.filter((c) => c.hard).length / held.length),
      },
      threshold: round(threshold),
      router: { ...arm(router), strongShare: round(router.strong) },
      cascade: { ...arm(cascade), escalatedShare: round(cascade.escalated) },
      strongOnly: arm(strongOnly),
      cheapOnly: arm(cheapOnly),
      tookMs: Math.round(performance.now() - started),
    };
    for (const [name, a] of [
      ["router (1.0.0)", result.router],
      ["cascade (2.0.0)", result.cascade],
      ["always large", result.strongOnly],
      ["always small", result.cheapOnly],
    ] as const)
      out(
        `${name.padEnd(16)} success ${(a.successRate * 100).toFixed(1).padStart(5)}%   $${a.costPer1k.toFixed(2).padStart(6)} per 1k requests   (${((a.successRate / result.strongOnly.successRate) * 100).toFixed(0)}% of large's success at ${((a.costPer1k / result.strongOnly.costPer1k) * 100).toFixed(0)}% of its cost)`,
      );
    return result;
  } finally {
    await s.close();
  }
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
