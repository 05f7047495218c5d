// deploy/ checked offline: every manifest valid for its kind (kubernetes-models, and
// @kubernetes-models/argo-rollouts for the Argo kinds), each overlay rendered as kustomize would
// (test-support/kustomize.ts) and held to what running modelgov needs, probes checked against
// the server's real endpoints, and the example secrets. No cluster is needed. The Argo templates
// are in deploy-argo.test.ts, the Dockerfile in dockerfile.test.ts.

import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { ENVIRONMENT } from "./lib/environment.ts";
import {
  applyJsonPatch,
  containersOf,
  type K8sObject,
  type Loose,
  podSpecOf,
  readYamlDocuments,
  renderKustomization,
} from "./test-support/kustomize.ts";
import {
  deploy,
  env,
  exampleSecrets,
  one,
  overlays,
  root,
  secretRefs,
  subset,
  unknownFields,
  validate,
  yamlFiles,
} from "./test-support/manifests.ts";
import { type Harness, openHarness, storeTargets } from "./test-support/stores.ts";

describe("deploy/: every manifest is valid for its kind", () => {
  test("each YAML file parses and each object validates with kubernetes-models (Argo kinds with @kubernetes-models/argo-rollouts)", () => {
    const files = yamlFiles(deploy);
    let objects = 0;
    for (const file of files) {
      const where = path.relative(root, file);
      for (const doc of readYamlDocuments(file) as K8sObject[]) {
        if (doc.kind === "Kustomization") continue; // rendered below, each overlay whole
        validate(doc, where);
        objects++;
      }
    }
    assert.ok(files.length >= 12, `${files.length} files`);
    assert.ok(objects >= 16, `${objects} objects`);
  });

  test("no field a kind does not have (the schemas let a typo such as readOnlyRootFileSystem through)", async () => {
    const objects = yamlFiles(deploy).flatMap((file) =>
      (readYamlDocuments(file) as K8sObject[])
        .filter((o) => o.kind !== "Kustomization")
        .map((object) => ({ where: path.relative(root, file), object })),
    );
    for (const overlay of overlays)
      for (const object of renderKustomization(path.join(deploy, "overlays", overlay)))
        objects.push({ where: `overlays/${overlay}`, object });
    assert.deepEqual(await unknownFields(objects), []);
    const typo = structuredClone(one(renderKustomization(path.join(deploy, "base")), "Deployment"));
    const server = containersOf(typo)[0]!;
    server.securityContext = { ...server.securityContext, readOnlyRootFileSystem: true };
    const found = await unknownFields([{ where: "mutated", object: typo }]);
    assert.equal(found.length, 1, found.join("\n"));
    assert.match(found[0]!, /^mutated: Deployment\/modelgov: .*'"readOnlyRootFileSystem"' does not exist/);
  });

  test("the check can fail: a wrong type, a missing required field", () => {
    const d = structuredClone(one(renderKustomization(path.join(deploy, "base")), "Deployment"));
    (d.spec as Loose).replicas = "two";
    assert.throws(() => validate(d, "mutated"), /replicas must be integer/);
    const a = structuredClone(
      one(
        readYamlDocuments(path.join(deploy, "argo", "analysis-templates.yaml")) as K8sObject[],
        "AnalysisTemplate",
        "modelgov-verdict",
      ),
    );
    delete (a.spec as Loose).metrics[0].provider.web.url;
    assert.throws(() => validate(a, "mutated"), /must have required property 'url'/);
  });
});

describe("deploy/: the test kit renders kustomizations as kustomize does, or refuses", () => {
  test("JSON6902: add, replace, remove, and a failed test stops the patch", () => {
    const doc = { spec: { list: [{ name: "a" }, { name: "b" }], n: 1 } };
    applyJsonPatch(doc, [
      { op: "test", path: "/spec/list/1/name", value: "b" },
      { op: "replace", path: "/spec/n", value: 2 },
      { op: "add", path: "/spec/list/-", value: { name: "c" } },
      { op: "remove", path: "/spec/list/0" },
    ]);
    assert.deepEqual(doc, { spec: { list: [{ name: "b" }, { name: "c" }], n: 2 } });
    assert.throws(() => applyJsonPatch(doc, [{ op: "test", path: "/spec/n", value: 3 }]), /found 2, not 3/);
    assert.throws(
      () => applyJsonPatch(doc, [{ op: "replace", path: "/spec/missing", value: 1 }]),
      /nothing there/,
    );
  });

  test("a kustomization field it does not render is refused, and so is a patch that matches nothing", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "modelgov-kustomize-"));
    try {
      const k = (extra: string) =>
        writeFileSync(
          path.join(dir, "kustomization.yaml"),
          `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n${extra}`,
        );
      k("commonLabels:\n  team: a\n");
      assert.throws(() => renderKustomization(dir), /not rendered by this test kit: commonLabels/);
      k("patches:\n  - target: {kind: Deployment, name: modelgov}\n    patch: '[]'\n");
      assert.throws(() => renderKustomization(dir), /no Deployment\/modelgov to patch/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const overlay of overlays) {
  describe(`deploy/overlays/${overlay} rendered`, () => {
    const objects = renderKustomization(path.join(deploy, "overlays", overlay));
    const deployment = one<K8sObject & { spec: Loose }>(objects, "Deployment");
    const pod = podSpecOf(deployment)!;
    const server = pod.containers.find((c: { name: string }) => c.name === "modelgov");

    test("every object validates, in the overlay's namespace, with the overlay's image", () => {
      for (const o of objects) validate(o, `overlays/${overlay}`);
      const namespaces = new Set(objects.map((o) => o.metadata.namespace));
      assert.equal(namespaces.size, 1);
      assert.ok([...namespaces][0], "a namespace is set");
      for (const o of objects)
        for (const c of containersOf(o))
          assert.match(c.image, /^[a-z0-9.-]+\/[a-z0-9/._-]+:[\w.-]+$/, `${o.kind} ${c.name}`);
      assert.deepEqual(objects.map((o) => o.kind).sort(), [
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "PodDisruptionBudget",
        "Service",
        "ServiceAccount",
      ]);
    });

    test("two replicas or more, scaled by an HPA (autoscaling/v2) that targets this Deployment", () => {
      assert.ok(deployment.spec.replicas >= 2, `replicas ${deployment.spec.replicas}`);
      const hpa = one<K8sObject & { spec: Loose }>(objects, "HorizontalPodAutoscaler");
      assert.equal(hpa.apiVersion, "autoscaling/v2");
      assert.deepEqual(hpa.spec.scaleTargetRef, {
        apiVersion: deployment.apiVersion,
        kind: "Deployment",
        name: deployment.metadata.name,
      });
      assert.ok(hpa.spec.minReplicas >= deployment.spec.replicas, "the HPA never goes below the Deployment");
      assert.ok(hpa.spec.maxReplicas > hpa.spec.minReplicas);
      assert.ok(hpa.spec.metrics.length > 0);
      assert.ok(server.resources?.requests?.cpu, "CPU utilisation needs a CPU request");
    });

    test("the PDB and the Service select exactly the Deployment's pods; the PDB leaves room to drain", () => {
      const labels = deployment.spec.template.metadata.labels;
      assert.deepEqual(deployment.spec.selector.matchLabels, labels);
      const pdb = one<K8sObject & { spec: Loose }>(objects, "PodDisruptionBudget");
      assert.ok(subset(pdb.spec.selector.matchLabels, labels), "PDB selector ⊆ pod labels");
      assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
      const minReplicas = one<K8sObject & { spec: Loose }>(objects, "HorizontalPodAutoscaler").spec
        .minReplicas;
      assert.ok(
        pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < Math.min(deployment.spec.replicas, minReplicas),
      );
      const service = one<K8sObject & { spec: Loose }>(objects, "Service");
      assert.ok(subset(service.spec.selector, labels), "Service selector ⊆ pod labels");
      const ports = new Set(server.ports.map((p: { name: string }) => p.name));
      for (const p of service.spec.ports) assert.ok(ports.has(p.targetPort), `targetPort ${p.targetPort}`);
    });

    test("no service account token; non-root, read-only root, no capabilities, RuntimeDefault seccomp, in every pod", () => {
      const sa = one<K8sObject & { automountServiceAccountToken?: boolean }>(objects, "ServiceAccount");
      assert.equal(sa.automountServiceAccountToken, false);
      for (const o of objects.filter((x) => podSpecOf(x))) {
        const spec = podSpecOf(o)!;
        assert.equal(spec.serviceAccountName, sa.metadata.name, o.kind);
        assert.equal(spec.automountServiceAccountToken, false, o.kind);
        assert.equal(spec.securityContext?.runAsNonRoot, true, o.kind);
        assert.ok(spec.securityContext?.runAsUser > 0, o.kind);
        assert.equal(spec.securityContext?.seccompProfile?.type, "RuntimeDefault", o.kind);
        for (const c of containersOf(o)) {
          const sc = c.securityContext ?? {};
          const where = `${o.kind} ${c.name}`;
          assert.equal(sc.allowPrivilegeEscalation, false, where);
          assert.equal(sc.readOnlyRootFilesystem, true, where);
          assert.equal(sc.runAsNonRoot ?? spec.securityContext.runAsNonRoot, true, where);
          assert.deepEqual(sc.capabilities?.drop, ["ALL"], where);
          assert.equal(sc.privileged ?? false, false, where);
        }
      }
    });

    test("production mode on PostgreSQL; every path the server writes is an emptyDir; the signing key is a mounted secret", () => {
      assert.equal(env(server, "MODELGOV_MODE"), "production");
      assert.ok(server.env.some((e: Loose) => e.name === "DATABASE_URL" && e.valueFrom?.secretKeyRef));
      assert.equal(env(server, "MODELGOV_HOST"), "0.0.0.0");
      const port = Number(env(server, "MODELGOV_PORT"));
      assert.ok(server.ports.some((p: { containerPort: number }) => p.containerPort === port));
      const volumes = new Map(pod.volumes.map((v: { name: string }) => [v.name, v]));
      const mountAt = (dir: string) =>
        server.volumeMounts.find(
          (m: { mountPath: string }) => dir === m.mountPath || dir.startsWith(`${m.mountPath}/`),
        );
      for (const dir of [env(server, "MODELGOV_DATA_DIR"), env(server, "MODELGOV_SPOOL_DIR"), "/tmp"]) {
        assert.ok(dir?.startsWith("/"), `${dir}`);
        const m = mountAt(dir!);
        assert.ok(m, `${dir} is mounted`);
        assert.ok((volumes.get(m.name) as Loose)?.emptyDir, `${dir} is an emptyDir`);
        assert.notEqual(m.readOnly, true);
      }
      const keyFile = env(server, "MODELGOV_AUDIT_SIGNING_KEY_FILE")!;
      const keyMount = mountAt(keyFile);
      assert.ok(keyMount?.readOnly, "the key's mount is read-only");
      const secret = (volumes.get(keyMount.name) as Loose)?.secret;
      assert.ok(secret, "the key comes from a secret");
      const inside = path.posix.relative(keyMount.mountPath, keyFile);
      assert.ok(
        secret.items.some((i: { path: string }) => i.path === inside),
        `${inside} is one of the secret's items`,
      );
      // Every variable set on the server is one modelgov reads (a typo would be ignored silently).
      const described = new Set<string>(ENVIRONMENT.map((v) => v.name));
      for (const e of server.env)
        assert.ok(described.has(e.name), `${e.name} is described in lib/environment.ts`);
    });

    test("every secret a workload names is in examples/secrets.example.yaml, with the key", () => {
      const refs = objects.flatMap(secretRefs);
      assert.ok(refs.length >= 5, `${refs.length} references`);
      for (const [name, key, where] of refs) {
        const s = exampleSecrets.find((x) => x.metadata.name === name);
        assert.ok(s, `${where} names secret ${name}, which the example does not show`);
        if (key) assert.ok(key in s.stringData, `${where}: ${name} has no key ${key} in the example`);
      }
    });
  });
}

describe("deploy/: probes on the server's real endpoints", () => {
  let h: Harness;
  before(async () => {
    h = await openHarness(storeTargets()[0]!);
  });
  after(() => h.cleanup());

  test("liveness on /healthz (no database), readiness on /readyz (pings the database), both answering 200", async () => {
    const deployment = one(renderKustomization(path.join(deploy, "base")), "Deployment");
    const server = containersOf(deployment).find((c) => c.name === "modelgov")!;
    const named = new Set(server.ports.map((p: { name: string }) => p.name));
    assert.equal(server.livenessProbe.httpGet.path, "/healthz");
    assert.equal(server.readinessProbe.httpGet.path, "/readyz");
    for (const probe of [server.startupProbe, server.livenessProbe, server.readinessProbe]) {
      assert.ok(named.has(probe.httpGet.port), `probe port ${probe.httpGet.port}`);
      const res = await h.app.request(probe.httpGet.path);
      assert.equal(res.status, 200, probe.httpGet.path);
    }
    const ready = (await (await h.app.request("/readyz")).json()) as { store: string };
    assert.equal(ready.store, "pglite", "readiness reports the store it pinged");
    // SIGTERM: the drain deadline plus the 5 s grace must end before Kubernetes kills the pod.
    const drainMs = Number(
      server.env.find((e: { name: string }) => e.name === "MODELGOV_DRAIN_TIMEOUT_MS").value,
    );
    const preStop = Number(server.lifecycle.preStop.exec.command[1]);
    assert.ok(preStop * 1000 + drainMs + 5_000 < podSpecOf(deployment)!.terminationGracePeriodSeconds * 1000);
  });

  test("the Argo templates ask the verdict endpoint the API documents, and read its verdict field", async () => {
    const spec = (await (await h.app.request("/api/v1/openapi.json")).json()) as Loose;
    const op = spec.paths["/api/v1/models/{model}/rollout/verdict"]?.get;
    assert.ok(op, "the OpenAPI document has the verdict endpoint");
    assert.ok(
      op.parameters.some((p: { name: string; in: string }) => p.name === "candidate" && p.in === "query"),
    );
    const schema = spec.components.schemas.RolloutVerdict;
    assert.deepEqual([...schema.properties.verdict.enum].sort(), ["hold", "promote", "rollback"]);
    const templates = readYamlDocuments(path.join(deploy, "argo", "analysis-templates.yaml")) as Loose[];
    for (const t of templates) {
      const web = t.spec.metrics[0].provider.web;
      assert.equal(
        web.url,
        "{{args.modelgov-url}}/api/v1/models/{{args.model}}/rollout/verdict?candidate={{args.candidate}}",
      );
      assert.equal(web.jsonPath, "{$.verdict}");
      assert.deepEqual(
        web.headers.find((x: { key: string }) => x.key === "Authorization"),
        { key: "Authorization", value: "Bearer {{args.token}}" },
      );
      const args = new Set(t.spec.args.map((a: { name: string }) => a.name));
      for (const [, used] of web.url.matchAll(/\{\{args\.([\w-]+)\}\}/g)) assert.ok(args.has(used), used);
    }
  });
});

describe("deploy/examples/secrets.example.yaml", () => {
  test("every value is an obvious placeholder, and the key is not a key", () => {
    assert.ok(exampleSecrets.length >= 5);
    for (const s of exampleSecrets) {
      validate(s, "secrets.example.yaml");
      for (const [key, value] of Object.entries(s.stringData))
        assert.match(value, /REPLACE-ME-PLACEHOLDER/, `${s.metadata.name}/${key}`);
      assert.equal((s as Loose).data, undefined, "stringData only: nothing hidden in base64");
    }
    const pem = exampleSecrets.find((s) => s.metadata.name === "modelgov-audit-signing-key")!.stringData[
      "audit-signing-key.pem"
    ]!;
    assert.throws(() => createPrivateKey(pem));
  });

  test("no kustomization applies it", () => {
    const files = yamlFiles(deploy).filter((f) => f.endsWith("kustomization.yaml"));
    assert.ok(files.length >= 4);
    for (const file of files) {
      const k = readYamlDocuments(file)[0] as { resources?: string[] };
      for (const r of k.resources ?? []) assert.doesNotMatch(r, /example/, `${file}: ${r}`);
    }
    for (const overlay of overlays)
      assert.ok(
        !renderKustomization(path.join(deploy, "overlays", overlay)).some((o) => o.kind === "Secret"),
      );
  });
});
