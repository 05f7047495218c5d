import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, describe, test } from "node:test";
import { systemClock } from "../../../../lib/clock.ts";
import { createLogger } from "../../../../lib/logger.ts";
import { createSimulatorAdapter } from "../../../../providers/simulator/adapter.ts";
import { SimulatorParametersSchema } from "../../../../providers/simulator/registration.ts";
import { UpstreamError } from "../../../../providers/types.ts";
import { passThroughTranslate, readWholeBody } from "../../../../test-support/gateway-fakes.ts";
import type { FallbackStep } from "../../resilience/fallback.ts";
import type { KillInfo, RoutableVersion, RoutingSnapshot } from "../../routing/snapshot.ts";
import type { BodyPolicy, GatewayDeps, GatewayLogEntry } from "../deps.ts";
import { createGatewayHandler } from "../handler.ts";

const sim = (id: string, version: string, parameters: Record<string, unknown>): RoutableVersion => ({
  id,
  model: "e",
  version,
  status: "production",
  provider: "simulator",
  providerModelId: `sim-${version}`,
  endpoint: null,
  parameters: SimulatorParametersSchema.parse({ latencyMs: { p50: 0, p95: 0 }, seed: 3, ...parameters }),
  refusal: null,
  price: { inputPer1kUsd: 0.5, outputPer1kUsd: 9 },
});
const primary = sim("ver_2", "2.0.0", { embedding: { dimensions: 8 } });
const chatFallback = sim("ver_1", "1.0.0", {});
const embedFallback = sim("ver_15", "1.5.0", { embedding: { dimensions: 8 } });

const snapshotOf = (versions: RoutableVersion[], fallback: RoutableVersion[]): RoutingSnapshot => ({
  position: 1,
  models: new Map([
    [
      "e",
      {
        id: "mdl_e",
        name: "e",
        aliases: { production: versions[0]!.version },
        shadow: null,
        splitScope: null,
        versions: new Map(versions.map((v) => [v.version, v])),
        byId: new Map(versions.map((v) => [v.id, v])),
        split: null,
        fallback,
        allowPinning: true,
        timeouts: { totalMs: 1000, firstByteMs: 1000, idleMs: 1000 },
        breaker: null,
      },
    ],
  ]),
});

/**
 * A gateway over fakes whose `execute` walks the chain as the resilience layer does (the
 * primary fails when `failPrimary`), recording the chain it was given.
 */
function gateway(snapshot: RoutingSnapshot, bodies: BodyPolicy = { mode: "off" }, failPrimary = false) {
  const logged: GatewayLogEntry[] = [];
  const chains: string[][] = [];
  const kills: string[] = [];
  const simulator = createSimulatorAdapter({ clock: systemClock, random: () => 0.5 });
  const deps: GatewayDeps = {
    routing: { current: () => snapshot, onChange: () => {} },
    authenticate: async () => ({ tokenId: "tok_1", name: "bot", roles: ["agent"] }),
    adapters: { simulator } as GatewayDeps["adapters"],
    async execute(chain, attempt, o) {
      chains.push(chain.map((v) => v.version));
      const path: FallbackStep[] = [];
      for (const [i, v] of chain.entries()) {
        try {
          if (i === 0 && failPrimary) throw new UpstreamError("http", "down", { status: 503 });
          const result = await attempt(v, o.signal, 1);
          path.push({ versionId: v.id, version: v.version, outcome: "served", attempts: 1, durationMs: 1 });
          return { result, servedBy: v, path };
        } catch (err) {
          path.push({
            versionId: v.id,
            version: v.version,
            outcome: "failed",
            reason: (err as Error).message,
            attempts: 1,
            gaveUp: "max_attempts",
            durationMs: 1,
          });
        }
      }
      throw new Error("all failed");
    },
    translate: passThroughTranslate,
    readBody: readWholeBody,
    rateLimit: () => ({ ok: true, retryAfterSec: 0, limit: 20, ratePerSec: 10 }),
    log: (e) => logged.push(e),
    observeKill: (scope, outcome) => kills.push(`${scope}:${outcome}`),
    feedback: async () => ({ status: 202, body: {} }),
    apiKeyFor: () => undefined,
    bodies,
  };
  return { handler: createGatewayHandler(deps, createLogger("silent")), logged, chains, kills };
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});
async function post(g: ReturnType<typeof gateway>, path: string, body: unknown) {
  const server = createServer((req, res) => void g.handler.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  servers.push(server);
  const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer t", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { res, json: (await res.json()) as Record<string, unknown> };
}

describe("embeddings through the gateway's chain", () => {
  test("a chat version in the fallback chain is dropped; a failed primary falls back to the next embedding version", async () => {
    const g = gateway(
      snapshotOf([primary, chatFallback, embedFallback], [chatFallback, embedFallback]),
      { mode: "off" },
      true,
    );
    const { res, json } = await post(g, "/v1/embeddings", { model: "e", input: ["abcd", "efgh"] });
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.deepEqual(g.chains, [["2.0.0", "1.5.0"]]);
    assert.equal(res.headers.get("x-modelgov-model-version"), "e@1.5.0");
    assert.match(res.headers.get("x-modelgov-route") ?? "", /fallback to 1\.5\.0/);
    const [entry] = g.logged;
    assert.equal(entry?.endpoint, "embeddings");
    assert.equal(entry?.version, "1.5.0");
    assert.equal(entry?.tokensIn, 2);
    assert.equal(entry?.tokensOut, 0);
    // Input tokens at the version's input price; the output price never applies.
    assert.equal(entry?.costUsd, (2 / 1000) * 0.5);
    assert.deepEqual(
      entry?.fallbackPath.map((p) => p.outcome),
      ["failed", "served"],
    );
  });

  test("a pinned chat version is refused on /v1/embeddings, and a chat request to an embedding version on chat", async () => {
    const g = gateway(snapshotOf([primary, chatFallback], [chatFallback]));
    const a = await post(g, "/v1/embeddings", { model: "e@1.0.0", input: "hi" });
    assert.equal(a.res.status, 400);
    assert.deepEqual(a.json.errors, [
      { field: "body.model", reason: (a.json.error as { message: string }).message },
    ]);
    assert.match(String(a.json.detail), /'e@1\.0\.0' resolves to e@1\.0\.0, a chat model/);
    const b = await post(g, "/v1/chat/completions", {
      model: "e",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(b.res.status, 400);
    assert.match(String(b.json.detail), /an embedding model; call \/v1\/embeddings/);
    assert.equal(g.logged.length, 0, "a refusal before routing writes no row, as on chat");
  });

  test("a kill switch on the only version refuses with the switch named; the log keeps hashes when asked", async () => {
    const killed: KillInfo = {
      id: "ks_1",
      scope: "version",
      target: "e@2.0.0",
      reason: "leaking vectors",
      engagedBy: "ops",
      engagedAt: "2026-12-01T00:00:00Z",
    };
    const off = gateway(snapshotOf([{ ...primary, killed }], []));
    const r = await post(off, "/v1/embeddings", { model: "e", input: "hi" });
    assert.equal(r.res.status, 503);
    assert.equal(r.res.headers.get("x-modelgov-route"), "kill-switch ks_1");
    assert.deepEqual(off.kills, ["version:refused"]);

    const hashed = gateway(snapshotOf([primary], []), { mode: "hash" });
    const ok = await post(hashed, "/v1/embeddings", { model: "e", input: "hi", encoding_format: "base64" });
    assert.equal(ok.res.status, 200);
    assert.match(hashed.logged[0]?.promptHash ?? "", /^sha256:[0-9a-f]{64}$/);
    const data = ok.json.data as { embedding: string }[];
    assert.equal(Buffer.from(data[0]!.embedding, "base64").length, 8 * 4);
  });
});
