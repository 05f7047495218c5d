import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { planPatch } from "./kube.ts";
import { TrafficTargetSchema } from "./traffic.schemas.ts";
import { desiredWeights } from "./traffic.service.ts";
import { integerWeights, servedShares } from "./weights.ts";

const w = (shares: [string, number][], keys: string[], total = 100) =>
  Object.fromEntries(
    integerWeights(
      shares.map(([version, pct]) => ({ version, pct })),
      keys,
      total,
    ),
  );

describe("integer weights (largest remainder)", () => {
  test("exact shares stay exact; 0 and 100 are never rounded", () => {
    assert.deepEqual(
      w(
        [
          ["a", 90],
          ["b", 10],
        ],
        ["a", "b"],
      ),
      { a: 90, b: 10 },
    );
    assert.deepEqual(w([["a", 100]], ["a", "b"]), { a: 100, b: 0 });
    assert.deepEqual(w([["b", 100]], ["a", "b"]), { a: 0, b: 100 });
    assert.deepEqual(
      w(
        [
          ["a", 95],
          ["b", 5],
        ],
        ["a", "b"],
        1000,
      ),
      { a: 950, b: 50 },
    );
  });

  test("fractions: floors first, the units left to the largest remainders, ties in the order given", () => {
    // 94.5 / 5.5: both remainders .5, one unit left: the first listed gets it.
    assert.deepEqual(
      w(
        [
          ["a", 94.5],
          ["b", 5.5],
        ],
        ["a", "b"],
      ),
      { a: 95, b: 5 },
    );
    assert.deepEqual(
      w(
        [
          ["a", 94.5],
          ["b", 5.5],
        ],
        ["b", "a"],
      ),
      { a: 94, b: 6 },
    );
    // Thirds: 33.33 each, one unit left, to the first key.
    assert.deepEqual(
      w(
        [
          ["a", 100 / 3],
          ["b", 100 / 3],
          ["c", 100 / 3],
        ],
        ["a", "b", "c"],
      ),
      { a: 34, b: 33, c: 33 },
    );
    // 66.7 / 33.3: remainders .7 and .3 after 66 + 33 = 99.
    assert.deepEqual(
      w(
        [
          ["a", 66.7],
          ["b", 33.3],
        ],
        ["a", "b"],
      ),
      { a: 67, b: 33 },
    );
  });

  test("a live canary never rounds to 0: it takes one unit from the largest", () => {
    assert.deepEqual(
      w(
        [
          ["a", 99.6],
          ["b", 0.4],
        ],
        ["a", "b"],
      ),
      { a: 99, b: 1 },
    );
    assert.deepEqual(
      w(
        [
          ["a", 99.99],
          ["b", 0.01],
        ],
        ["a", "b"],
        1000,
      ),
      { a: 999, b: 1 },
    );
  });

  test("every split sums to the total, and every backend is written (seeded sweep)", () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 500; i++) {
      const n = 2 + Math.floor(rnd() * 3);
      const keys = Array.from({ length: n }, (_, k) => `k${k}`);
      const raw = keys.map(() => (rnd() < 0.2 ? 0 : rnd() * 100));
      if (raw.every((x) => x <= 0)) raw[0] = 1;
      const total = [100, 1000, 7][i % 3]!;
      const out = integerWeights(
        keys.map((k, j) => ({ version: k, pct: raw[j]! })),
        keys,
        total,
      );
      assert.equal(
        [...out.values()].reduce((s, x) => s + x, 0),
        total,
        `case ${i}`,
      );
      assert.deepEqual([...out.keys()], keys);
      for (const [j, k] of keys.entries())
        if (raw[j] === 0) assert.equal(out.get(k), 0, `case ${i}: zero stays zero`);
    }
  });
});

describe("served shares", () => {
  test("the split in proportion, else all to production", () => {
    assert.deepEqual(servedShares(null, "1.0.0"), [{ version: "1.0.0", pct: 100 }]);
    assert.deepEqual(
      servedShares(
        [
          { version: "1.0.0", weight: 45 },
          { version: "1.1.0", weight: 5 },
        ],
        "1.0.0",
      ),
      [
        { version: "1.0.0", pct: 90 },
        { version: "1.1.0", pct: 10 },
      ],
    );
    assert.deepEqual(servedShares(null, null), []);
  });

  test("a version serving traffic without a backend is an error, never a silent 0", () => {
    const target = TrafficTargetSchema.parse({
      kind: "HTTPRoute",
      namespace: "models",
      name: "chat",
      backends: { "1.0.0": "chat-v1-0", "1.1.0": "chat-v1-1" },
    });
    assert.deepEqual(desiredWeights({ target, split: null, production: "1.1.0" }), {
      weights: { "chat-v1-0": 0, "chat-v1-1": 100 },
    });
    const out = desiredWeights({
      target,
      split: [
        { version: "1.0.0", weight: 90 },
        { version: "1.2.0", weight: 10 },
      ],
      production: "1.0.0",
    });
    assert.ok("error" in out);
    assert.match(out.error, /1\.2\.0 \(10%\) serves traffic but has no backend/);
  });
});

describe("the JSON Patch", () => {
  const target = TrafficTargetSchema.parse({
    kind: "HTTPRoute",
    namespace: "models",
    name: "chat",
    ruleIndex: 1,
    backends: { "1.0.0": "chat-v1-0", "1.1.0": "chat-v1-1" },
  });
  const route = {
    metadata: { resourceVersion: "77" },
    spec: {
      rules: [
        { backendRefs: [{ name: "other", weight: 1 }] },
        {
          backendRefs: [
            { name: "chat-v1-1" },
            { name: "chat-v1-0", weight: 100 },
            { name: "unmanaged", weight: 3 },
          ],
        },
      ],
    },
  };

  test("a resourceVersion test first, then only the weights that differ (add where none is set)", () => {
    const ops = planPatch(
      target,
      route,
      new Map([
        ["chat-v1-0", 90],
        ["chat-v1-1", 10],
      ]),
    );
    assert.deepEqual(ops, [
      { op: "test", path: "/metadata/resourceVersion", value: "77" },
      { op: "replace", path: "/spec/rules/1/backendRefs/1/weight", value: 90 },
      { op: "add", path: "/spec/rules/1/backendRefs/0/weight", value: 10 },
    ]);
    // Backends the target does not name keep their weight; the same weights again write nothing.
    assert.equal(planPatch(target, route, new Map([["chat-v1-0", 100]])), null);
  });

  test("a backend missing from the rule, or a rule missing, is a permanent error naming it", () => {
    assert.throws(
      () => planPatch(target, route, new Map([["chat-v2", 10]])),
      (e: Error & { retryable?: boolean }) =>
        /no backend named 'chat-v2'.*has: chat-v1-1, chat-v1-0, unmanaged/.test(e.message) &&
        e.retryable === false,
    );
    assert.throws(
      () => planPatch({ ...target, ruleIndex: 5 }, route, new Map([["chat-v1-0", 10]])),
      /has no rules\.5\.backendRefs/,
    );
  });

  test("VirtualService: weights on spec.http[i].route[j], a destination named by subset, else host", () => {
    const vs = {
      ...target,
      kind: "VirtualService" as const,
      ruleIndex: 0,
      backends: { "1.0.0": "v1", "1.1.0": "canary.models.svc" },
    };
    const ops = planPatch(
      vs,
      {
        metadata: { resourceVersion: "5" },
        spec: {
          http: [
            {
              route: [
                { destination: { host: "chat", subset: "v1" }, weight: 100 },
                { destination: { host: "canary.models.svc" } },
              ],
            },
          ],
        },
      },
      new Map([
        ["v1", 75],
        ["canary.models.svc", 25],
      ]),
    );
    assert.deepEqual(ops, [
      { op: "test", path: "/metadata/resourceVersion", value: "5" },
      { op: "replace", path: "/spec/http/0/route/0/weight", value: 75 },
      { op: "add", path: "/spec/http/0/route/1/weight", value: 25 },
    ]);
  });
});

describe("deploy/k8s-traffic examples", () => {
  test("the example target is valid and names the example route's backends; the Role grants get and patch on httproutes", () => {
    const target = TrafficTargetSchema.parse(
      parseYaml(readFileSync("deploy/k8s-traffic/traffic-target.modelgov.yaml", "utf8")),
    );
    const route = parseYaml(readFileSync("deploy/k8s-traffic/httproute.yaml", "utf8"));
    assert.equal(route.metadata.name, target.name);
    assert.equal(route.metadata.namespace, target.namespace);
    assert.deepEqual(
      planPatch(
        target,
        { ...route, metadata: { ...route.metadata, resourceVersion: "1" } },
        new Map([
          ["chat-v1-0", 100],
          ["chat-v1-1", 0],
        ]),
      ),
      null,
    );
    const [role, binding] = parseAllDocuments(readFileSync("deploy/k8s-traffic/rbac.yaml", "utf8")).map((d) =>
      d.toJS(),
    );
    const rule = role.rules.find((r: { resources: string[] }) => r.resources.includes("httproutes"));
    assert.deepEqual(rule.apiGroups, ["gateway.networking.k8s.io"]);
    assert.deepEqual(rule.verbs, ["get", "patch"]);
    assert.equal(binding.roleRef.name, role.metadata.name);
    assert.equal(binding.metadata.namespace, target.namespace);
  });
});
