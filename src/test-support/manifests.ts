// Reading deploy/ in tests: each object validated against its kind's model (kubernetes-models,
// and @kubernetes-models/argo-rollouts for the Argo kinds), and small lookups the deploy tests share.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AnalysisTemplate } from "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate";
import { Rollout } from "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout";
import { HTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { containersOf, type K8sObject, type Loose, podSpecOf, readYamlDocuments } from "./kustomize.ts";

export const root = path.join(import.meta.dirname, "..", "..");
export const deploy = path.join(root, "deploy");

type Validating = new (data: never) => { validate(): void };
export const MODELS: Record<string, Validating> = {
  "v1/ServiceAccount": ServiceAccount as never,
  "v1/Service": Service as never,
  "v1/Secret": Secret as never,
  "apps/v1/Deployment": Deployment as never,
  "batch/v1/Job": Job as never,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget as never,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler as never,
  "argoproj.io/v1alpha1/AnalysisTemplate": AnalysisTemplate as never,
  "argoproj.io/v1alpha1/Rollout": Rollout as never,
  "gateway.networking.k8s.io/v1/HTTPRoute": HTTPRoute as never,
  "rbac.authorization.k8s.io/v1/Role": Role as never,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding as never,
};

/** Validates an object against its kind's model; throws naming the object and the problem. */
export function validate(o: K8sObject, where: string): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!Model) throw new Error(`${where}: ${o.apiVersion} ${o.kind} has no model in this test`);
  try {
    new Model(structuredClone(o) as never).validate();
  } catch (err) {
    throw new Error(`${where}: ${o.kind}/${o.metadata?.name}: ${(err as Error).message}`);
  }
}

export function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    // `*.modelgov.yaml` are modelgov's own files (a traffic target), not Kubernetes objects.
    else if (/\.ya?ml$/.test(name) && !/\.modelgov\.ya?ml$/.test(name)) out.push(p);
  }
  return out.sort();
}

export const overlays = readdirSync(path.join(deploy, "overlays")).sort();
export const exampleSecrets = readYamlDocuments(
  path.join(deploy, "examples", "secrets.example.yaml"),
) as (K8sObject & {
  stringData: Record<string, string>;
})[];
export const one = <T extends K8sObject>(objects: K8sObject[], kind: string, name?: string): T => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name ? `/${name}` : ""}, found ${found.length}`);
  return found[0] as T;
};
export const subset = (small: Record<string, string> = {}, big: Record<string, string> = {}) =>
  Object.keys(small).length > 0 && Object.entries(small).every(([k, v]) => big[k] === v);
export const env = (c: { env?: { name: string; value?: string }[] }, name: string) =>
  c.env?.find((e) => e.name === name)?.value;

/** Every secret a workload or an Argo template names: [secret, key or null for the whole secret, where]. */
export function secretRefs(o: K8sObject): [string, string | null, string][] {
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

/** The TypeScript interface of each kind the manifests use: [module, interface]. */
const INTERFACES: Record<string, [string, string]> = {
  "v1/ServiceAccount": ["kubernetes-models/v1/ServiceAccount", "IServiceAccount"],
  "v1/Service": ["kubernetes-models/v1/Service", "IService"],
  "v1/Secret": ["kubernetes-models/v1/Secret", "ISecret"],
  "apps/v1/Deployment": ["kubernetes-models/apps/v1/Deployment", "IDeployment"],
  "batch/v1/Job": ["kubernetes-models/batch/v1/Job", "IJob"],
  "policy/v1/PodDisruptionBudget": [
    "kubernetes-models/policy/v1/PodDisruptionBudget",
    "IPodDisruptionBudget",
  ],
  "autoscaling/v2/HorizontalPodAutoscaler": [
    "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler",
    "IHorizontalPodAutoscaler",
  ],
  "argoproj.io/v1alpha1/AnalysisTemplate": [
    "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/AnalysisTemplate",
    "IAnalysisTemplate",
  ],
  "argoproj.io/v1alpha1/Rollout": [
    "@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout",
    "IRollout",
  ],
  "gateway.networking.k8s.io/v1/HTTPRoute": [
    "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute",
    "IHTTPRoute",
  ],
  "rbac.authorization.k8s.io/v1/Role": ["kubernetes-models/rbac.authorization.k8s.io/v1/Role", "IRole"],
  "rbac.authorization.k8s.io/v1/RoleBinding": [
    "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding",
    "IRoleBinding",
  ],
};

/**
 * What the JSON schemas let through: a field the kind does not have (`readOnlyRootFileSystem`)
 * passes them (an API server drops it, or refuses it only under strict field validation). Each object becomes an object literal
 * typed with its kind's interface, and TypeScript's excess-property check names any such field.
 * Returns one line per problem: where, then the compiler's message.
 */
export async function unknownFields(objects: { where: string; object: K8sObject }[]): Promise<string[]> {
  const used = [...new Set(objects.map(({ object: o }) => `${o.apiVersion}/${o.kind}`))];
  const imports = used.map((k) => {
    const known = INTERFACES[k];
    if (!known) throw new Error(`no interface for ${k}`);
    return `import type { ${known[1]} } from "${known[0]}";`;
  });
  // One object a line: a diagnostic's line says which object it is about.
  const first = imports.length;
  const lines = objects.map(
    ({ object: o }, i) =>
      `export const o${i}: ${INTERFACES[`${o.apiVersion}/${o.kind}`]![1]} = ${JSON.stringify(o)};`,
  );
  // The compiler itself on a throwaway project (TypeScript 7 has no in-process API): under
  // node_modules so the packages' types resolve, as they do for the repository's own files.
  const dir = mkdtempSync(path.join(root, "node_modules", ".modelgov-manifests-"));
  try {
    writeFileSync(path.join(dir, "manifests.ts"), `${[...imports, ...lines].join("\n")}\n`);
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
          target: "ES2022",
          module: "NodeNext",
          moduleResolution: "NodeNext",
        },
        files: ["manifests.ts"],
      }),
    );
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", dir, "--pretty", "false"], {
      encoding: "utf8",
      // The compiler needs nothing of the caller's environment.
      env: { PATH: "/usr/bin:/bin" },
    });
    if (run.status === 0) return [];
    // `manifests.ts(LINE,COL): error TSNNNN: message`, continuation lines indented.
    const out: string[] = [];
    for (const m of run.stdout.matchAll(
      /^(?:.*?manifests\.ts\((\d+),\d+\)|[^\s].*?): error (TS\d+: .*(?:\n {2,}.*)*)/gm,
    )) {
      const at = m[1] ? objects[Number(m[1]) - 1 - first] : undefined;
      const what = at ? `${at.where}: ${at.object.kind}/${at.object.metadata?.name}` : "manifests";
      out.push(`${what}: ${m[2]!.replace(/\s*\n\s+/g, " ")}`);
    }
    if (out.length === 0) throw new Error(`tsc failed without a diagnostic: ${run.stdout}${run.stderr}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
