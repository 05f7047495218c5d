import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_PATH, routeKey } from "./route-key.ts";

const m = (tier: string, outcome: string, extra: Record<string, unknown> = {}) => ({
  tier,
  outcome,
  ...extra,
});

test("a route's tier, a cascade's tiers in order, an ensemble's chosen tier; none for a plain request", () => {
  assert.equal(routeKey("route", [m("strong", "served")]), "strong");
  assert.equal(routeKey("route", [m("strong", "failed")]), "strong", "a failed tier is still the path taken");
  assert.equal(routeKey("cascade", [m("cheap", "served")]), "cheap");
  assert.equal(routeKey("cascade", [m("cheap", "escalated"), m("strong", "served")]), "cheap>strong");
  assert.equal(
    routeKey("cascade", [m("cheap", "failed"), m("mid", "refused"), m("strong", "failed")]),
    "cheap>strong",
    "a refused tier was never called",
  );
  assert.equal(
    routeKey("ensemble", [m("cheap", "outvoted"), m("strong", "served"), m("mid", "failed")]),
    "strong",
  );
  assert.equal(routeKey("ensemble", [m("cheap", "failed"), m("strong", "failed")]), NO_PATH);
  assert.equal(routeKey("cascade", [m("cheap", "refused")]), NO_PATH);
  assert.equal(routeKey(null, null), null);
  assert.equal(routeKey("route", null), null);
  assert.equal(routeKey(undefined, [m("cheap", "served")]), null);
});

test("members that are not tiers (a classifier, a judge) or whose outcome is unknown are not on the path", () => {
  assert.equal(
    routeKey("cascade", [
      m("triage", "served", { role: "classifier" }),
      m("cheap", "escalated"),
      m("grader", "served", { kind: "judge" }),
      m("strong", "served", { role: "tier" }),
      m("strong2", "abstained"),
    ]),
    "cheap>strong",
  );
  assert.equal(
    routeKey("ensemble", [m("judge", "served", { role: "judge" }), m("cheap", "served")]),
    "cheap",
  );
});
