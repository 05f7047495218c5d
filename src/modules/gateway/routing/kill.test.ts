import assert from "node:assert/strict";
import { test } from "node:test";
import {
  modelRoute as route,
  SWITCH as SW,
  snapshotOf as snap,
  routableVersion as version,
} from "../../../test-support/routing-snapshot.ts";
import { isRefusal, type Resolution, resolve, throughTier } from "./resolve.ts";
import { compileSplit } from "./split.ts";

const ok = (r: ReturnType<typeof resolve>): Resolution => {
  assert.ok(!isRefusal(r), JSON.stringify(r));
  return r;
};

test("a killed version is skipped like a tripped breaker: the fallback chain serves, and the reason names the switch", () => {
  const [v1, v11, v12] = [version("chat", "1.0.0"), version("chat", "1.1.0"), version("chat", "1.2.0", SW)];
  const s = snap(route("chat", [v12, v1, v11], { fallback: [v12, v11, v1] }));
  const r = ok(resolve(s, "chat", "u", "req"));
  assert.deepEqual(
    r.chain.map((v) => v.version),
    ["1.1.0", "1.0.0"],
  );
  assert.equal(r.reason, "alias:production; kill-switch ksw_1 -> 1.1.0");
  assert.equal(r.killed, SW);
  // Pinned: the same chain (a pinned version has the model's fallback, too).
  assert.equal(ok(resolve(s, "chat@1.2.0", "u", "req")).chain[0]!.version, "1.1.0");
});

test("a killed version in a primary's fallback chain is dropped from it", () => {
  const s = snap(
    route("chat", [version("chat", "1.0.0"), version("chat", "1.2.0", SW), version("chat", "1.1.0")], {
      fallback: [version("chat", "1.2.0", SW), version("chat", "1.1.0")],
    }),
  );
  const r = ok(resolve(s, "chat", "u", "req"));
  assert.deepEqual(
    r.chain.map((v) => v.version),
    ["1.0.0", "1.1.0"],
  );
  assert.equal(r.reason, "alias:production");
  assert.equal(r.killed, undefined);
});

test("a split's killed arm sends its share to the baseline (production) and leaves the split's scope; the other arm keeps its own", () => {
  const base = version("chat", "1.0.0");
  const canary = version("chat", "1.2.0", SW);
  const s = snap(
    route("chat", [base, canary], {
      split: compileSplit([
        { target: base, weight: 50 },
        { target: canary, weight: 50 },
      ]),
      splitScope: "exp_1",
    }),
  );
  const seen = { killed: 0, base: 0 };
  for (let i = 0; i < 200; i++) {
    const r = ok(resolve(s, "chat", `user-${i}`, "req"));
    assert.equal(r.chain[0]!.version, "1.0.0");
    if (r.killed) {
      seen.killed++;
      assert.match(r.reason, /^split:50\/50 bucket=\d+; kill-switch ksw_1 -> 1\.0\.0$/);
      assert.equal(r.splitScope, undefined);
    } else {
      seen.base++;
      assert.equal(r.splitScope, "exp_1");
    }
  }
  assert.ok(seen.killed > 50 && seen.base > 50, JSON.stringify(seen));
});

test("nothing left to serve: 503 naming the switch, its reason and who engaged it", () => {
  const s = snap(route("chat", [version("chat", "1.2.0", SW)], { fallback: [] }));
  const r = resolve(s, "chat", "u", "req");
  assert.ok(isRefusal(r));
  assert.equal(r.status, 503);
  assert.equal(r.code, "unavailable");
  assert.equal(r.killSwitch, SW);
  assert.match(r.detail, /ksw_1 \(version chat@1\.2\.0, engaged by alice: leaks the system prompt\)/);
});

test("a router tier naming a killed version: its model's fallback serves, else the 503 with the switch", () => {
  const router = version("desk", "1.0.0");
  const outer = ok(resolve(snap(route("desk", [router])), "desk", "u", "req"));
  const choice = { tier: { name: "strong", target: "chat@1.2.0" }, reason: "rule" } as never;
  const withFallback = snap(
    route("chat", [version("chat", "1.0.0"), version("chat", "1.2.0", SW)], {
      fallback: [version("chat", "1.0.0")],
    }),
  );
  const served = throughTier(withFallback, outer, choice, "u", "req");
  assert.ok(!isRefusal(served));
  assert.equal(served.chain[0]!.version, "1.0.0");
  assert.equal(served.killed, SW);
  const none = throughTier(snap(route("chat", [version("chat", "1.2.0", SW)])), outer, choice, "u", "req");
  assert.ok(isRefusal(none));
  assert.equal(none.status, 503);
  assert.equal(none.killSwitch, SW);
  assert.match(
    none.detail,
    /^router desk@1\.0\.0 chose tier 'strong' \(chat@1\.2\.0\): chat@1\.2\.0 is switched off/,
  );
});
