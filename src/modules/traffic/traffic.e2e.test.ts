import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createClient } from "../../client/index.ts";
import { loadConfig } from "../../config.ts";
import { startServer } from "../../main.ts";
import { type FakeKube, startFakeKube } from "../../test-support/fake-kube.ts";
import { seedModel } from "../../test-support/rollouts.ts";
import { migratedDataDir } from "../../test-support/store-templates.ts";

/**
 * The server as deployed: MODELGOV_KUBECONFIG names a kubeconfig file for the loopback API
 * server, and a rollout started over HTTP reaches the route through the running reconciler
 * (kicked by the committed change, not by the test). The test waits on the fake's patches.
 */
describe("a server steering an HTTPRoute from a kubeconfig file", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-traffic-e2e-"));
  const ADMIN = `admin-${randomBytes(12).toString("hex")}`;
  let kube: FakeKube;
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    kube = await startFakeKube();
    kube.putRoute("models", "chat", [
      { name: "chat-v1-0", weight: 100 },
      { name: "chat-v1-1", weight: 0 },
    ]);
    const kubeconfig = path.join(dir, "kubeconfig");
    writeFileSync(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        // Plain HTTP on loopback: client-node allows it only with TLS verification off.
        `  - name: fake\n    cluster:\n      server: ${kube.url}\n      insecure-skip-tls-verify: true`,
        "users:",
        "  - name: modelgov\n    user:\n      token: test-token",
        "contexts:",
        "  - name: fake\n    context:\n      cluster: fake\n      user: modelgov",
        "current-context: fake",
        "",
      ].join("\n"),
    );
    await migratedDataDir(dir);
    server = await startServer(
      loadConfig(
        { port: 0, dataDir: dir, demo: false },
        { MODELGOV_ADMIN_TOKEN: ADMIN, MODELGOV_LOG_LEVEL: "silent", MODELGOV_KUBECONFIG: kubeconfig },
      ),
    );
    await seedModel(server, "chat");
  });
  after(async () => {
    await server?.close();
    await kube?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("rollout start, then rollback, over HTTP: the route follows each within the reconciler's look", async () => {
    const admin = createClient({ baseUrl: server.url, token: ADMIN });
    const set = await admin.traffic.set("chat", {
      kind: "HTTPRoute",
      namespace: "models",
      name: "chat",
      backends: { "1.0.0": "chat-v1-0", "1.1.0": "chat-v1-1" },
    });
    // The reconciler may already have looked (the commit kicks it): nothing to write, either way.
    assert.notEqual(set.sync.state, "failing", JSON.stringify(set.sync));
    let patched = kube.nextPatch();
    await admin.rollouts.start("chat", "1.1.0", "default");
    const first = await patched;
    assert.equal(first.status, 200);
    assert.deepEqual(kube.weights("models", "chat"), { "chat-v1-0": 95, "chat-v1-1": 5 });
    patched = kube.nextPatch();
    await admin.rollouts.rollback("chat", "e2e");
    await patched;
    assert.deepEqual(kube.weights("models", "chat"), { "chat-v1-0": 100, "chat-v1-1": 0 });
    assert.deepEqual(kube.malformed, []);
  });
});
