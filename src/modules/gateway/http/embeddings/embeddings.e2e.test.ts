import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { type Client, createClient } from "../../../../client/index.ts";
import { loadConfig } from "../../../../config.ts";
import { startServer } from "../../../../main.ts";
import { migratedDataDir } from "../../../../test-support/store-templates.ts";
import { SECTION_KEYS } from "../../../cards/card-sections.ts";

const ADMIN = "e2e-admin-token-embeddings-01";
const CARD = {
  metadata: {},
  sections: Object.fromEntries(SECTION_KEYS.map((k) => [k, `${k}.`])),
  extraSections: [],
};
const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe("POST /v1/embeddings with the official openai SDK (the demo workspace)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-emb-"));
  let server: Awaited<ReturnType<typeof startServer>>;
  let upstream: Server;
  let upstreamBodies: Record<string, unknown>[] = [];
  let admin: Client;
  let openai: OpenAI;
  let agent: string;

  before(async () => {
    // An OpenAI-compatible embeddings server on loopback: answers base64, as OpenAI does when asked.
    upstream = createServer((req, res) => {
      let text = "";
      req.on("data", (c) => {
        text += c;
      });
      req.on("end", () => {
        const body = JSON.parse(text) as { input: unknown[]; encoding_format?: string };
        upstreamBodies.push(body);
        const vec = Buffer.alloc(8);
        vec.writeFloatLE(0.6, 0);
        vec.writeFloatLE(0.8, 4);
        const data = body.input.map((_, index) => ({
          object: "embedding",
          index,
          embedding: body.encoding_format === "base64" ? vec.toString("base64") : [0.6, 0.8],
        }));
        const answer = JSON.stringify({
          object: "list",
          data,
          usage: { prompt_tokens: 11, total_tokens: 11 },
        });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(answer);
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const env = {
      MODELGOV_ADMIN_TOKEN: ADMIN,
      MODELGOV_EGRESS_ALLOW_HOSTS: "127.0.0.1",
      MODELGOV_GATEWAY_RATE_PER_SEC: "1000",
      MODELGOV_GATEWAY_RATE_BURST: "1000",
      MODELGOV_LOG_LEVEL: "silent",
    };
    server = await startServer(loadConfig({ port: 0, dataDir: await migratedDataDir(dir), demo: true }, env));
    admin = createClient({ baseUrl: server.url, token: ADMIN });
    agent = (await admin.tokens.create({ name: "search-bot", roles: ["agent"] })).token;
    const eng = (await admin.tokens.create({ name: "erin", roles: ["engineering"] })).token;
    // A model on an OpenAI-compatible embeddings server.
    await admin.models.create({ name: "ext-embed", owner: "ml", riskTier: "low", useCases: ["retrieval"] });
    await admin.versions.register("ext-embed", {
      version: "1.0.0",
      provider: "openai-compatible",
      providerModelId: "text-embedding-3-small",
      endpoint: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`,
      parameters: { embedding: { dimensions: 2 } },
      card: CARD,
    });
    const r = await admin.approvals.request("ext-embed", "1.0.0", "ship it");
    await createClient({ baseUrl: server.url, token: eng }).approvals.sign(r.id, {
      role: "engineering",
      decision: "approve",
    });
    await admin.aliases.set("ext-embed", "production", "1.0.0", "launch");
    await server.gateway.routing.refresh();
    openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: agent, maxRetries: 0 });
  });

  after(async () => {
    await server?.close();
    await new Promise((r) => upstream?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const raw = (body: unknown) =>
    fetch(`${server.url}/v1/embeddings`, {
      method: "POST",
      headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  test("the demo's support-embeddings: the SDK's default (base64) decodes to the float answer, unit vectors", async () => {
    const { data: viaBase64, response } = await openai.embeddings
      .create({ model: "support-embeddings", input: "hi" })
      .withResponse();
    assert.equal(response.headers.get("x-modelgov-model-version"), "support-embeddings@1.0.0");
    assert.equal(response.headers.get("x-modelgov-route"), "alias:production");
    const floats = await openai.embeddings.create({
      model: "support-embeddings",
      input: "hi",
      encoding_format: "float",
    });
    assert.equal(floats.object, "list");
    assert.equal(floats.model, "support-embeddings@1.0.0");
    assert.equal(floats.data[0]?.object, "embedding");
    assert.equal(floats.data[0]?.embedding.length, 256);
    assert.ok(Math.abs(norm(floats.data[0]!.embedding) - 1) < 1e-5);
    assert.deepEqual(viaBase64.data[0]?.embedding, floats.data[0]?.embedding);
    assert.deepEqual(floats.usage, { prompt_tokens: 1, total_tokens: 1 });
    // On the wire, base64 is a string of 256 float32 values.
    const wire = (await (
      await raw({ model: "support-embeddings", input: "hi", encoding_format: "base64" })
    ).json()) as {
      data: { embedding: string }[];
    };
    assert.equal(typeof wire.data[0]?.embedding, "string");
    assert.equal(Buffer.from(wire.data[0]!.embedding, "base64").length, 256 * 4);
  });

  test("a batch gets one vector per input, in order; dimensions shorten them; token arrays are input too", async () => {
    const batch = await openai.embeddings.create({
      model: "support-embeddings",
      input: ["refund", "where is my parcel", "refund"],
      dimensions: 64,
    });
    assert.deepEqual(
      batch.data.map((d) => [d.index, d.embedding.length]),
      [
        [0, 64],
        [1, 64],
        [2, 64],
      ],
    );
    assert.deepEqual(batch.data[0]?.embedding, batch.data[2]?.embedding);
    assert.notDeepEqual(batch.data[0]?.embedding, batch.data[1]?.embedding);
    const tokens = await openai.embeddings.create({ model: "support-embeddings", input: [[1, 2, 3], [4]] });
    assert.equal(tokens.data.length, 2);
    assert.equal(tokens.usage.prompt_tokens, 4);
  });

  test("refusals name the field, in OpenAI's error shape: wrong kind (both ways), unknown model, bad input, too many dimensions", async () => {
    await assert.rejects(
      openai.embeddings.create({ model: "support-assistant", input: "hi" }),
      (e: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(e.status, 400);
        assert.match(e.message, /support-assistant@1\.1\.0, a chat model/);
        return true;
      },
    );
    await assert.rejects(
      openai.chat.completions.create({
        model: "support-embeddings",
        messages: [{ role: "user", content: "hi" }],
      }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && /an embedding model/.test(e.message),
    );
    await assert.rejects(
      openai.embeddings.create({ model: "no-such-model", input: "hi" }),
      (e: InstanceType<typeof OpenAI.APIError>) => e.status === 404,
    );
    const cases: [unknown, string][] = [
      [{ model: "support-embeddings", input: "hi" }, ""],
      [{ model: "support-assistant", input: "hi" }, "body.model"],
      [{ model: "support-embeddings", input: [] }, "body.input"],
      [{ model: "support-embeddings", input: ["a", 3] }, "body.input.1"],
      [{ model: "support-embeddings", input: "hi", encoding_format: "int8" }, "body.encoding_format"],
      [{ model: "support-embeddings", input: "hi", dimensions: 257 }, "body.dimensions"],
      [{ input: "hi" }, "body.model"],
    ];
    for (const [body, field] of cases) {
      const res = await raw(body);
      if (!field) {
        assert.equal(res.status, 200);
        continue;
      }
      const p = (await res.json()) as {
        errors: { field: string }[];
        error: { type: string; message: string };
      };
      assert.equal(res.status, 400, JSON.stringify(p));
      assert.equal(p.errors[0]?.field, field);
      assert.equal(p.error.type, "invalid_request_error");
    }
  });

  test("an OpenAI-compatible version: the SDK's request reaches {endpoint}/embeddings; its usage is the logged one", async () => {
    upstreamBodies = [];
    const r = await openai.embeddings.create({ model: "ext-embed", input: ["a", "b"], user: "u-9" });
    assert.deepEqual(upstreamBodies, [
      { model: "text-embedding-3-small", input: ["a", "b"], encoding_format: "base64", user: "u-9" },
    ]);
    assert.deepEqual(
      r.data.map((d) => d.embedding),
      [
        [Math.fround(0.6), Math.fround(0.8)],
        [Math.fround(0.6), Math.fround(0.8)],
      ],
    );
    assert.equal(r.usage.prompt_tokens, 11);
  });

  test("each call is a request-log row (endpoint embeddings, input tokens, cost at the version's price) and a metric", async () => {
    const { response } = await openai.embeddings
      .create({ model: "support-embeddings", input: "x".repeat(4000) })
      .withResponse();
    const id = response.headers.get("x-modelgov-request-id")!;
    await server.services.requestLog.flush();
    const [row] = await server.services.db.query<{
      endpoint: string;
      version: string;
      status: number;
      tokens_in: number;
      tokens_out: number;
      cost_usd: number;
      total_ms: number;
      stream: boolean;
    }>(
      "SELECT endpoint, version, status, tokens_in, tokens_out, cost_usd, total_ms, stream FROM request_log WHERE id = $1",
      [id],
    );
    assert.equal(row?.endpoint, "embeddings");
    assert.equal(row?.version, "1.0.0");
    assert.equal(row?.status, 200);
    assert.equal(row?.tokens_in, 1000);
    assert.equal(row?.tokens_out, 0);
    // The demo's price: $0.00002 per 1k input tokens.
    assert.ok(Math.abs(row!.cost_usd - 0.00002) < 1e-12, String(row?.cost_usd));
    assert.ok(row!.total_ms > 0);
    assert.equal(row?.stream, false);
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    assert.match(
      metrics,
      /modelgov_gateway_requests_total\{[^}]*model="support-embeddings"[^}]*endpoint="embeddings"[^}]*\} \d+/,
    );
  });
});
