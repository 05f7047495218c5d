import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

type Json = Record<string, unknown>;

export interface PatchSeen {
  path: string;
  contentType: string | undefined;
  ops: { op: string; path: string; value?: unknown }[];
  /** The answer's status. */
  status: number;
}

/**
 * A loopback Kubernetes API server holding routes, strict where the real one is: GET and PATCH
 * on HTTPRoutes (gateway.networking.k8s.io/v1) and VirtualServices (networking.istio.io/v1beta1)
 * only, with the bearer token, PATCH only as application/json-patch+json, ops applied in order
 * and all-or-nothing, a failed `test` answered 422 as the API server does, resourceVersion
 * bumped on every write.
 */
export interface FakeKube {
  readonly url: string;
  readonly patches: PatchSeen[];
  readonly gets: number;
  /** Requests it refused as malformed (wrong method, path or content type): a test expects none. */
  readonly malformed: string[];
  /** Adds or replaces a route with these backend names in rule 0 (weights as given). */
  putRoute(ns: string, name: string, backends: { name: string; weight?: number }[]): void;
  /** Adds an Istio VirtualService with one http route of these destinations. */
  putVirtualService(ns: string, name: string, route: { destination: Json; weight?: number }[]): void;
  /** Adds a KServe InferenceService (no canaryTrafficPercent: the latest revision has it all). */
  putInferenceService(ns: string, name: string): void;
  route(ns: string, name: string): Json | undefined;
  virtualService(ns: string, name: string): Json | undefined;
  inferenceService(ns: string, name: string): Json | undefined;
  /** backendRef name → weight, rule 0. */
  weights(ns: string, name: string): Record<string, number | undefined>;
  /** An edit by someone else: bumps the resourceVersion (the next stale test op fails). */
  touch(ns: string, name: string): void;
  /** Before each of the next `n` PATCHes is applied, someone else edits the route first. */
  raceNext(n: number): void;
  /** Every request answers `status` until set back to null (the API server is down or refusing). */
  failAll: number | null;
  /** Requests are taken and never answered while set (a hung API server). */
  hang: boolean;
  /** A KubeConfig for the real client pointed at this server. */
  kubeConfig(): KubeConfig;
  /** Resolves at the next PATCH answered (tests wait on events, never on time). */
  nextPatch(): Promise<PatchSeen>;
  close(): Promise<void>;
}

/** The route APIs it serves: anything else is a wrong path. */
const SERVED = new Set([
  "gateway.networking.k8s.io/v1/httproutes",
  "networking.istio.io/v1beta1/virtualservices",
  "serving.kserve.io/v1beta1/inferenceservices",
]);
const OBJECT_PATH = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)\/([^/]+)$/;

function applyOps(
  doc: Json,
  ops: PatchSeen["ops"],
): { ok: true } | { ok: false; status: number; message: string } {
  for (const op of ops) {
    const parts = op.path
      .split("/")
      .slice(1)
      .map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
    const last = parts.pop()!;
    let parent: unknown = doc;
    for (const p of parts) parent = (parent as Record<string, unknown> | undefined)?.[p];
    if (parent === null || typeof parent !== "object")
      return { ok: false, status: 422, message: `path ${op.path} does not exist` };
    const target = parent as Record<string, unknown>;
    if (op.op === "test") {
      if (JSON.stringify(target[last]) !== JSON.stringify(op.value))
        return {
          ok: false,
          status: 422,
          message: `the server rejected our request: testing value ${op.path} failed`,
        };
    } else if (op.op === "replace") {
      if (!(last in target)) return { ok: false, status: 422, message: `replace: ${op.path} is missing` };
      target[last] = op.value;
    } else if (op.op === "add") target[last] = op.value;
    else return { ok: false, status: 422, message: `op ${op.op} not supported by the fake` };
  }
  return { ok: true };
}

export async function startFakeKube(): Promise<FakeKube> {
  const routes = new Map<string, Json>();
  const patches: PatchSeen[] = [];
  const malformed: string[] = [];
  const waiters: ((p: PatchSeen) => void)[] = [];
  let rv = 1000;
  let gets = 0;
  let races = 0;
  const bump = (r: Json) => {
    (r.metadata as Json).resourceVersion = String(++rv);
  };

  const send = (res: ServerResponse, status: number, body: Json) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const status = (res: ServerResponse, code: number, message: string) =>
    send(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", message, code });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (fake.hang) return;
    if (fake.failAll !== null) return status(res, fake.failAll, "injected failure");
    if (req.headers.authorization !== "Bearer test-token") {
      malformed.push(`authorization ${req.headers.authorization}`);
      return status(res, 401, "Unauthorized");
    }
    const url = new URL(req.url ?? "/", "http://x");
    const m = OBJECT_PATH.exec(url.pathname);
    if (!m || !SERVED.has(`${m[1]}/${m[2]}/${m[4]}`)) {
      malformed.push(`${req.method} ${url.pathname}`);
      return status(res, 404, `no such path ${url.pathname}`);
    }
    const key = `${m[4]}:${m[3]}/${m[5]}`;
    const route = routes.get(key);
    if (!route) return status(res, 404, `${m[4]}.${m[1]} "${m[5]}" not found`);
    if (req.method === "GET") {
      gets++;
      return send(res, 200, route);
    }
    if (req.method !== "PATCH") {
      malformed.push(`${req.method} ${url.pathname}`);
      return status(res, 405, "method not allowed");
    }
    const contentType = req.headers["content-type"];
    let ops: PatchSeen["ops"];
    try {
      ops = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      malformed.push("unparsable body");
      return status(res, 400, "unparsable body");
    }
    const seen = (code: number): PatchSeen => {
      const p = { path: url.pathname, contentType, ops, status: code };
      patches.push(p);
      for (const w of waiters.splice(0)) w(p);
      return p;
    };
    if (contentType !== "application/json-patch+json") {
      malformed.push(`content type ${contentType}`);
      seen(415);
      return status(res, 415, `unsupported content type ${contentType}`);
    }
    if (!Array.isArray(ops) || ops[0]?.op !== "test" || ops[0]?.path !== "/metadata/resourceVersion") {
      malformed.push("patch without a leading resourceVersion test");
      seen(400);
      return status(res, 400, "expected a test op on /metadata/resourceVersion first");
    }
    if (races > 0) {
      races--;
      bump(route);
    }
    const copy = structuredClone(route);
    const out = applyOps(copy, ops);
    if (!out.ok) {
      seen(out.status);
      return status(res, out.status, out.message);
    }
    bump(copy);
    routes.set(key, copy);
    seen(200);
    return send(res, 200, copy);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => status(res, 500, String(err)));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeKube = {
    url,
    patches,
    get gets() {
      return gets;
    },
    malformed,
    failAll: null,
    hang: false,
    putRoute(ns, name, backends) {
      routes.set(`httproutes:${ns}/${name}`, {
        apiVersion: "gateway.networking.k8s.io/v1",
        kind: "HTTPRoute",
        metadata: { namespace: ns, name, resourceVersion: String(++rv) },
        spec: {
          parentRefs: [{ name: "inference-gateway" }],
          rules: [{ backendRefs: backends.map((b) => ({ kind: "Service", port: 8000, ...b })) }],
        },
      });
    },
    putVirtualService(ns, name, route) {
      routes.set(`virtualservices:${ns}/${name}`, {
        apiVersion: "networking.istio.io/v1beta1",
        kind: "VirtualService",
        metadata: { namespace: ns, name, resourceVersion: String(++rv) },
        spec: { hosts: [name], http: [{ route }] },
      });
    },
    putInferenceService(ns, name) {
      routes.set(`inferenceservices:${ns}/${name}`, {
        apiVersion: "serving.kserve.io/v1beta1",
        kind: "InferenceService",
        metadata: { namespace: ns, name, resourceVersion: String(++rv) },
        spec: {
          predictor: { model: { modelFormat: { name: "huggingface" }, storageUri: "hf://org/model" } },
        },
      });
    },
    inferenceService: (ns, name) => routes.get(`inferenceservices:${ns}/${name}`),
    route: (ns, name) => routes.get(`httproutes:${ns}/${name}`),
    virtualService: (ns, name) => routes.get(`virtualservices:${ns}/${name}`),
    weights(ns, name) {
      const r = routes.get(`httproutes:${ns}/${name}`) as {
        spec: { rules: { backendRefs: { name: string; weight?: number }[] }[] };
      };
      return Object.fromEntries(r.spec.rules[0]!.backendRefs.map((b) => [b.name, b.weight]));
    },
    touch(ns, name) {
      bump(routes.get(`httproutes:${ns}/${name}`)!);
    },
    raceNext(n) {
      races = n;
    },
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "fake", server: url, skipTLSVerify: true }],
        users: [{ name: "modelgov", token: "test-token" }],
        contexts: [{ name: "fake", cluster: "fake", user: "modelgov" }],
        currentContext: "fake",
      });
      return kc;
    },
    nextPatch: () => new Promise((r) => waiters.push(r)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return fake;
}
