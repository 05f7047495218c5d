// Test fixtures for rollouts and experiments: a model with approved versions, and traffic
// written straight into the request log and the feedback (at the harness's clock).

import { SignSchema } from "../modules/approvals/approvals.schemas.ts";
import { SECTION_KEYS } from "../modules/cards/card-sections.ts";
import { VersionCreateSchema } from "../modules/registry/registry.schemas.ts";
import type { Services } from "../services.ts";
import { ctx, type Harness } from "./stores.ts";

const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k.replaceAll("_", " ")}: test fixture.`])),
  extraSections: [],
};

/** A model with 1.0.0 (production), 1.1.0 and 1.2.0, all approved; returns `model@version` → id. */
export async function seedModel(h: { services: Services }, name: string): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  await h.services.registry.createModel(ctx(), {
    name,
    owner: "team",
    description: "",
    useCases: [],
    riskTier: "low",
    tags: [],
  });
  for (const version of ["1.0.0", "1.1.0", "1.2.0"]) {
    const v = await h.services.registry.registerVersion(
      ctx(),
      name,
      VersionCreateSchema.parse({ version, provider: "simulator", providerModelId: "sim", card: CARD }),
    );
    ids[`${name}@${version}`] = v.id;
    const r = await h.services.approvals.request(ctx(), name, version, "ship it");
    await h.services.approvals.sign(
      ctx("eve", ["engineering"]),
      r.id,
      SignSchema.parse({ role: "engineering", decision: "approve" }),
    );
  }
  await h.services.registry.setAlias(ctx(), name, "production", "1.0.0", "first release");
  return ids;
}

export interface TrafficOptions {
  /** Share of answers judged successful (feedback), when no groups are given. */
  successRate?: number;
  /** The first `errors` requests fail (502, the chosen version failed). */
  errors?: number;
  /** `attribute=value` → success rate; requests cycle through the groups. */
  groups?: Record<string, number>;
  /** Every request's latency in ms (default 100 + i mod 7). */
  latencyMs?: number;
}

let n = 0;

/** `count` requests to a version with their feedback, flushed to the store. */
export async function sendTraffic(
  h: Harness,
  ids: Record<string, string>,
  model: string,
  version: string,
  count: number,
  opts: TrafficOptions = {},
) {
  const rate = opts.successRate ?? 0.9;
  const groups = Object.entries(opts.groups ?? { "region=eu": rate, "region=us": rate });
  const versionId = ids[`${model}@${version}`]!;
  // As the gateway logs a request its route's split chose: with the split's scope (an experiment's id).
  const splitScope = (await h.services.routes.get(model)).splitScope;
  for (let i = 0; i < count; i++) {
    const [g, p] = groups[i % groups.length]!;
    const [k, v] = g.split("=") as [string, string];
    const failed = i < (opts.errors ?? 0);
    const id = `req_kit_${n++}`;
    h.services.requestLog.record({
      id,
      at: h.clock.now(),
      tokenId: "tok_a",
      client: "bot",
      model,
      versionId,
      version,
      routeReason: "split",
      splitScope,
      endpoint: "chat.completions",
      stream: false,
      status: failed ? 502 : 200,
      errorClass: failed ? "upstream" : null,
      totalMs: opts.latencyMs ?? 100 + (i % 7),
      upstreamMs: 90,
      tokensIn: 10,
      tokensOut: 10,
      costUsd: 0.001,
      fallbackPath: [
        { versionId, version, outcome: failed ? "failed" : "served", attempts: 1, durationMs: 90 },
      ] as never,
    });
    // A low-discrepancy sequence: the observed rate is the asked one to within 1/count.
    if (!failed)
      h.services.feedbackLog.record({
        id: `fbk_${id}`,
        requestId: id,
        at: h.clock.now(),
        success: (Math.floor(i / groups.length) * 0.6180339887) % 1 < p,
        score: null,
        labels: [],
        groups: { [k]: v },
        comment: "",
        tokenId: "tok_a",
        client: "bot",
      });
  }
  await h.services.requestLog.flush();
  await h.services.feedbackLog.flush();
}
