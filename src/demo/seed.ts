import type { RequestContext } from "../http/context.ts";
import { AppError } from "../lib/errors.ts";
import { FlagInputSchema } from "../modules/flags/index.ts";
import { RouteConfigSchema } from "../modules/gateway/index.ts";
import { modelCount } from "../modules/registry/index.ts";
import type { Services } from "../services.ts";
import { demoCard, demoEmbeddingsCard } from "./card.ts";

const DEMO_CTX: RequestContext = { actor: "modelgov-demo", requestId: "demo-seed", roles: ["admin"] };
/** A separate demo identity signs: the author and requester may not (separation of duties). */
const REVIEWER: RequestContext = { actor: "demo-reviewer", requestId: "demo-seed", roles: ["engineering"] };
const LABEL = "demo";

/** Seeds a small, clearly labelled demo workspace into an empty store. Returns false when the store is not empty. */
export async function seedDemo(s: Services): Promise<boolean> {
  if ((await modelCount(s.db)) > 0) return false;
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
    {
      version: "2.0.0",
      success: 0.95,
      p50: 300,
      p95: 800,
      errorRate: 0.005,
      changelog: "New prompt family: shorter, cheaper answers.",
      notes: "Release candidate. Planted for the evaluation demo: much worse for the 65+ age band.",
      // The planted disparity the evaluation demo must find (modelgov demo eval).
      byGroup: { "age_band:65+": 0.6 },
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
            byGroup: v.byGroup ?? { "age_band:65+": v.success - 0.02, "language:de": v.success - 0.01 },
          },
          // Seeded: the same request (or evaluation case) gets the same answer on every run.
          seed: 1000 + versions.indexOf(v),
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
  // Prices per version, so the request log, experiments and evaluations show costs.
  await s.routes.set(
    DEMO_CTX,
    "support-assistant",
    RouteConfigSchema.parse({
      prices: Object.fromEntries(versions.map((v) => [v.version, v.version === "2.0.0" ? PRICE_2 : PRICE_1])),
    }),
  );
  await seedEmbeddings(s);
  // From now on a customer-support release needs an evaluation that passes these gates; the
  // 1.2.0 request opened above is bound by them too (a signature alone does not approve it).
  await s.approvals.setPolicy(DEMO_CTX, { rules: [DEMO_RULE], gates: [DEMO_GATE] });
  // The workspace default monitor: the default rules on every model in production.
  await s.monitoring.setConfig(DEMO_CTX, "*", {});
  await s.flags.put(DEMO_CTX, DEMO_FLAG, "create", { skipReleaseGate: true });
}

/** The demo's embedding model (POST /v1/embeddings), released to production as the assistant's were. */
async function seedEmbeddings(s: Services): Promise<void> {
  const name = "support-embeddings";
  const version = "1.0.0";
  const dimensions = 256;
  await s.registry.createModel(DEMO_CTX, {
    name,
    owner: "support-platform-team",
    description:
      "DEMO: embeds support tickets for retrieval (POST /v1/embeddings). Seeded by modelgov serve; start with --no-demo to skip.",
    useCases: ["retrieval"],
    riskTier: "low",
    tags: [LABEL],
  });
  await s.registry.registerVersion(
    DEMO_CTX,
    name,
    {
      version,
      provider: "simulator",
      providerModelId: "sim-embeddings-1.0.0",
      parameters: {
        embedding: { dimensions },
        latencyMs: { p50: 40, p95: 120 },
        // Vectors depend on the text and this seed only: the same text, the same vector.
        seed: 2000,
      },
      changelog: "First release.",
      metrics: { latency_p95_ms: 120, dimensions },
      limitations: ["Simulated model: vectors are hashes of the text and carry no meaning"],
      tags: [LABEL],
      card: demoEmbeddingsCard(version, dimensions),
    },
    undefined,
    "demo",
  );
  const req = await s.approvals.request(DEMO_CTX, name, version, `Release ${version} to production`);
  await s.approvals.sign(REVIEWER, req.id, {
    role: "engineering",
    decision: "approve",
    comment: "demo sign-off",
    evidenceRefs: [],
  });
  await s.registry.setAlias(DEMO_CTX, name, "production", version, "demo: initial release");
  await s.routes.set(DEMO_CTX, name, RouteConfigSchema.parse({ prices: { [version]: EMBEDDING_PRICE } }));
}

/** Embeddings bill input tokens only (text-embedding-3-small's list price is $0.00002 per 1k). */
const EMBEDDING_PRICE = { inputPer1kUsd: 0.00002, outputPer1kUsd: 0 };

/**
 * The demo flag (issue 19): OpenFeature's evaluation context `tenant=internal` gets the canary,
 * everyone else production. The variants name aliases, so the flag follows a promotion. Written
 * past the release gate: the seed leaves 1.2.0's approval pending on purpose (the approval
 * inbox demo), so the gateway refuses the canary until it is approved; the audit event says so.
 */
export const DEMO_FLAG = FlagInputSchema.parse({
  key: "support-assistant.version",
  type: "string",
  description: "DEMO: the support-assistant version a caller should use. Internal tenants get the canary.",
  variants: { canary: "support-assistant@canary", production: "support-assistant@production" },
  defaultVariant: "production",
  rules: [{ when: { tenant: "internal" }, variant: "canary" }],
});

const PRICE_1 = { inputPer1kUsd: 0.5, outputPer1kUsd: 1.5 };
/** 2.0.0's point: cheaper answers. */
const PRICE_2 = { inputPer1kUsd: 0.25, outputPer1kUsd: 0.75 };

export const DEMO_RULE = {
  name: "default",
  match: {},
  roles: { engineering: 1 },
  evidence: ["card" as const],
  signoffTtlDays: 90,
  allowSameSignerForMultipleRoles: false,
};

/**
 * The demo's release gate. 10 points, not 5: the demo suite has 60 cases per age band, and
 * at that size chance alone moves a group's rate by several points.
 */
export const DEMO_GATE = {
  name: "customer-support-release",
  match: { useCases: ["customer-support"] },
  successRate: { min: 0.85 },
  latencyP95Ms: { max: 2000 },
  safetyViolations: { max: 0 },
  fairness: { maxGapPoints: 10, attributes: ["age_band", "language"], minGroupSize: 30 },
};
