import assert from "node:assert/strict";
import { test } from "node:test";
import { contains, exactMatch, label, normaliseLabel, regex } from "./text.ts";

const out = (text: string) => ({ text });

test("exact_match trims by default, is case-sensitive unless told, and can keep whitespace", () => {
  assert.equal(exactMatch.score(out("  Paris\n"), { equals: "Paris" }, {}).passed, true);
  const cased = exactMatch.score(out("paris"), { equals: "Paris" }, {});
  assert.deepEqual([cased.passed, cased.score], [false, 0]);
  assert.match(cased.reason, /expected "Paris", got "paris"/);
  assert.equal(exactMatch.score(out("paris"), { equals: "Paris" }, { caseInsensitive: true }).passed, true);
  assert.equal(exactMatch.score(out(" Paris"), { equals: "Paris" }, { trim: false }).passed, false);
});

test("exact_match without expect.equals fails with the reason instead of throwing", () => {
  const r = exactMatch.score(out("x"), { contains: "x" }, {});
  assert.equal(r.passed, false);
  assert.match(r.reason, /needs expect\.equals/);
  assert.equal(exactMatch.checkExpect({ equals: "x" }, {}), undefined);
});

test("contains: all (default) gives partial credit and names what is missing; any needs one", () => {
  const r = contains.score(
    out("Reset your password in Settings."),
    { contains: ["password", "Settings", "2FA"] },
    {},
  );
  assert.equal(r.passed, false);
  assert.ok(Math.abs(r.score - 2 / 3) < 1e-12);
  assert.match(r.reason, /missing "2FA"/);
  assert.equal(
    contains.score(out("refund issued"), { contains: ["refund", "credit"] }, { require: "any" }).passed,
    true,
  );
  assert.equal(
    contains.score(out("nothing"), { contains: ["refund", "credit"] }, { require: "any" }).passed,
    false,
  );
  assert.equal(contains.score(out("REFUND"), { contains: "refund" }, { caseInsensitive: true }).passed, true);
  assert.match(contains.checkExpect({ contains: [] }, {}) ?? "", /non-empty list/);
});

test("regex: expect.regex wins over the config pattern; flags apply; a bad pattern is a reason", () => {
  assert.equal(regex.score(out("Order #12345"), { regex: "#\\d{5}$" }, { pattern: "nope" }).passed, true);
  assert.equal(regex.score(out("ORDER"), {}, { pattern: "^order$", flags: "i" }).passed, true);
  assert.equal(regex.score(out("ORDER"), {}, { pattern: "^order$" }).passed, false);
  assert.match(regex.checkExpect({ regex: "(" }, {}) ?? "", /invalid regular expression/);
  assert.match(regex.score(out("x"), {}, {}).reason, /needs expect\.regex or a pattern/);
});

test("regex with a g flag gives the same answer on every call (no lastIndex carry-over)", () => {
  const cfg = { pattern: "ok", flags: "g" };
  assert.deepEqual(
    [1, 2, 3].map(() => regex.score(out("ok"), {}, cfg).passed),
    [true, true, true],
  );
});

test("label: normalised output equals the expected label; outside the labels list is 'not a label'", () => {
  assert.equal(normaliseLabel(' "Billing." '), "billing");
  const labels = ["billing", "technical", "account"];
  assert.equal(label.score(out("Billing."), { label: "billing" }, { labels }).passed, true);
  const wrong = label.score(out("technical"), { label: "billing" }, { labels });
  assert.match(wrong.reason, /expected label "billing", got "technical"/);
  const other = label.score(out("I think it is billing"), { label: "billing" }, { labels });
  assert.equal(other.passed, false);
  assert.match(other.reason, /not a label/);
  assert.match(label.checkExpect({ label: "shipping" }, { labels }) ?? "", /not one of the scorer's labels/);
  assert.equal(label.score(out("Billing"), { label: "billing" }, { caseInsensitive: false }).passed, false);
});
