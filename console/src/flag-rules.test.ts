import assert from "node:assert/strict";
import { test } from "node:test";
import {
  conditionText,
  percent,
  rolloutShares,
  ruleText,
  scheduleState,
  servingState,
} from "./flag-rules.ts";

test("a condition in words: equality, operators, several paths, strings quoted apart from numbers", () => {
  assert.equal(conditionText({ tenant: "internal" }), 'tenant is "internal"');
  assert.equal(conditionText({ "user.plan": { $ne: "free" } }), 'user.plan is not "free"');
  assert.equal(
    conditionText({ region: { $in: ["eu-west", "eu-central"] }, plan: { $ne: "free" } }),
    'region is one of "eu-west", "eu-central" and plan is not "free"',
  );
  assert.equal(conditionText({ seats: { $gte: 10, $lt: 250 } }), "seats ≥ 10 and seats < 250");
  assert.equal(conditionText({ limit: { $gt: "250" } }), 'limit > "250"');
  assert.equal(conditionText({ country: { $nin: ["FR"] } }), 'country is none of "FR"');
  assert.equal(conditionText({ email: { $regex: "@acme\\.com$" } }), "email matches /@acme\\.com$/");
  assert.equal(conditionText({ beta: { $exists: true } }), "beta is set");
  assert.equal(conditionText({ beta: { $exists: false } }), "beta is not set");
  assert.equal(conditionText({ beta: true, score: { $eq: null } }), "beta is true and score is null");
  assert.equal(conditionText({ "context.tenant": "internal" }), 'context.tenant is "internal"');
});

test("combinators are bracketed only where the reading would change", () => {
  assert.equal(
    conditionText({ $or: [{ tier: "gold" }, { beta: true }], $not: { country: "FR" } }),
    '(tier is "gold" or beta is true) and not country is "FR"',
  );
  assert.equal(
    conditionText({ $or: [{ a: 1, b: 2 }, { c: 3 }] }),
    "(a is 1 and b is 2) or c is 3",
    "an and inside an or",
  );
  assert.equal(conditionText({ $and: [{ a: 1 }, { b: 2 }], c: 3 }), "a is 1 and b is 2 and c is 3");
  assert.equal(conditionText({ $not: { $or: [{ a: 1 }, { b: 2 }] } }), "not (a is 1 or b is 2)");
  assert.equal(conditionText({ $or: [{ a: 1 }] }), "a is 1", "a list of one is that one");
});

test("a rule without a condition holds for everyone", () => {
  assert.equal(conditionText(undefined), "everyone");
  assert.equal(conditionText({}), "everyone");
});

test("rollout shares are relative weights; percentages keep one decimal when needed", () => {
  assert.deepEqual(
    rolloutShares([
      { variant: "canary", weight: 10 },
      { variant: "production", weight: 90 },
    ]).map((s) => [s.variant, percent(s.share)]),
    [
      ["canary", "10%"],
      ["production", "90%"],
    ],
  );
  assert.deepEqual(
    rolloutShares([
      { variant: "a", weight: 1 },
      { variant: "b", weight: 1 },
      { variant: "c", weight: 1 },
    ]).map((s) => percent(s.share)),
    ["33.3%", "33.3%", "33.3%"],
  );
  assert.equal(percent(0.005), "0.5%");
  assert.deepEqual(
    rolloutShares([{ variant: "a", weight: 0 }]).map((s) => s.share),
    [0],
    "weights adding to nothing give nothing, not NaN",
  );
});

test("a rule in one line, for the history", () => {
  assert.equal(
    ruleText({ when: { tenant: "internal" }, variant: "canary" }),
    'when tenant is "internal" → canary',
  );
  assert.equal(
    ruleText({
      rollout: [
        { variant: "canary", weight: 1 },
        { variant: "production", weight: 3 },
      ],
    }),
    "everyone → canary 25% / production 75%",
  );
});

test("the schedule: on from onAt inclusive, off from offAt inclusive, as the engine reads it", () => {
  const onAt = "2026-12-10T08:00:00Z";
  const offAt = "2026-12-24T00:00:00Z";
  const t = (iso: string) => Date.parse(iso);
  assert.equal(scheduleState(undefined, t(onAt)), "always");
  assert.equal(scheduleState({}, t(onAt)), "always");
  assert.equal(scheduleState({ onAt, offAt }, t(onAt) - 1), "scheduled");
  assert.equal(scheduleState({ onAt, offAt }, t(onAt)), "on");
  assert.equal(scheduleState({ onAt, offAt }, t(offAt) - 1), "on");
  assert.equal(scheduleState({ onAt, offAt }, t(offAt)), "ended");
  assert.equal(scheduleState({ offAt }, t(onAt)), "on");
  assert.equal(servingState({ enabled: false }, t(onAt)), "disabled");
  assert.equal(servingState({ enabled: true, schedule: { onAt } }, t(onAt) - 1), "scheduled");
  assert.equal(servingState({ enabled: true, schedule: { offAt } }, t(offAt)), "ended");
  assert.equal(servingState({ enabled: true }, t(onAt)), "rules");
});
