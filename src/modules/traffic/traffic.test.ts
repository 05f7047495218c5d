import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { Plan } from "../../engines/rollout/index.ts";
import { systemContext } from "../../http/context.ts";
import { createLogger } from "../../lib/logger.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { type FakeKube, startFakeKube } from "../../test-support/fake-kube.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { createKubeApplier } from "./kube.ts";
import { createTrafficReconciler, type TrafficReconciler } from "./reconciler.ts";

const SEC = 1000;
const JSON_HEADERS = { "content-type": "application/json" };
const NS = "models";

/** Three canary steps, each passed by hand here (the controller's `advance` is the same move). */
const PLAN: Plan = {
  name: "test",
  steps: [
    { weight: 10, durationMs: 60 * SEC },
    { weight: 50, durationMs: 60 * SEC },
    { weight: 100, durationMs: 60 * SEC },
  ],
  analysisIntervalMs: 10 * SEC,
  minSamplePerArm: 40,
  failureLimit: 2,
  alpha: 0.05,
  metrics: [{ kind: "error_rate", max: 0.05 }],
  fastPath: { windowMs: 10 * SEC, minRequests: 20, maxErrorRate: 0.3 },
};

for (const target of allStoreTargets()) {
  describe(`containerised models' routes on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let kube: FakeKube;
    let reconciler: TrafficReconciler;

    /** One reconciler pass, started now and finished (no sleeping: the pass is awaited). */
    const sync = () => reconciler.kick();
    const weights = (name: string) => kube.weights(NS, name);
    const putTarget = (model: string, body: unknown) =>
      h.request(`/api/v1/models/${model}/traffic-target`, {
        method: "PUT",
        headers: JSON_HEADERS,
        body: JSON.stringify(body),
      });
    const auditOf = async (action: string) =>
      h.db.query<{ reason: string; after: unknown }>(
        "SELECT reason, after FROM audit_events WHERE action = $1 ORDER BY seq",
        [action],
      );
    const clusterOf = async (model: string) => (await h.services.rollouts.status(model))!.cluster!;

    before(async () => {
      h = await openHarness(target);
      kube = await startFakeKube();
      reconciler = createTrafficReconciler({
        db: h.db,
        clock: h.clock,
        logger: createLogger("silent"),
        // Never fires in a test: every pass is a kick() awaited.
        tickMs: 3_600_000,
        applier: () =>
          createKubeApplier({ kubeConfig: kube.kubeConfig(), backoffMs: 1, sleep: async () => {} }),
      });
      for (const name of ["chat", "bg", "down", "gaps"]) await seedModel(h, name);
      kube.putRoute(NS, "chat", [
        { name: "chat-v1-0", weight: 100 },
        { name: "chat-v1-1", weight: 0 },
      ]);
      kube.putRoute(NS, "bg", [
        { name: "bg-blue", weight: 100 },
        { name: "bg-green", weight: 0 },
      ]);
      kube.putRoute(NS, "down", [{ name: "down-v1-0", weight: 100 }, { name: "down-v1-1" }]);
      kube.putRoute(NS, "gaps", [{ name: "gaps-v1-0", weight: 100 }]);
    });
    after(async () => {
      await reconciler?.stop();
      await kube?.close();
      await h?.cleanup();
    });

    test("a canary moves the HTTPRoute step by step; promotion gives the candidate all of it, a rollback gives it back", async () => {
      const res = await putTarget("chat", {
        kind: "HTTPRoute",
        namespace: NS,
        name: "chat",
        backends: { "1.0.0": "chat-v1-0", "1.1.0": "chat-v1-1" },
      });
      assert.equal(res.status, 200);
      assert.equal((await readJson(res)).sync.state, "pending");
      // The route already carries 100/0: read, nothing written.
      await sync();
      assert.equal(kube.patches.length, 0);
      assert.equal((await h.services.traffic.get("chat")).sync.state, "in_sync");

      await h.services.rollouts.start(ctx(), "chat", "1.1.0", { plan: PLAN });
      assert.equal((await clusterOf("chat")).state, "pending");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 90, "chat-v1-1": 10 });
      const first = kube.patches.at(-1)!;
      assert.equal(first.path, `/apis/gateway.networking.k8s.io/v1/namespaces/${NS}/httproutes/chat`);
      assert.equal(first.contentType, "application/json-patch+json");
      assert.deepEqual(first.ops, [
        { op: "test", path: "/metadata/resourceVersion", value: first.ops[0]!.value },
        { op: "replace", path: "/spec/rules/0/backendRefs/0/weight", value: 90 },
        { op: "replace", path: "/spec/rules/0/backendRefs/1/weight", value: 10 },
      ]);
      assert.equal(typeof first.ops[0]!.value, "string");
      const cluster = await clusterOf("chat");
      assert.equal(cluster.state, "in_sync");
      assert.deepEqual(cluster.applied, { "chat-v1-0": 90, "chat-v1-1": 10 });

      await h.services.rollouts.promote(ctx(), "chat");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 50, "chat-v1-1": 50 });
      await h.services.rollouts.promote(ctx(), "chat");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 0, "chat-v1-1": 100 });
      // Past the last step: promoted, the production alias on 1.1.0, the split cleared.
      await h.services.rollouts.promote(ctx(), "chat");
      assert.equal((await h.services.rollouts.status("chat"))!.status, "promoted");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 0, "chat-v1-1": 100 });

      // Back to the previous production version: the route follows.
      await h.services.rollouts.rollback(ctx(), "chat", "bad answers reported");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 100, "chat-v1-1": 0 });
      assert.deepEqual(kube.malformed, []);
      const applied = await auditOf("traffic.applied");
      assert.deepEqual(
        applied.map((a) => a.reason),
        [
          `HTTPRoute ${NS}/chat already carried these weights`,
          `HTTPRoute ${NS}/chat set to chat-v1-0=90, chat-v1-1=10`,
          `HTTPRoute ${NS}/chat set to chat-v1-0=50, chat-v1-1=50`,
          `HTTPRoute ${NS}/chat set to chat-v1-0=0, chat-v1-1=100`,
          `HTTPRoute ${NS}/chat set to chat-v1-0=100, chat-v1-1=0`,
        ],
      );
    });

    test("the controller's automatic rollback of a running canary puts the baseline back at 100", async () => {
      const r = await h.services.rollouts.start(ctx(), "chat", "1.1.0", { plan: PLAN });
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 90, "chat-v1-1": 10 });
      // The fast path: the candidate's breaker opened.
      const fast = await h.services.rollouts.fastCheck(r.id, systemContext("rollout-controller"), "open");
      assert.equal(fast?.rollback, true);
      assert.equal((await h.services.rollouts.status("chat"))!.status, "rolled_back");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 100, "chat-v1-1": 0 });
    });

    test("a concurrent edit fails the resourceVersion test (422): re-read, re-patched, converged", async () => {
      const before = kube.patches.length;
      await h.services.rollouts.start(ctx(), "chat", "1.1.0", { plan: PLAN });
      kube.raceNext(2);
      await sync();
      const seen = kube.patches.slice(before);
      assert.deepEqual(
        seen.map((p) => p.status),
        [422, 422, 200],
      );
      // Each retry tested the resourceVersion it had just read.
      assert.notEqual(seen[0]!.ops[0]!.value, seen[1]!.ops[0]!.value);
      assert.deepEqual(weights("chat"), { "chat-v1-0": 90, "chat-v1-1": 10 });
      const last = (await auditOf("traffic.applied")).at(-1)!.after as { conflicts: number };
      assert.equal(last.conflicts, 2);
      await h.services.rollouts.abort(ctx(), "chat");
      await sync();
      assert.deepEqual(weights("chat"), { "chat-v1-0": 100, "chat-v1-1": 0 });
    });

    test("blue-green: judged on mirrored traffic while the route stays on blue, then switched 0 → 100 at once, and back on rollback", async () => {
      const res = await putTarget("bg", {
        kind: "HTTPRoute",
        namespace: NS,
        name: "bg",
        total: 1000,
        backends: { "1.0.0": "bg-blue", "1.1.0": "bg-green" },
      });
      assert.equal(res.status, 200);
      await h.services.rollouts.start(ctx(), "bg", "1.1.0", { mode: "blue_green" });
      await sync();
      // Mirroring is the gateway's: the cluster serves green nothing yet.
      assert.deepEqual(weights("bg"), { "bg-blue": 1000, "bg-green": 0 });
      const patches = kube.patches.length;
      await h.services.rollouts.promote(ctx(), "bg", { full: true });
      await sync();
      assert.deepEqual(weights("bg"), { "bg-blue": 0, "bg-green": 1000 });
      // One patch: both weights in one write, never a moment with both or neither.
      assert.equal(kube.patches.length, patches + 1);
      assert.equal(kube.patches.at(-1)!.ops.length, 3);
      await h.services.rollouts.rollback(ctx(), "bg", "latency regression");
      await sync();
      assert.deepEqual(weights("bg"), { "bg-blue": 1000, "bg-green": 0 });
    });

    test("the API server down: the rollout goes on, the route shows failing, one audit event, retried with backoff until it converges", async () => {
      assert.equal(
        (
          await putTarget("down", {
            kind: "HTTPRoute",
            namespace: NS,
            name: "down",
            backends: { "1.0.0": "down-v1-0", "1.1.0": "down-v1-1" },
          })
        ).status,
        200,
      );
      kube.failAll = 503;
      const started = await h.services.rollouts.start(ctx(), "down", "1.1.0", { plan: PLAN });
      assert.equal(started.status, "running");
      await sync();
      let cluster = await clusterOf("down");
      assert.equal(cluster.state, "failing");
      assert.match(cluster.lastError!, /503/);
      assert.equal(cluster.failures, 1);
      assert.deepEqual(cluster.desired, { "down-v1-0": 90, "down-v1-1": 10 });
      // The gateway's split moved regardless: the decision is the database's, the cluster follows.
      assert.deepEqual((await h.services.routes.get("down")).split, [
        { version: "1.0.0", weight: 90 },
        { version: "1.1.0", weight: 10 },
      ]);
      // Before the backoff ends nothing is tried; after it, tried again (not audited again).
      const gets = kube.gets;
      await sync();
      assert.equal((await clusterOf("down")).failures, 1);
      h.clock.advance(1001);
      await sync();
      assert.equal((await clusterOf("down")).failures, 2);
      const failed = (await auditOf("traffic.apply_failed")).filter((a) =>
        /down/.test(JSON.stringify(a.after)),
      );
      assert.equal(failed.length, 1);
      assert.equal(kube.gets, gets);
      // Back up. The same weights wait out the backoff (2 s now)...
      kube.failAll = null;
      await sync();
      assert.equal(kube.gets, gets);
      assert.equal((await clusterOf("down")).failures, 2);
      // ...but new ones (the next step, or a rollback) are tried at once, and converge.
      await h.services.rollouts.promote(ctx(), "down");
      await sync();
      cluster = await clusterOf("down");
      assert.equal(cluster.state, "in_sync");
      assert.equal(cluster.failures, 0);
      assert.deepEqual(weights("down"), { "down-v1-0": 50, "down-v1-1": 50 });
      await h.services.rollouts.abort(ctx(), "down");
      await sync();
      assert.deepEqual(weights("down"), { "down-v1-0": 100, "down-v1-1": 0 });
    });

    test("Istio: a VirtualService's destination weights follow the same decisions", async () => {
      kube.putVirtualService(NS, "istio", [
        { destination: { host: "istio", subset: "v1-0" }, weight: 100 },
        { destination: { host: "istio", subset: "v1-1" } },
      ]);
      await seedModel(h, "istio-model");
      const res = await putTarget("istio-model", {
        kind: "VirtualService",
        namespace: NS,
        name: "istio",
        backends: { "1.0.0": "v1-0", "1.1.0": "v1-1" },
      });
      assert.equal(res.status, 200);
      await h.services.rollouts.start(ctx(), "istio-model", "1.1.0", { plan: PLAN });
      await sync();
      const patch = kube.patches.at(-1)!;
      assert.equal(patch.path, `/apis/networking.istio.io/v1beta1/namespaces/${NS}/virtualservices/istio`);
      assert.deepEqual(patch.ops.slice(1), [
        { op: "replace", path: "/spec/http/0/route/0/weight", value: 90 },
        { op: "add", path: "/spec/http/0/route/1/weight", value: 10 },
      ]);
      const route = (
        kube.virtualService(NS, "istio") as { spec: { http: { route: { weight?: number }[] }[] } }
      ).spec.http[0]!.route;
      assert.deepEqual(
        route.map((r) => r.weight),
        [90, 10],
      );
      await h.services.rollouts.abort(ctx(), "istio-model");
      await sync();
      assert.equal((await h.services.traffic.get("istio-model")).sync.state, "in_sync");
      assert.deepEqual(kube.malformed, []);
    });

    test("KServe: an InferenceService's canaryTrafficPercent is the latest revision's share", async () => {
      kube.putInferenceService(NS, "kserve");
      await seedModel(h, "kserve-model");
      const bad = await putTarget("kserve-model", {
        kind: "InferenceService",
        namespace: NS,
        name: "kserve",
        backends: { "1.0.0": "kserve-v1", "1.1.0": "latest" },
      });
      assert.equal(bad.status, 400);
      assert.equal((await readJson(bad)).errors[0].field, "body.backends.1.0.0");
      const res = await putTarget("kserve-model", {
        kind: "InferenceService",
        namespace: NS,
        name: "kserve",
        backends: { "1.0.0": "previous", "1.1.0": "latest" },
      });
      assert.equal(res.status, 200);
      const percent = () =>
        (kube.inferenceService(NS, "kserve") as { spec: { predictor: { canaryTrafficPercent?: number } } })
          .spec.predictor.canaryTrafficPercent;
      // Production (1.0.0) is `previous` here: the latest revision, deployed for the candidate, gets 0.
      await sync();
      assert.equal(percent(), 0);
      assert.deepEqual(kube.patches.at(-1)!.ops.slice(1), [
        { op: "add", path: "/spec/predictor/canaryTrafficPercent", value: 0 },
      ]);
      await h.services.rollouts.start(ctx(), "kserve-model", "1.1.0", { plan: PLAN });
      await sync();
      assert.equal(percent(), 10);
      assert.equal(
        kube.patches.at(-1)!.path,
        `/apis/serving.kserve.io/v1beta1/namespaces/${NS}/inferenceservices/kserve`,
      );
      await h.services.rollouts.promote(ctx(), "kserve-model", { full: true });
      await sync();
      assert.equal(percent(), 100);
      assert.deepEqual(kube.malformed, []);
    });

    test("a hung API server: each request is cut at its deadline and the apply fails, retryable", async () => {
      const applier = createKubeApplier({ kubeConfig: kube.kubeConfig(), requestTimeoutMs: 100 });
      const target = (await h.services.traffic.get("chat")).target;
      kube.hang = true;
      try {
        await assert.rejects(
          applier.apply(target, new Map([["chat-v1-0", 100]])),
          (e: Error & { retryable?: boolean }) =>
            e.message === `reading HTTPRoute ${NS}/chat: no answer within 100 ms` && e.retryable === true,
        );
      } finally {
        kube.hang = false;
      }
    });

    test("a version serving traffic with no backend, or a backend missing from the route, shows as failing with the reason", async () => {
      assert.equal(
        (
          await putTarget("gaps", {
            kind: "HTTPRoute",
            namespace: NS,
            name: "gaps",
            backends: { "1.0.0": "gaps-v1-0", "1.1.0": "gaps-v1-1" },
          })
        ).status,
        200,
      );
      await sync();
      let sync1 = (await h.services.traffic.get("gaps")).sync;
      assert.equal(sync1.state, "failing");
      assert.match(sync1.lastError!, /no backend named 'gaps-v1-1'.*has: gaps-v1-0/);
      await h.services.rollouts.start(ctx(), "gaps", "1.2.0", { plan: PLAN });
      h.clock.advance(120 * SEC);
      await sync();
      sync1 = (await h.services.traffic.get("gaps")).sync;
      assert.match(
        sync1.lastError!,
        /1\.2\.0 \(10%\) serves traffic but has no backend in the traffic target/,
      );
      await h.services.rollouts.abort(ctx(), "gaps");
    });

    test("bad traffic targets are refused with problem+json naming the field", async () => {
      const good = { kind: "HTTPRoute", namespace: NS, name: "chat", backends: { "1.0.0": "chat-v1-0" } };
      const cases: [unknown, string, RegExp][] = [
        [{ ...good, kind: "Deployment" }, "body.kind", /HTTPRoute/],
        [{ ...good, namespace: "Models_Prod" }, "body.namespace", /DNS-1123/],
        [{ ...good, ruleIndex: -1 }, "body.ruleIndex", /./],
        [{ ...good, total: 0 }, "body.total", /./],
        [{ ...good, backends: { "1.0.0": "a", "9.9.9": "b" } }, "body.backends.9.9.9", /not registered/],
        [
          { ...good, backends: { "1.0.0": "same", "1.1.0": "same" } },
          "body.backends.1.1.0",
          /already named for 1\.0\.0/,
        ],
        [{ ...good, extra: 1 }, "body", /extra/],
      ];
      for (const [body, field, reason] of cases) {
        const res = await putTarget("chat", body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.headers.get("content-type") ?? "", /application\/problem\+json/);
        const problem = await readJson(res);
        const hit = problem.errors.find((e: { field: string }) => e.field === field);
        assert.ok(hit, `${field} in ${JSON.stringify(problem.errors)}`);
        assert.match(hit.reason, reason);
      }
      // Nothing was written: the target is the one set above.
      assert.deepEqual((await h.services.traffic.get("chat")).target.backends, {
        "1.0.0": "chat-v1-0",
        "1.1.0": "chat-v1-1",
      });
      const taken = await putTarget("bg", { ...good, backends: { "1.0.0": "bg-blue" } });
      assert.equal(taken.status, 400);
      assert.deepEqual((await readJson(taken)).errors, [
        { field: "body.name", reason: "HTTPRoute models/chat rule 0 is already steered by 'chat'" },
      ]);
      const missing = await putTarget("nope", good);
      assert.equal(missing.status, 404);
    });

    test("CLI: traffic set/get/rm, and the rollout status shows the cluster route's state", async () => {
      const run = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
      const dir = mkdtempSync(path.join(tmpdir(), "modelgov-traffic-"));
      try {
        const file = path.join(dir, "target.yaml");
        writeFileSync(
          file,
          `kind: HTTPRoute\nnamespace: ${NS}\nname: down\nbackends:\n  "1.0.0": down-v1-0\n  "1.1.0": down-v1-1\n`,
        );
        const set = await run("traffic", "set", "down", "-f", file);
        assert.equal(set.code, 0, set.err);
        assert.match(set.out, /down: HTTPRoute models\/down, rule 0, weights summing to 100/);
        assert.match(set.out, /1\.1\.0 → down-v1-1/);
        await h.services.rollouts.start(ctx(), "down", "1.1.0", { plan: PLAN });
        await sync();
        const got = await run("traffic", "get", "down");
        assert.match(got.out, /sync in_sync \(down-v1-0=90, down-v1-1=10\)/);
        const status = await run("rollout", "status", "down");
        assert.match(status.out, /cluster route in_sync \(down-v1-0=90, down-v1-1=10\)/);
        kube.failAll = 403;
        await h.services.rollouts.promote(ctx(), "down");
        await sync();
        const failing = await run("rollout", "status", "down");
        assert.match(
          failing.out,
          /cluster route failing \(1 attempt\(s\)\): .*403.*needs get and patch on httproutes/,
        );
        kube.failAll = null;
        await h.services.rollouts.abort(ctx(), "down");
        h.clock.advance(2 * SEC);
        await sync();
        assert.deepEqual(weights("down"), { "down-v1-0": 100, "down-v1-1": 0 });
        assert.equal((await run("traffic", "rm", "down")).code, 0);
        const gone = await run("traffic", "get", "down");
        assert.equal(gone.code, 1);
        assert.match(gone.err, /not found/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("modelgov.yaml: trafficTargets set a model's route, audited once, refused naming the field", async () => {
      const apply = (trafficTargets: unknown, dryRun = false) =>
        h.request("/api/v1/apply", {
          method: "POST",
          headers: JSON_HEADERS,
          body: JSON.stringify({ spec: { apiVersion: "modelgov/v1", trafficTargets }, dryRun }),
        });
      const target = {
        kind: "HTTPRoute",
        namespace: NS,
        name: "gaps",
        ruleIndex: 0,
        total: 100,
        backends: { "1.0.0": "gaps-v1-0" },
      };
      const first = await readJson(await apply({ gaps: target }));
      assert.deepEqual(
        first.changes.map((c: { action: string; target: string }) => [c.action, c.target]),
        [["update_traffic_target", "gaps"]],
      );
      // The same spec again changes nothing.
      assert.deepEqual((await readJson(await apply({ gaps: target }))).changes, []);
      assert.deepEqual((await h.services.traffic.get("gaps")).target, target);
      await sync();
      assert.equal((await h.services.traffic.get("gaps")).sync.state, "in_sync");
      const bad = await apply({ gaps: { ...target, backends: { "4.0.0": "x" } } });
      assert.equal(bad.status, 400);
      assert.deepEqual(
        (await readJson(bad)).errors.map((e: { field: string }) => e.field),
        ["trafficTargets.gaps.backends.4.0.0"],
      );
      const shape = await apply({ gaps: { ...target, kind: "Ingress" } });
      assert.equal(shape.status, 400);
      assert.ok(
        (await readJson(shape)).errors.some((e: { field: string }) =>
          /trafficTargets\.gaps\.kind/.test(e.field),
        ),
      );
    });
  });
}
