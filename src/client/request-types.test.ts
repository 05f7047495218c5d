import assert from "node:assert/strict";
import { test } from "node:test";
import { type Client, createClient } from "./index.ts";

/**
 * Type-level checks, compiled by `npm test`'s typecheck: request bodies and queries are the
 * schemas' inputs, so a field the server defaults may be left out, and a required one may not.
 * Never called; the runtime test below checks what goes on the wire.
 */
export async function minimalRequests(c: Client) {
  await c.models.create({ name: "m", owner: "team", riskTier: "low" });
  await c.versions.register("m", { version: "1.0.0", provider: "simulator", providerModelId: "sim" });
  await c.cards.put("m", "1.0.0", { sections: { model_details: "A model." } });
  await c.tokens.create({ name: "bot", roles: ["agent"] });
  await c.approvals.sign("apr_1", { role: "engineering", decision: "approve" });
  await c.approvals.attachEvidence("m", "1.0.0", {
    kind: "benchmark",
    uri: "s3://r",
    contentHash: "sha256:00",
    passed: true,
  });
  await c.approvals.setPolicy({ rules: [{ name: "all", roles: { engineering: 1 } }] });
  await c.routes.set("m", { split: [{ version: "1.0.0", weight: 100 }] });
  await c.evals.start("m", "1.0.0", { suite: {} });
  await c.experiments.create("m", {
    name: "ab",
    arms: [
      { name: "a", version: "1.0.0", weight: 50 },
      { name: "b", version: "1.1.0", weight: 50 },
    ],
  });
  // Queries: a coerced number is typed as the number it becomes.
  await c.models.list({ limit: 10 });
  await c.audit.events({ order: "desc", limit: 5 });
  await c.evals.cases("evr_1", { after: 2 });
  // @ts-expect-error riskTier has no default: still required
  await c.models.create({ name: "m", owner: "team" });
  // @ts-expect-error providerModelId has no default: still required
  await c.versions.register("m", { version: "1.0.0", provider: "simulator" });
  // @ts-expect-error a query's limit is a number, not any value
  await c.models.list({ limit: {} });
}

test("the client sends the body as given: the server, not the client, fills the defaults", async () => {
  const sent: { url: string; body: unknown }[] = [];
  const client = createClient({
    baseUrl: "http://modelgov.test/",
    fetch: async (url, init) => {
      sent.push({ url, body: JSON.parse(String(init?.body)) });
      return new Response("{}", { status: 201, headers: { "content-type": "application/json" } });
    },
  });
  await client.models.create({ name: "m", owner: "team", riskTier: "low" });
  await client.versions.register("m", { version: "1.0.0", provider: "simulator", providerModelId: "sim" });
  assert.deepEqual(sent, [
    { url: "http://modelgov.test/api/v1/models", body: { name: "m", owner: "team", riskTier: "low" } },
    {
      url: "http://modelgov.test/api/v1/models/m/versions",
      body: { version: "1.0.0", provider: "simulator", providerModelId: "sim" },
    },
  ]);
});
