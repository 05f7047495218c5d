import type { RequestContext } from "./http/context.ts";
import { AppError } from "./lib/errors.ts";
import type { CardContent } from "./modules/cards/index.ts";
import type { Services } from "./services.ts";

const DEMO_CTX: RequestContext = { actor: "modelgov-demo", requestId: "demo-seed", roles: ["admin"] };
/** A separate demo identity signs: the author and requester may not (separation of duties). */
const REVIEWER: RequestContext = { actor: "demo-reviewer", requestId: "demo-seed", roles: ["engineering"] };
const LABEL = "demo";

function demoCard(version: string, successRate: number, notes: string): CardContent {
  return {
    title: `Model Card for support-assistant ${version} (DEMO)`,
    metadata: {
      license: "apache-2.0",
      tags: ["demo", "customer-support", "simulator"],
      language: ["en", "de", "es"],
      base_model: "modelgov/simulator",
      "model-index": [
        {
          name: `support-assistant-${version}`,
          results: [
            {
              task: { type: "text-generation", name: "Support answer" },
              dataset: { name: "demo-support-tickets", type: "modelgov/demo-support-tickets", split: "test" },
              metrics: [{ type: "success_rate", value: successRate, name: "Resolved without escalation" }],
            },
          ],
        },
      ],
    },
    sections: {
      model_details: `DEMO WORKSPACE. A customer-support assistant served by the built-in simulator provider. ${notes}`,
      intended_use:
        "Drafting first answers to customer-support tickets in English, German and Spanish, reviewed by an agent before sending.",
      out_of_scope_use:
        "Legal, medical or financial advice; any reply sent without human review; ticket triage that decides refunds.",
      factors: "Ticket language, customer age band and region, ticket length.",
      metrics: "Success rate (ticket resolved without escalation), p95 latency, cost per 1,000 requests.",
      evaluation_data:
        "500 synthetic support tickets generated for the demo, stratified by language and age band.",
      training_data:
        "Not applicable: the simulator has no weights. A real model card names its training data here.",
      quantitative_analyses: `Overall success rate ${successRate}. Per-group results are produced by the evaluation engine.`,
      ethical_considerations:
        "Answers may be less accurate for non-English tickets; monitor per-group success before widening traffic.",
      caveats_and_recommendations: "Demo data only. Replace with your own models before drawing conclusions.",
    },
    extraSections: [],
  };
}

/** Seeds a small, clearly labelled demo workspace into an empty store. Returns false when the store is not empty. */
export async function seedDemo(s: Services): Promise<boolean> {
  const rows = await s.db.query<{ n: number }>("SELECT count(*)::int AS n FROM models");
  if ((rows[0]?.n ?? 0) > 0) return false;
  try {
    await seed(s);
  } catch (err) {
    // Replicas starting together on one database race to seed: the one that loses steps back.
    if (err instanceof AppError && err.code === "conflict") return false;
    throw err;
  }
  return true;
}

async function seed(s: Services): Promise<void> {
  await s.registry.createModel(DEMO_CTX, {
    name: "support-assistant",
    owner: "support-platform-team",
    description:
      "DEMO: drafts answers to customer-support tickets. Seeded by modelgov serve; start with --no-demo to skip.",
    useCases: ["customer-support", "summarization"],
    riskTier: "medium",
    tags: [LABEL],
  });
  const contract = {
    input: {
      type: "object",
      properties: { ticket: { type: "string" }, language: { type: "string" } },
      required: ["ticket"],
    },
    output: {
      type: "object",
      properties: { answer: { type: "string" }, escalate: { type: "boolean" } },
      required: ["answer"],
    },
  };
  const versions = [
    {
      version: "1.0.0",
      success: 0.86,
      p50: 420,
      p95: 1100,
      errorRate: 0.01,
      changelog: "First release.",
      notes: "Baseline.",
    },
    {
      version: "1.1.0",
      success: 0.9,
      p50: 380,
      p95: 950,
      errorRate: 0.008,
      changelog: "Better retrieval prompts.",
      notes: "Improved prompts.",
    },
    {
      version: "1.2.0",
      success: 0.93,
      p50: 350,
      p95: 900,
      errorRate: 0.005,
      changelog: "Adds escalation hints.",
      notes: "Canary candidate.",
    },
  ];
  for (const v of versions) {
    await s.registry.registerVersion(
      DEMO_CTX,
      "support-assistant",
      {
        version: v.version,
        provider: "simulator",
        providerModelId: `sim-support-${v.version}`,
        parameters: {
          latencyMs: { p50: v.p50, p95: v.p95 },
          errorRate: v.errorRate,
          tokens: { output: 160 },
          quality: {
            success: v.success,
            byGroup: { "age_band:65+": v.success - 0.06, "language:de": v.success - 0.03 },
          },
        },
        contract,
        changelog: v.changelog,
        metrics: { success_rate: v.success, latency_p95_ms: v.p95, cost_per_1k_usd: 0.42 },
        limitations: ["Simulated model: answers are placeholders"],
        tags: [LABEL],
        card: demoCard(v.version, v.success, v.notes),
      },
      undefined,
      "demo",
    );
  }
  for (const [version, why] of [
    ["1.0.0", "demo: initial release"],
    ["1.1.0", "demo: promoted after evaluation"],
  ] as const) {
    const req = await s.approvals.request(
      DEMO_CTX,
      "support-assistant",
      version,
      `Release ${version} to production`,
    );
    await s.approvals.sign(REVIEWER, req.id, {
      role: "engineering",
      decision: "approve",
      comment: "demo sign-off",
      evidenceRefs: [],
    });
    await s.registry.setAlias(DEMO_CTX, "support-assistant", "production", version, why);
  }
  await s.registry.setAlias(DEMO_CTX, "support-assistant", "canary", "1.2.0", "demo: canary candidate");
  // Left pending, so an engineering token finds it in its inbox.
  await s.approvals.request(DEMO_CTX, "support-assistant", "1.2.0", "Promote the 1.2.0 canary to production");
}
