// The part of kustomize that deploy/ uses, for tests that check what `kubectl apply -k` would
// apply without a cluster: resources (files and directories), namespace, images, and patches
// given as JSON6902 operations with a target kind and name. A kustomization using anything
// else is refused here rather than rendered wrongly.

import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import YAML from "yaml";

/** A manifest's nested fields, read loosely: the models validate them, tests assert them path by path. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are read and edited by path
export type Loose = any;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [k: string]: unknown };
  [field: string]: unknown;
}

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  patches?: { target?: { kind?: string; name?: string }; patch?: string; path?: string }[];
}

const SUPPORTED = new Set(["apiVersion", "kind", "namespace", "resources", "images", "patches"]);
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
]);

/** Every document of a YAML file, parse errors thrown with the file named. */
export function readYamlDocuments(file: string): unknown[] {
  const docs = YAML.parseAllDocuments(readFileSync(file, "utf8"));
  const out: unknown[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Renders the kustomization in `dir` (and those it includes) to the objects it would apply. */
export function renderKustomization(dir: string): K8sObject[] {
  const file = path.join(dir, "kustomization.yaml");
  const k = readYamlDocuments(file)[0] as Kustomization;
  const unsupported = Object.keys(k).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length)
    throw new Error(`${file}: not rendered by this test kit: ${unsupported.join(", ")}`);
  if (k.kind !== "Kustomization") throw new Error(`${file}: kind must be Kustomization`);
  const objects: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    const p = path.resolve(dir, r);
    if (statSync(p).isDirectory()) objects.push(...renderKustomization(p));
    else objects.push(...(readYamlDocuments(p) as K8sObject[]));
  }
  for (const [i, patch] of (k.patches ?? []).entries()) {
    const where = `${file}: patches[${i}]`;
    if (!patch.target?.kind || !patch.target.name || patch.patch === undefined || patch.path !== undefined)
      throw new Error(`${where}: only inline JSON6902 patches with a target kind and name are rendered`);
    const ops = YAML.parse(patch.patch) as JsonPatchOp[];
    const targets = objects.filter(
      (o) => o.kind === patch.target!.kind && o.metadata.name === patch.target!.name,
    );
    if (targets.length === 0)
      throw new Error(`${where}: no ${patch.target.kind}/${patch.target.name} to patch`);
    for (const t of targets) applyJsonPatch(t, ops, where);
  }
  for (const o of objects) {
    for (const c of containersOf(o))
      for (const img of k.images ?? []) {
        const name = c.image.replace(/[@:].*$/, "");
        if (name !== img.name) continue;
        const ref = img.digest
          ? `@${img.digest}`
          : img.newTag
            ? `:${img.newTag}`
            : c.image.slice(name.length);
        c.image = `${img.newName ?? name}${ref}`;
      }
    if (k.namespace && !CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  return objects;
}

/** The pod template's spec of a workload (Deployment, Job, Rollout …), or undefined. */
export function podSpecOf(o: K8sObject): Record<string, Loose> | undefined {
  const spec = o.spec as Record<string, Loose> | undefined;
  return spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
}

/** Every container of a workload, init containers included. */
export function containersOf(o: K8sObject): { name: string; image: string; [k: string]: Loose }[] {
  const pod = podSpecOf(o);
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
}

export interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "test";
  path: string;
  value?: unknown;
}

/** RFC 6902 add, remove, replace and test, in place. */
export function applyJsonPatch(doc: object, ops: JsonPatchOp[], where = "patch"): void {
  for (const [i, op] of ops.entries()) {
    const at = `${where} op ${i} (${op.op} ${op.path})`;
    const keys = op.path
      .split("/")
      .slice(1)
      .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
    if (!op.path.startsWith("/") || keys.length === 0) throw new Error(`${at}: the path must point inside`);
    let parent: Loose = doc;
    for (const key of keys.slice(0, -1)) {
      parent = parent?.[Array.isArray(parent) ? Number(key) : key];
      if (parent === undefined || parent === null || typeof parent !== "object")
        throw new Error(`${at}: ${key} does not exist`);
    }
    const last = keys.at(-1)!;
    const index = Array.isArray(parent) ? (last === "-" ? parent.length : Number(last)) : -1;
    if (Array.isArray(parent) && !(Number.isInteger(index) && index >= 0 && index <= parent.length))
      throw new Error(`${at}: bad array index`);
    const exists = Array.isArray(parent) ? index < parent.length : Object.hasOwn(parent, last);
    if (op.op !== "add" && !exists) throw new Error(`${at}: nothing there`);
    const clone = () => structuredClone(op.value);
    if (op.op === "test") {
      const current = Array.isArray(parent) ? parent[index] : parent[last];
      if (!isDeepStrictEqual(current, op.value))
        throw new Error(`${at}: found ${JSON.stringify(current)}, not ${JSON.stringify(op.value)}`);
    } else if (op.op === "remove") {
      if (Array.isArray(parent)) parent.splice(index, 1);
      else delete parent[last];
    } else if (op.op === "replace") {
      if (Array.isArray(parent)) parent[index] = clone();
      else parent[last] = clone();
    } else if (op.op === "add") {
      if (Array.isArray(parent)) parent.splice(index, 0, clone());
      else parent[last] = clone();
    } else throw new Error(`${at}: operation not rendered by this test kit`);
  }
}
