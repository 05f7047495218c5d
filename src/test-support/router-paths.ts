// A small seeded log of two router versions of `assistant` (1.0.0 routes, 2.0.0 cascades)
// over two tier models, with feedback (one answer superseded): the success-by-path views' test.

import { SignSchema } from "../modules/approvals/approvals.schemas.ts";
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";
import { VersionCreateSchema } from "../modules/registry/registry.schemas.ts";
import type { RouteMember } from "../modules/request-log/index.ts";
import { ctx, type Harness } from "./stores.ts";

const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: test fixture.`])),
  extraSections: [],
};

async function approved(h: Harness, model: string, body: Record<string, unknown>): Promise<string> {
  const v = await h.services.registry.registerVersion(
    ctx(),
    model,
    VersionCreateSchema.parse({ ...body, card: CARD }),
  );
  const r = await h.services.approvals.request(ctx(), model, v.version, "ship it");
  await h.services.approvals.sign(
    ctx("eve", ["engineering"]),
    r.id,
    SignSchema.parse({ role: "engineering", decision: "approve" }),
  );
  return v.id;
}

const TIERS = [
  { name: "cheap", target: "tier-small" },
  { name: "strong", target: "tier-large@1.0.0" },
];

/**
 * 1.0.0 (route): `cheap` 4 requests at $0.001, 3 of 4 judged successes; `strong` 2 at $0.01,
 * both successes. 2.0.0 (cascade): `cheap` 2 at $0.001, both successes (one after a failure
 * it supersedes); `cheap>strong` 2 at $0.011, one judged, a success. An experiment runs
 * between them (control 1.0.0, cascade 2.0.0); monitors watch assistant and tier-large.
 */
export async function seedRouter(h: Harness): Promise<{ experiment: string }> {
  for (const name of ["tier-small", "tier-large", "assistant"])
    await h.services.registry.createModel(ctx(), {
      name,
      owner: "team",
      description: "",
      useCases: [],
      riskTier: "low",
      tags: [],
    });
  for (const m of ["tier-small", "tier-large"]) {
    await approved(h, m, { version: "1.0.0", provider: "simulator", providerModelId: "sim" });
    await h.services.registry.setAlias(ctx(), m, "production", "1.0.0", "launch");
  }
  const route = await approved(h, "assistant", {
    version: "1.0.0",
    provider: "router",
    providerModelId: "rules-v1",
    parameters: {
      tiers: TIERS,
      classifier: {
        kind: "rules",
        rules: [{ when: { "metadata.tier": "pro" }, tier: "strong" }],
        default: "cheap",
      },
    },
  });
  const cascade = await approved(h, "assistant", {
    version: "2.0.0",
    provider: "router",
    providerModelId: "cascade-v1",
    parameters: { strategy: "cascade", tiers: TIERS },
  });
  await h.services.registry.setAlias(ctx(), "assistant", "production", "1.0.0", "launch");
  for (const m of ["assistant", "tier-large"]) await h.services.monitoring.setConfig(ctx(), m, {});
  const e = await h.services.experiments.create(ctx(), "assistant", {
    name: "cascade-trial",
    arms: [
      { name: "control", version: "1.0.0", weight: 50 },
      { name: "cascade", version: "2.0.0", weight: 50 },
    ],
    primary: "success_rate",
    secondary: [],
    guardrails: [],
    alpha: 0.05,
    minSamplePerArm: 100,
    minDurationMs: 0,
    plannedSamplePerArm: 1000,
  });
  h.clock.advance(60_000);
  let n = 0;
  const member = (tier: string, outcome: RouteMember["outcome"], costUsd: number): RouteMember => ({
    tier,
    versionId: null,
    version: "1.0.0",
    outcome,
    reason: null,
    tokensIn: 1,
    tokensOut: 1,
    costUsd,
    upstreamMs: 1,
  });
  const send = (
    routedVersionId: string,
    routeStrategy: "route" | "cascade",
    routePath: RouteMember[],
    ...answers: (boolean | null)[]
  ) => {
    const id = `req_path_${n++}`;
    h.services.requestLog.record({
      id,
      at: h.clock.now(),
      tokenId: "tok_a",
      client: "bot",
      model: "assistant",
      versionId: null,
      version: "1.0.0",
      routedVersionId,
      routeReason: "split",
      splitScope: e.id,
      endpoint: "chat.completions",
      stream: false,
      status: 200,
      errorClass: null,
      totalMs: 10,
      upstreamMs: 9,
      tokensIn: 1,
      tokensOut: 1,
      costUsd: routePath.reduce((s, m) => s + m.costUsd, 0),
      fallbackPath: [],
      subject: `user-${n}`,
      routePath,
      routeStrategy,
    });
    for (const [i, success] of answers.entries())
      if (success !== null)
        h.services.feedbackLog.record({
          id: `fbk_${id}_${i}`,
          requestId: id,
          at: new Date(h.clock.now().getTime() + i * 1000),
          success,
          score: null,
          labels: [],
          groups: {},
          comment: "",
          tokenId: "tok_a",
          client: "bot",
        });
  };
  for (const ok of [true, true, true, false]) send(route, "route", [member("cheap", "served", 0.001)], ok);
  for (let i = 0; i < 2; i++) send(route, "route", [member("strong", "served", 0.01)], true);
  send(cascade, "cascade", [member("cheap", "served", 0.001)], true);
  send(cascade, "cascade", [member("cheap", "served", 0.001)], false, true);
  for (const ok of [true, null])
    send(cascade, "cascade", [member("cheap", "escalated", 0.001), member("strong", "served", 0.01)], ok);
  await h.services.requestLog.flush();
  await h.services.feedbackLog.flush();
  h.clock.advance(60_000); // the views' windows end now, exclusive
  return { experiment: e.id };
}
