import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { JudgedRow, RouteMember } from "../request-log/index.ts";
import { judge, type LabelContext, tierOf } from "./feedback-labels.ts";

const ctx: LabelContext = {
  tiers: [
    { name: "cheap", model: "small", versionId: null },
    { name: "strong", model: "large", versionId: "ver_l2" },
  ],
  routers: new Map([
    ["ver_route", { strategy: "route" }],
    ["ver_cascade", { strategy: "cascade" }],
    ["ver_ensemble", { strategy: "ensemble" }],
  ]),
  modelOf: new Map([
    ["ver_s1", "small"],
    ["ver_s2", "small"],
    ["ver_l1", "large"],
    ["ver_l2", "large"],
    ["ver_route", "assistant"],
    ["ver_cascade", "assistant"],
    ["ver_ensemble", "assistant"],
  ]),
};

const member = (tier: string, versionId: string | null, outcome: RouteMember["outcome"]): RouteMember => ({
  tier,
  versionId,
  version: null,
  outcome,
  reason: null,
  tokensIn: 0,
  tokensOut: 0,
  costUsd: 0,
  upstreamMs: null,
});

const row = (o: Partial<JudgedRow>): JudgedRow => ({
  id: "req_1",
  at: new Date(0),
  model: "assistant",
  routedVersionId: null,
  versionId: null,
  routeReason: "alias:production",
  status: 200,
  routePath: null,
  sampledBody: null,
  success: true,
  ...o,
});

const routed = (tier: string, versionId: string, success: boolean | null) =>
  row({
    routedVersionId: "ver_route",
    versionId,
    routeReason: `alias:production; router 1.0.0 tier ${tier} (complexity:0.7) -> x@1.0.0 pinned`,
    success,
  });
const cascade = (path: RouteMember[], success: boolean) =>
  row({
    routedVersionId: "ver_cascade",
    versionId: path.at(-1)?.versionId ?? null,
    routePath: path,
    success,
  });

describe("labelling a judged request by the tier it should have gone to", () => {
  test("a route router: cheap with success → cheap, with failure → strong; strong with success is ambiguous", () => {
    assert.deepEqual(judge(routed("cheap", "ver_s1", true), ctx), { label: "cheap", source: "route" });
    assert.deepEqual(judge(routed("cheap", "ver_s1", false), ctx), { label: "strong", source: "route" });
    assert.deepEqual(judge(routed("strong", "ver_l2", true), ctx), {
      skip: "cheaper-unknown",
      source: "route",
    });
    assert.deepEqual(judge(routed("strong", "ver_l2", false), ctx), { skip: "last-failed", source: "route" });
  });

  test("a cascade: the first tier passing with success → cheap; escalated then strong with success → strong", () => {
    const s = member("cheap", "ver_s1", "served");
    assert.deepEqual(judge(cascade([s], true), ctx), { label: "cheap", source: "cascade" });
    assert.deepEqual(judge(cascade([s], false), ctx), { label: "strong", source: "cascade" });
    const escalated = [member("cheap", "ver_s1", "escalated"), member("strong", "ver_l2", "served")];
    assert.deepEqual(judge(cascade(escalated, true), ctx), { label: "strong", source: "cascade" });
    assert.deepEqual(judge(cascade(escalated, false), ctx), { skip: "last-failed", source: "cascade" });
    // A cheap tier that errored or was refused says nothing about the text.
    for (const outcome of ["failed", "refused"] as const)
      assert.deepEqual(
        judge(cascade([member("cheap", null, outcome), member("strong", "ver_l2", "served")], true), ctx),
        { skip: "cheaper-unknown", source: "cascade" },
      );
  });

  test("a request to a tier model itself counts for that tier; a version the tier does not pin is none", () => {
    assert.deepEqual(judge(row({ model: "small", versionId: "ver_s2" }), ctx), {
      label: "cheap",
      source: "direct",
    });
    assert.deepEqual(judge(row({ model: "small", versionId: "ver_s2", success: false }), ctx), {
      label: "strong",
      source: "direct",
    });
    assert.deepEqual(judge(row({ model: "large", versionId: "ver_l2" }), ctx), {
      skip: "cheaper-unknown",
      source: "direct",
    });
    assert.deepEqual(judge(row({ model: "large", versionId: "ver_l1" }), ctx), {
      skip: "not-a-tier",
      source: "direct",
    });
    assert.deepEqual(judge(routed("strong", "ver_l1", false), ctx), { skip: "not-a-tier", source: "route" });
  });

  test("ensembles, verdict-less feedback and failed requests are skipped", () => {
    assert.deepEqual(judge(row({ routedVersionId: "ver_ensemble", versionId: "ver_s1" }), ctx), {
      skip: "ensemble",
      source: "ensemble",
    });
    assert.deepEqual(judge(routed("cheap", "ver_s1", null), ctx), { skip: "no-success", source: "route" });
    assert.deepEqual(judge(row({ model: "small", versionId: "ver_s1", status: 502 }), ctx), {
      skip: "not-answered",
      source: "direct",
    });
  });

  test("two tiers on one model's aliases are told apart by the tier name the router logged", () => {
    const c: LabelContext = {
      ...ctx,
      tiers: [
        { name: "a", model: "small", versionId: null },
        { name: "b", model: "small", versionId: null },
      ],
    };
    assert.equal(tierOf(c, "ver_s1", "b"), 1);
    assert.equal(tierOf(c, "ver_s1", "a"), 0);
    assert.equal(tierOf(c, "ver_s1"), null, "a direct request: either tier");
  });
});
