import type {
  ConfigurationOptions,
  CustomObjectsApi,
  KubeConfig,
  RequestContext,
  ResponseContext,
} from "@kubernetes/client-node";
import type { TrafficTarget } from "./traffic.schemas.ts";

// The client is loaded on first use (it takes over half a second to import): a server with no
// traffic target, and every test that does not write a route, never pays for it.
type K8s = typeof import("@kubernetes/client-node");
let k8s: Promise<K8s> | undefined;
const loadK8s = () => (k8s ??= import("@kubernetes/client-node"));

/**
 * Where each kind of route keeps its weighted backends, declaratively: the API group, the list
 * of backends in rule `i`, and the name a traffic target uses for a backend in that list. KServe
 * has no list: one percentage, the latest revision's share (the rest goes to the previous one).
 */
type KindMap = { group: string; version: string; plural: string } & (
  | {
      list: (ruleIndex: number) => (string | number)[];
      nameOf: (backend: Record<string, unknown>) => string | undefined;
    }
  | { canaryPercent: string[] }
);

export const KINDS: Record<TrafficTarget["kind"], KindMap> = {
  HTTPRoute: {
    group: "gateway.networking.k8s.io",
    version: "v1",
    plural: "httproutes",
    list: (i) => ["spec", "rules", i, "backendRefs"],
    nameOf: (b) => (typeof b.name === "string" ? b.name : undefined),
  },
  VirtualService: {
    group: "networking.istio.io",
    version: "v1beta1",
    plural: "virtualservices",
    list: (i) => ["spec", "http", i, "route"],
    // A destination is named by its subset when it has one (one host, several subsets), else its host.
    nameOf: (b) => {
      const d = b.destination as { host?: unknown; subset?: unknown } | undefined;
      return typeof d?.subset === "string" ? d.subset : typeof d?.host === "string" ? d.host : undefined;
    },
  },
  InferenceService: {
    group: "serving.kserve.io",
    version: "v1beta1",
    plural: "inferenceservices",
    canaryPercent: ["spec", "predictor", "canaryTrafficPercent"],
  },
};

export interface ApplyResult {
  /** False when the route already carried these weights (nothing was written). */
  changed: boolean;
  /** The route's resourceVersion after the write (or as read, when nothing changed). */
  resourceVersion: string;
  /** Patches refused because the route changed under us (each re-read and retried). */
  conflicts: number;
}

/** Writes a target's integer weights into its route; throws a ClusterError it cannot. */
export interface TrafficApplier {
  apply(target: TrafficTarget, weights: Map<string, number>): Promise<ApplyResult>;
}

/** A failed cluster write: `retryable` false when only a change of config or RBAC can mend it. */
export class ClusterError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ClusterError";
  }
}

const JSON_PATCH = "application/json-patch+json";

const parseJson = (s: string): unknown => {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** RFC 6901 path from segments. */
const pointer = (parts: (string | number)[]) =>
  `/${parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;

function dig(obj: unknown, parts: (string | number)[]): unknown {
  let cur = obj;
  for (const p of parts) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

export type JsonPatchOp =
  | { op: "test"; path: string; value: unknown }
  | { op: "replace" | "add"; path: string; value: unknown };

/**
 * The JSON Patch for one route as read: a `test` on its resourceVersion first (so a concurrent
 * edit fails the patch instead of being overwritten), then one op per backend whose weight
 * differs (`replace`, or `add` where the backend has no weight yet: the API defaults it to 1).
 * Null when the route already carries the weights.
 */
export function planPatch(
  target: TrafficTarget,
  route: unknown,
  weights: Map<string, number>,
): JsonPatchOp[] | null {
  const kind = KINDS[target.kind];
  const where = `${target.kind} ${target.namespace}/${target.name}`;
  const rv = dig(route, ["metadata", "resourceVersion"]);
  if (typeof rv !== "string" || !rv)
    throw new ClusterError(`${where} came back without a resourceVersion`, true);
  const test: JsonPatchOp = { op: "test", path: "/metadata/resourceVersion", value: rv };
  if ("canaryPercent" in kind) {
    // KServe: the latest revision's share; without the field it has all the traffic.
    if (!dig(route, kind.canaryPercent.slice(0, -1)))
      throw new ClusterError(`${where} has no ${kind.canaryPercent.slice(0, -1).join(".")}`, false);
    const want = weights.get("latest") ?? 0;
    const current = dig(route, kind.canaryPercent);
    if ((current ?? 100) === want) return null;
    return [
      test,
      { op: current === undefined ? "add" : "replace", path: pointer(kind.canaryPercent), value: want },
    ];
  }
  const listPath = kind.list(target.ruleIndex);
  const list = dig(route, listPath);
  if (!Array.isArray(list))
    throw new ClusterError(
      `${where} has no ${listPath.slice(1).join(".")} (rule index ${target.ruleIndex})`,
      false,
    );
  const ops: JsonPatchOp[] = [];
  for (const [backend, weight] of weights) {
    const idx = list.findIndex((b) => b && typeof b === "object" && kind.nameOf(b) === backend);
    if (idx < 0)
      throw new ClusterError(
        `${where}: no backend named '${backend}' in ${listPath.slice(1).join(".")} (has: ${list.map((b) => kind.nameOf(b) ?? "?").join(", ")})`,
        false,
      );
    const current = (list[idx] as { weight?: unknown }).weight;
    if (current === weight) continue;
    ops.push({
      op: current === undefined ? "add" : "replace",
      path: pointer([...listPath, idx, "weight"]),
      value: weight,
    });
  }
  return ops.length ? [test, ...ops] : null;
}

export interface KubeApplierOptions {
  /** The cluster and credentials; unset: loadKubeConfig(kubeconfigPath) on first use. */
  kubeConfig?: KubeConfig;
  kubeconfigPath?: string;
  /** Patches tried before giving up on a route that keeps changing under us. */
  maxAttempts?: number;
  /** Each request to the API server is cut after this long (default 10 s): a hung server must not hang the reconciler. */
  requestTimeoutMs?: number;
  /** First wait after a conflict, doubled each time, jittered down by up to half. */
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** Reads and patches routes through @kubernetes/client-node (1.x: Node 20). */
export function createKubeApplier(opts: KubeApplierOptions): TrafficApplier {
  let client: Promise<{ lib: K8s; api: CustomObjectsApi }> | undefined;
  const connect = () =>
    (client ??= (async () => {
      const lib = await loadK8s();
      const kc = opts.kubeConfig ?? (await loadKubeConfig(opts.kubeconfigPath));
      return { lib, api: kc.makeApiClient(lib.CustomObjectsApi) };
    })());
  const maxAttempts = opts.maxAttempts ?? 5;
  const backoffMs = opts.backoffMs ?? 100;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  /**
   * Per request: a deadline, and (for PATCH) the JSON Patch content type, said outright. The
   * object API takes its middleware in the library's own Observable shape.
   */
  const options = (lib: K8s, contentType?: string): ConfigurationOptions => ({
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(AbortSignal.timeout(requestTimeoutMs));
          if (contentType) ctx.setHeaderParam("Content-Type", contentType);
          return new lib.Observable(Promise.resolve(ctx));
        },
        post: (res: ResponseContext) => new lib.Observable(Promise.resolve(res)),
      },
    ],
  });

  function failure(lib: K8s, err: unknown, what: string, where: string): ClusterError {
    if (err instanceof ClusterError) return err;
    if (err instanceof lib.ApiException) {
      const code = err.code as number;
      const body = typeof err.body === "string" ? parseJson(err.body) : err.body;
      const msg = (body as { message?: string } | undefined)?.message ?? "";
      if (code === 404) return new ClusterError(`${where} not found (${what})`, false, code);
      if (code === 401 || code === 403)
        return new ClusterError(
          `${what} ${where} refused (${code}): the service account needs get and patch on ${where.split(" ")[0]!.toLowerCase()}s (docs/containers.md)${msg ? `: ${msg}` : ""}`,
          false,
          code,
        );
      return new ClusterError(`${what} ${where} failed (${code})${msg ? `: ${msg}` : ""}`, true, code);
    }
    const e = err as { message?: string; code?: string; name?: string };
    if (e.name === "TimeoutError" || e.name === "AbortError")
      return new ClusterError(`${what} ${where}: no answer within ${requestTimeoutMs} ms`, true);
    return new ClusterError(`${what} ${where}: ${e.code ?? e.message ?? String(err)}`, true);
  }

  return {
    async apply(target, weights) {
      let lib: K8s;
      let api: CustomObjectsApi;
      try {
        ({ lib, api } = await connect());
      } catch (err) {
        client = undefined;
        throw new ClusterError(`loading the cluster credentials: ${(err as Error).message}`, true);
      }
      const kind = KINDS[target.kind];
      const ref = {
        group: kind.group,
        version: kind.version,
        namespace: target.namespace,
        plural: kind.plural,
        name: target.name,
      };
      const where = `${target.kind} ${target.namespace}/${target.name}`;
      let conflicts = 0;
      // A 422 is a conflict only when the route moved on; else the API refused the patch itself.
      let refused: { rv: string; err: unknown } | null = null;
      for (let attempt = 1; ; attempt++) {
        let route: unknown;
        try {
          route = await api.getNamespacedCustomObject(ref, options(lib));
        } catch (err) {
          throw failure(lib, err, "reading", where);
        }
        const ops = planPatch(target, route, weights);
        const rv = dig(route, ["metadata", "resourceVersion"]) as string;
        if (refused && refused.rv === rv) {
          const e = failure(lib, refused.err, "patching", where);
          throw new ClusterError(e.message, false, e.status);
        }
        if (!ops) return { changed: false, resourceVersion: rv, conflicts };
        try {
          const after = await api.patchNamespacedCustomObject(
            { ...ref, body: ops, fieldManager: "modelgov" },
            options(lib, JSON_PATCH),
          );
          return {
            changed: true,
            resourceVersion: String(dig(after, ["metadata", "resourceVersion"]) ?? ""),
            conflicts,
          };
        } catch (err) {
          // 409, or 422 from the failed `test` op: someone wrote the route since we read it.
          const code = err instanceof lib.ApiException ? (err.code as number) : 0;
          if ((code === 409 || code === 422) && attempt < maxAttempts) {
            conflicts++;
            refused = code === 422 ? { rv, err } : null;
            await sleep(Math.round(backoffMs * 2 ** (attempt - 1) * (1 - 0.5 * random())));
            continue;
          }
          if (code === 409 || code === 422)
            throw new ClusterError(
              `patching ${where}: still conflicting after ${attempt} attempts (${code})`,
              true,
              code,
            );
          throw failure(lib, err, "patching", where);
        }
      }
    },
  };
}

/**
 * The credentials: a kubeconfig file when one is named, else client-node's defaults in order
 * (KUBECONFIG, ~/.kube/config, then the in-cluster service account).
 */
export async function loadKubeConfig(path?: string): Promise<KubeConfig> {
  const kc = new (await loadK8s()).KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
