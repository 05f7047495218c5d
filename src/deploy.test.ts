// deploy/ checked offline: every manifest valid for its kind (kubernetes-models, and
// @kubernetes-models/argo-rollouts for the Argo kinds), each overlay rendered as kustomize would
// (test-support/kustomize.ts) and held to what running modelgov needs, and the Dockerfile's
// shape. No cluster and no Docker engine are needed.

import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { AnalysisTemplate } from "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate";
import { Rollout } from "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
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
import { type Harness, openHarness, storeTargets } from "./test-support/stores.ts";

const root = path.join(import.meta.dirname, "..");
const deploy = path.join(root, "deploy");

type Validating = new (data: never) => { validate(): void };
const MODELS: Record<string, Validating> = {
  "v1/ServiceAccount": ServiceAccount as never,
  "v1/Service": Service as never,
  "v1/Secret": Secret as never,
  "apps/v1/Deployment": Deployment as never,
  "batch/v1/Job": Job as never,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as never,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler as never,
  "argoproj.io/v1alpha1/AnalysisTemplate": AnalysisTemplate as never,
  "argoproj.io/v1alpha1/Rollout": Rollout as never,
};

/** Validates an object against its kind's model; throws naming the object and the problem. */
function validate(o: K8sObject, where: string): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`${where}: ${o.apiVersion} ${o.kind} has no model in this test`);
  try {
    new Model(structuredClone(o) as never).validate();
  } catch (err) {
    throw new Error(`${where}: ${o.kind}/${o.metadata?.name}: ${(err as Error).message}`);
  }
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out.sort();
}

const overlays = readdirSync(path.join(deploy, "overlays")).sort();
const exampleSecrets = readYamlDocuments(
  path.join(deploy, "examples", "secrets.example.yaml"),
) as (K8sObject & {
  stringData: Record<string, string>;
})[];
const one = <T extends K8sObject>(objects: K8sObject[], kind: string, name?: string): T => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? `/${name}` : ""}, found ${found.length}`);
  return found[0] as T;
};
const subset = (small: Record<string, string> = {}, big: Record<string, string> = {}) =>
  Object.keys(small).length > 0 && Object.entries(small).every(([k, v]) => big[k] === v);
const env = (c: { env?: { name: string; value?: string }[] }, name: string) =>
  c.env?.find((e) => e.name === name)?.value;

/** Every secret a workload or an Argo template names: [secret, key or null for the whole secret, where]. */
function secretRefs(o: K8sObject): [string, string | null, string][] {
  const refs: [string, string | null, string][] = [];
  const where = `${o.kind}/${o.metadata.name}`;
  for (const c of containersOf(o)) {
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef)
        refs.push([e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key, where]);
    for (const e of c.envFrom ?? []) if (e.secretRef) refs.push([e.secretRef.name, null, where]);
  }
  for (const v of podSpecOf(o)?.volumes ?? [])
    if (v.secret)
      for (const item of v.secret.items ?? [{ key: null }]) refs.push([v.secret.secretName, item.key, where]);
  for (const a of ((o.spec as Loose)?.args ?? []) as Loose[])
    if (a.valueFrom?.secretKeyRef)
      refs.push([a.valueFrom.secretKeyRef.name, a.valueFrom.secretKeyRef.key, where]);
  return refs;
}

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

/** The result a metric's conditions give a verdict: Argo's successCondition first, then failureCondition. */
function outcome(metric: { successCondition?: string; failureCondition?: string }, verdict: string) {
  const holds = (condition: string | undefined) => {
    if (condition === undefined) return false;
    const m = /^result (==|!=) "(\w+)"$/.exec(condition);
    assert.ok(m, `a condition this test can read: ${condition}`);
    return m[1] === "==" ? verdict === m[2] : verdict !== m[2];
  };
  const success = holds(metric.successCondition);
  const failure = holds(metric.failureCondition);
  assert.ok(!(success && failure), `${verdict} is both a success and a failure`);
  return success ? "Successful" : failure ? "Failed" : "Inconclusive";
}

describe("deploy/argo: AnalysisTemplates and the example Rollout", () => {
  const templates = readYamlDocuments(path.join(deploy, "argo", "analysis-templates.yaml")) as Loose[];
  const gate = templates.find((t) => t.metadata.name === "modelgov-verdict");
  const guard = templates.find((t) => t.metadata.name === "modelgov-guard");

  test("the gate: promote succeeds, rollback fails, hold is inconclusive (the Rollout pauses for a person)", () => {
    const m = gate.spec.metrics[0];
    assert.equal(outcome(m, "promote"), "Successful");
    assert.equal(outcome(m, "rollback"), "Failed");
    assert.equal(outcome(m, "hold"), "Inconclusive");
    assert.equal(m.count, 1, "one measurement: a gate");
    assert.equal(m.failureLimit, 0, "one rollback fails the run");
    assert.equal(m.inconclusiveLimit, 0, "one hold makes the run inconclusive");
  });

  test("the guard: only rollback fails it, at the first one, for the whole canary", () => {
    const m = guard.spec.metrics[0];
    assert.equal(outcome(m, "rollback"), "Failed");
    assert.equal(outcome(m, "hold"), "Successful");
    assert.equal(outcome(m, "promote"), "Successful");
    assert.equal(m.failureLimit, 0);
    assert.equal(m.count, undefined, "runs until the Rollout ends");
    assert.match(m.interval, /^\d+s$/);
  });

  test("the example Rollout validates, and names templates, args and Services that exist", () => {
    const docs = readYamlDocuments(path.join(deploy, "argo", "rollout.example.yaml")) as Loose[];
    const rollout = docs.find((d) => d.kind === "Rollout");
    validate(rollout, "argo/rollout.example.yaml");
    const canary = rollout.spec.strategy.canary;
    const services = new Set(docs.filter((d) => d.kind === "Service").map((d) => d.metadata.name));
    assert.ok(services.has(canary.canaryService) && services.has(canary.stableService));
    const uses = [
      canary.analysis,
      ...canary.steps.filter((s: Loose) => s.analysis).map((s: Loose) => s.analysis),
    ];
    assert.ok(uses.length >= 2, "a background guard and at least one gate");
    for (const use of uses)
      for (const ref of use.templates) {
        const t = templates.find((x) => x.metadata.name === ref.templateName);
        assert.ok(t, `template ${ref.templateName}`);
        const given = new Set(use.args.map((a: { name: string }) => a.name));
        const required = t.spec.args.filter((a: Loose) => a.value === undefined && a.valueFrom === undefined);
        for (const a of required) assert.ok(given.has(a.name), `${ref.templateName} needs ${a.name}`);
        assert.match(use.args.find((a: Loose) => a.name === "candidate").value, /^\d+\.\d+\.\d+/);
      }
    assert.ok(canary.analysis.templates.some((t: Loose) => t.templateName === "modelgov-guard"));
  });

  test("the templates' token comes from a secret the example shows", () => {
    for (const t of templates)
      for (const [name, key] of secretRefs(t)) {
        const s = exampleSecrets.find((x) => x.metadata.name === name);
        assert.ok(s && key && key in s.stringData, `${name}/${key}`);
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

describe("Dockerfile", () => {
  const text = readFileSync(path.join(root, "Dockerfile"), "utf8");
  // Instructions, with continuation lines joined and comments left out.
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: { name: string; lines: string[] }[] = [];
  for (const l of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(l);
    if (from) stages.push({ name: from[1] ?? String(stages.length), lines: [] });
    else stages.at(-1)?.lines.push(l);
  }
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const ignored = readFileSync(path.join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  test("multi-stage: build and pack; install the packed package without dev dependencies; the runtime copies only that", () => {
    assert.deepEqual(
      stages.map((x) => x.name),
      ["build", "package", "runtime"],
    );
    const runs = (stage: { lines: string[] }) => stage.lines.filter((l) => l.startsWith("RUN")).join("\n");
    const copies = (stage: { lines: string[] }) => stage.lines.filter((l) => /^(COPY|ADD)\b/.test(l));
    assert.match(runs(build), /npm ci\b/);
    assert.match(runs(build), /npm run build\b/);
    assert.match(runs(build), /npm pack\b/);
    // The package stage takes the tarball and the lockfile from the build, nothing else.
    const pack = stages[1]!;
    assert.deepEqual(copies(pack), ["COPY --from=build /pkg/modelgov.tgz /pkg/package-lock.json /tmp/"]);
    assert.match(runs(pack), /tar xzf \/tmp\/modelgov\.tgz/);
    assert.match(runs(pack), /npm ci --omit=dev\b/);
    assert.doesNotMatch(runs(pack), /npm run\b|npm install\b|tsc\b/);
    // The runtime: only the installed package, and no npm step at all.
    assert.deepEqual(copies(runtime), ["COPY --from=package /opt/modelgov /opt/modelgov"]);
    assert.doesNotMatch(runs(runtime), /\bnpm\b|\bnpx\b|tsc\b/);
    assert.match(
      runs(runtime),
      new RegExp(`ln -s /opt/modelgov/${pkg.bin.modelgov} /usr/local/bin/modelgov`),
    );
  });

  test("the runtime runs as a non-root user, and its command runs the package's bin: serve", () => {
    const users = runtime.lines.filter((l) => l.startsWith("USER"));
    assert.equal(users.length, 1);
    const user = users[0]!.split(/\s+/)[1]!.split(":")[0]!;
    assert.ok(!["root", "0"].includes(user), user);
    assert.ok(runtime.lines.indexOf(users[0]!) > runtime.lines.findLastIndex((l) => l.startsWith("RUN")));
    const exec = (instruction: string) => {
      const l = runtime.lines.find((x) => x.startsWith(`${instruction} `));
      return l ? (JSON.parse(l.slice(instruction.length + 1)) as string[]) : [];
    };
    const command = [...exec("ENTRYPOINT"), ...exec("CMD")];
    assert.deepEqual(command, [Object.keys(pkg.bin)[0], "serve"]);
    const deployment = one(renderKustomization(path.join(deploy, "base")), "Deployment");
    const uid = Number(user);
    assert.equal(
      podSpecOf(deployment)!.securityContext.runAsUser,
      uid,
      "the manifests run as the image's user",
    );
    const port = runtime.lines.find((l) => l.startsWith("EXPOSE"))!.split(/\s+/)[1];
    assert.equal(Number(port), containersOf(deployment)[0]!.ports[0].containerPort);
  });

  test("what the build stage copies exists and is not ignored; what it must not copy is ignored", () => {
    for (const l of build.lines.filter((x) => x.startsWith("COPY") && !x.includes("--from"))) {
      const sources = l.split(/\s+/).slice(1, -1);
      for (const s of sources) {
        assert.ok(existsSync(path.join(root, s)), `${s} exists`);
        assert.ok(!ignored.includes(s), `${s} is not in .dockerignore`);
      }
    }
    for (const needed of [
      "src",
      "bin",
      "schema",
      "console",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      // dist is what the build makes, not what it copies.
      ...pkg.files.filter((f: string) => f !== "dist"),
    ])
      assert.ok(
        !ignored.some((p) => p === needed || needed.startsWith(`${p}/`)),
        `${needed} reaches the build`,
      );
    for (const kept of ["node_modules", ".git", ".modelgov", "dist", ".env"])
      assert.ok(ignored.includes(kept), kept);
  });
});
