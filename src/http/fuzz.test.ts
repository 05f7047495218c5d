/**
 * Property-based fuzzing of every API route (issue 14): each operation of the served OpenAPI
 * document, the gateway routes and the probes get requests generated from their own schemas,
 * laced with hostile input (NUL, lone surrogates, depth 10,000, 1e400, long strings, wrong
 * types, malformed JSON, wrong content types). Every answer must be below 500, and every 4xx
 * a problem+json naming what was wrong; the server must still serve afterwards.
 *
 * The seed is fixed. For a longer manual session with another seed:
 *   FUZZ_SEED=7 FUZZ_SCALE=10 npx tsx --test src/http/fuzz.test.ts
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { getRequestListener } from "@hono/node-server";
import fc from "fast-check";
import { z } from "zod";
import { demoCard } from "../demo/card.ts";
import { seedDemo } from "../demo/seed.ts";
import { demoSuite } from "../demo/suite.ts";
import { createLogger } from "../lib/logger.ts";
import { FeedbackSchema } from "../modules/feedback/index.ts";
import { createGatewayRuntime, type GatewayRuntime } from "../modules/gateway/runtime.ts";
import { createHttpApp } from "../services.ts";
import { ChatSchema, MessagesSchema, otherRequests } from "../test-support/fuzz/other-routes.ts";
import {
  describeRequest,
  type FuzzRequest,
  type Operation,
  operationsOf,
  requestsFor,
} from "../test-support/fuzz/requests.ts";
import type { Schema } from "../test-support/fuzz/values.ts";
import {
  allStoreTargets,
  ctx,
  type Harness,
  openHarness,
  readJson,
  SIM_PARAMS,
} from "../test-support/stores.ts";

// Manual sessions only (not MODELGOV_*: a shell configured for modelgov changes nothing here);
// the default run is the same everywhere.
const SEED = Number(process.env.FUZZ_SEED ?? 20260314);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const VERBOSE = !!process.env.FUZZ_VERBOSE;

/** Requests per control-plane operation, per gateway route, and for the other paths (PGlite; PostgreSQL gets a quarter). */
const PER_OPERATION = 120;
const PER_GATEWAY_ROUTE = 320;
const OTHER_PATHS = 400;
const MIN_REQUESTS = 10_000;
/** An answer slower than this is a failure too (a hung request is as bad as a 500). */
const ANSWER_WITHIN_MS = 15_000;

interface Outcome {
  sent: number;
  failures: Map<string, string[]>;
}

/** Checks one answer: below 500, and a 4xx is problem+json with a title and a detail. */
async function verdict(res: Response, method: string): Promise<string | null> {
  const text = await res.text();
  if (res.status >= 500) return `status ${res.status}: ${text.slice(0, 300)}`;
  if (res.status < 400 || method === "HEAD") return null;
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json"))
    return `status ${res.status} as ${type}: ${text.slice(0, 200)}`;
  let p: { title?: unknown; detail?: unknown; status?: unknown };
  try {
    p = JSON.parse(text);
  } catch {
    return `status ${res.status}: a problem body that is not JSON`;
  }
  if (typeof p.title !== "string" || !p.title || typeof p.detail !== "string" || !p.detail)
    return `status ${res.status}: a problem without title or detail: ${text.slice(0, 200)}`;
  if (p.status !== res.status) return `status ${res.status}: the problem says ${String(p.status)}`;
  return null;
}

/** Sends requests a few at a time and records every answer that breaks the rule. */
async function send(
  label: string,
  requests: FuzzRequest[],
  fetchOne: (r: FuzzRequest) => Response | Promise<Response>,
  out: Outcome,
  concurrency = 6,
) {
  const t0 = performance.now();
  const slowest: [number, string][] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      let problem: string | null;
      let timer: NodeJS.Timeout | undefined;
      const t1 = performance.now();
      try {
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${ANSWER_WITHIN_MS} ms`)),
            ANSWER_WITHIN_MS,
          );
        });
        problem = await Promise.race([(async () => verdict(await fetchOne(r), r.method))(), late]);
      } catch (err) {
        problem = `no answer: ${(err as Error).message} ${((err as Error).cause as Error | undefined)?.message ?? ""}`;
      }
      clearTimeout(timer);
      if (VERBOSE) slowest.push([performance.now() - t1, describeRequest(r).slice(0, 160)]);
      out.sent++;
      if (problem) {
        // One entry per route and kind of breach (the status and content type), with examples.
        const key = `${label} → ${problem.replace(/:[\s\S]*$/, "")}`;
        const seen = out.failures.get(key) ?? [];
        if (seen.length < 3) seen.push(`${problem.slice(0, 300)}\n      ${describeRequest(r)}`);
        out.failures.set(key, seen);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (VERBOSE) {
    slowest.sort((a, b) => b[0] - a[0]);
    console.error(`${label}: ${requests.length} in ${Math.round(performance.now() - t0)} ms`);
    for (const [ms, d] of slowest.slice(0, 2)) console.error(`   ${Math.round(ms)} ms ${d}`);
  }
}

/** A stable per-route seed: adding a route does not change what the others are sent. */
const seedFor = (key: string) => {
  let h = SEED | 0;
  for (const ch of key) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
  return h;
};

for (const target of allStoreTargets()) {
  // PostgreSQL answers with other SQLSTATEs than PGlite: a share of the run there too.
  const share = (target.name === "pglite" ? 1 : 0.25) * SCALE;
  describe(`fuzzing every API route on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let gateway: GatewayRuntime;
    let server: Server;
    let base: string;
    let app: ReturnType<typeof createHttpApp>;
    const errorLogs: string[] = [];
    const consoleDir = mkdtempSync(path.join(tmpdir(), "modelgov-fuzz-console-"));

    before(async () => {
      h = await openHarness(target);
      await seedDemo(h.services);
      // A model served at once and always well by the simulator, so gateway calls that pass
      // validation finish quickly (the demo model sleeps like a real one and fails 1%).
      const admin = ctx("fuzz-admin");
      const post = async (url: string, body: unknown) => {
        const res = await h.request(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        assert.ok(res.status < 300, `${url}: ${res.status} ${await res.text()}`);
      };
      await post("/api/v1/models", {
        name: "fuzz-chat",
        owner: "fuzz",
        riskTier: "low",
        useCases: ["fuzzing"],
      });
      await post("/api/v1/models/fuzz-chat/versions", {
        version: "1.0.0",
        provider: "simulator",
        providerModelId: "sim-fuzz",
        parameters: { ...SIM_PARAMS, latencyMs: { p50: 0, p95: 0 }, errorRate: 0, quality: { success: 1 } },
        card: demoCard("1.0.0", 1, "fuzz"),
      });
      const req = await h.services.approvals.request(admin, "fuzz-chat", "1.0.0", "fuzz");
      await h.services.approvals.sign(ctx("fuzz-reviewer", ["engineering"]), req.id, {
        role: "engineering",
        decision: "approve",
        comment: "",
        evidenceRefs: [],
      });
      await h.services.registry.setAlias(admin, "fuzz-chat", "production", "1.0.0", "fuzz");
      // Objects for path parameters that exist: a webhook, an evaluation run, a non-admin token.
      await post("/api/v1/webhooks", { url: "https://hooks.example.com/x", eventTypes: ["*"] });
      await post("/api/v1/models/support-assistant/versions/1.2.0/evals", { suite: demoSuite() });

      const logger = createLogger(
        "error",
        new Writable({
          write(chunk, _enc, done) {
            errorLogs.push(String(chunk).slice(0, 2000));
            done();
          },
        }),
      );
      mkdirSync(path.join(consoleDir, "assets"));
      writeFileSync(path.join(consoleDir, "index.html"), "<!doctype html><title>console</title>");
      writeFileSync(path.join(consoleDir, "assets", "app-1.js"), "export {};");
      app = createHttpApp(h.services, logger, { consoleDir });
      gateway = createGatewayRuntime({
        services: h.services,
        logger,
        clock: h.clock,
        config: {
          egressAllowHosts: [],
          gatewayBodies: { mode: "hash" },
          gatewayMaxBodyBytes: 4 * 1024 * 1024,
          gatewayBodyTimeoutMs: 30_000,
          gatewayRateLimitPerSec: 1_000_000,
          gatewayRateLimitBurst: 1_000_000,
          providerKeys: {},
        },
      });
      await gateway.start();
      await gateway.routing.refresh();
      const controlPlane = getRequestListener(app.fetch);
      server = createServer((req, res) => {
        if (gateway.handler.handles(req.url)) void gateway.handler.handle(req, res);
        else void controlPlane(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    after(async () => {
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server?.closeAllConnections();
      await gateway?.stop();
      await h?.services.requestLog.stop();
      await h?.services.feedbackLog.stop();
      await h?.cleanup();
      rmSync(consoleDir, { recursive: true, force: true });
    });

    test("no answer of 500 or more, every 4xx a problem naming the field and reason, the server up after", async () => {
      const started = performance.now();
      const doc = await readJson(await h.request("/api/v1/openapi.json"));
      const ops = operationsOf(doc);
      assert.ok(ops.length >= 70, `the OpenAPI document lists ${ops.length} operations`);

      const tokens = await readJson(await h.request("/api/v1/tokens"));
      const viewer = await h.tokenFor("fuzz-viewer", ["viewer"]);
      const agent = await h.tokenFor("fuzz-agent", ["agent"]);
      const engineer = await h.tokenFor("fuzz-engineer", ["engineering"]);
      const approvals = await readJson(await h.request("/api/v1/approvals?limit=50"));
      const evals = await readJson(await h.request("/api/v1/evals"));
      const webhooks = await readJson(await h.request("/api/v1/webhooks"));
      // The admin token is never a revocation target: the run would go on unauthenticated.
      const adminTokenId = (tokens as { id: string; name: string }[]).find((t) => t.name === "admin")?.id;
      assert.ok(adminTokenId);
      const listOf = (x: unknown): { id: string }[] =>
        Array.isArray(x) ? x : ((Object.values(x as object).find(Array.isArray) as { id: string }[]) ?? []);
      const ids = [
        ...listOf(approvals).map((a) => a.id),
        ...listOf(evals).map((e) => e.id),
        ...listOf(webhooks).map((w) => w.id),
        ...listOf(tokens)
          .map((t) => t.id)
          .filter((id) => id !== adminTokenId),
        "apr_missing",
        "run_missing",
        "whk_missing",
      ];
      assert.ok(ids.length > 6, "real objects to fuzz with");
      const pools = {
        path: {
          model: ["support-assistant", "fuzz-chat", "no-such-model"],
          version: ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "9.9.9", "1.0.0-rc.1+build"],
          alias: ["production", "canary", "staging", "fuzz"],
          id: ids,
          deliveryId: ["dlv_missing"],
        },
        authorization: [
          `Bearer ${h.adminToken}`,
          `Bearer ${viewer}`,
          `Bearer ${engineer}`,
          `Bearer ${agent}`,
        ],
      };
      const schemaCtx = { doc, hostile: true };
      const out: Outcome = { sent: 0, failures: new Map() };
      const inProcess = (r: FuzzRequest) =>
        app.request(r.url, {
          method: r.method,
          headers: r.headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
      const overHttp = (r: FuzzRequest) =>
        fetch(`${base}${r.url}`, {
          method: r.method,
          headers: r.headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
        });

      // Control plane: every operation of the OpenAPI document, in process.
      for (const op of ops) {
        const n = Math.ceil(PER_OPERATION * share);
        const reqs = fc.sample(requestsFor(op, schemaCtx, pools), {
          seed: seedFor(`${op.method} ${op.path}`),
          numRuns: n,
        });
        await send(`${op.method} ${op.path}`, reqs, inProcess, out);
      }

      // The gateway, over HTTP (it is a raw node:http handler).
      const gatewayOps: Operation[] = [
        {
          method: "POST",
          path: "/v1/chat/completions",
          params: [],
          body: { contentType: "application/json", schema: ChatSchema },
        },
        {
          method: "POST",
          path: "/v1/messages",
          params: [],
          body: { contentType: "application/json", schema: MessagesSchema },
        },
        {
          method: "POST",
          path: "/v1/feedback",
          params: [],
          body: {
            contentType: "application/json",
            schema: z.toJSONSchema(FeedbackSchema, { io: "input" }) as Schema,
          },
        },
        { method: "GET", path: "/v1/models", params: [] },
      ];
      const gatewayPools = {
        ...pools,
        authorization: [`Bearer ${agent}`, `Bearer ${h.adminToken}`, `Bearer ${viewer}`],
      };
      for (const op of gatewayOps) {
        const n = Math.ceil(PER_GATEWAY_ROUTE * share);
        const reqs = fc.sample(requestsFor(op, schemaCtx, gatewayPools), {
          seed: seedFor(`${op.method} ${op.path}`),
          numRuns: n,
        });
        await send(`${op.method} ${op.path}`, reqs, overHttp, out, 8);
      }

      // Bodies at and past the gateway's limit (4 MiB): 413, or served.
      const limit = 4 * 1024 * 1024;
      const atLimit = ["/v1/chat/completions", "/v1/messages", "/v1/feedback"].flatMap((url) =>
        [limit - 200, limit + 1].map((n) => ({
          method: "POST",
          url,
          headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "fuzz-chat",
            max_tokens: 5,
            requestId: "req_x",
            success: true,
            messages: [{ role: "user", content: "x".repeat(n - 120) }],
          }),
        })),
      );
      await send("gateway body limit", atLimit, overHttp, out, 2);

      // Everything else: probes, metrics, the console and its assets, unknown paths and methods.
      const other = fc.sample(otherRequests(pools.authorization[0]!), {
        seed: seedFor("other"),
        numRuns: Math.ceil(OTHER_PATHS * share),
      });
      await send("other paths", other, overHttp, out);

      // Still serving: a plain read in process and over HTTP.
      const models = await h.request("/api/v1/models/fuzz-chat");
      assert.equal(models.status, 200);
      const chat = await fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "fuzz-chat", messages: [{ role: "user", content: "still there?" }] }),
      });
      assert.equal(chat.status, 200, await chat.text());

      const seconds = (performance.now() - started) / 1000;
      const report = [...out.failures].map(([k, v]) => `${k}\n    ${v.join("\n    ")}`).join("\n");
      console.log(
        `fuzz on ${target.name}: seed ${SEED}, ${ops.length} operations + ${gatewayOps.length} gateway routes + other paths, ${out.sent} requests in ${seconds.toFixed(1)} s, ${out.failures.size} failure kinds`,
      );
      assert.equal(out.failures.size, 0, `answers that break the rule:\n${report}`);
      assert.ok(out.sent >= MIN_REQUESTS * share, `${out.sent} requests sent`);
      assert.deepEqual(errorLogs, [], "no error was logged");
    });
  });
}
