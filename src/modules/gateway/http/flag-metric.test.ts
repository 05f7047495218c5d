import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { createClient } from "../../../client/index.ts";
import { createLogger } from "../../../lib/logger.ts";
import { CARD } from "../../../test-support/router-fixtures.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../../test-support/stores.ts";
import { FlagInputSchema } from "../../flags/index.ts";
import { createGatewayRuntime, type GatewayRuntime } from "../runtime.ts";

const SIM = { latencyMs: { p50: 0, p95: 0 }, errorRate: 0, tokens: { output: 4 } };

// A gateway request whose route defers to a flag counts in the same counter as OFREP and the
// API, through the runtime modelgov serve wires (services.countFlagEvaluation).
for (const target of allStoreTargets()) {
  describe(`route flag evaluations in /metrics on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let gw: GatewayRuntime;
    let server: Server;
    let url = "";
    let agent = "";

    before(async () => {
      h = await openHarness(target, { openProductionGate: true });
      const admin = createClient({ baseUrl: "http://modelgov.test", token: h.adminToken, fetch: h.fetch });
      agent = await h.tokenFor("bot", ["agent"]);
      await admin.models.create({ name: "chat", owner: "ml", riskTier: "low", useCases: ["support"] });
      for (const version of ["1.0.0", "1.1.0"])
        await admin.versions.register("chat", {
          version,
          provider: "simulator",
          providerModelId: "sim",
          parameters: SIM,
          card: CARD,
        });
      await admin.aliases.set("chat", "production", "1.0.0", "launch");
      await admin.aliases.set("chat", "canary", "1.1.0", "try");
      // The canary has no approval: this suite is about counting, the gate is skipped here and
      // every version counts as approved in the gateway below.
      await h.services.flags.put(
        ctx(),
        FlagInputSchema.parse({
          key: "chat.version",
          type: "string",
          variants: { production: "chat@production", canary: "chat@canary" },
          defaultVariant: "production",
          rules: [{ when: { tenant: "internal" }, variant: "canary" }],
        }),
        "create",
        { skipReleaseGate: true },
      );
      await admin.routes.set("chat", { flag: "chat.version" });
      gw = createGatewayRuntime({
        services: { ...h.services, approvedIds: async (ids) => new Set(ids) },
        logger: createLogger("silent"),
        clock: h.clock,
        config: {
          egressAllowHosts: ["127.0.0.1"],
          gatewayBodies: { mode: "hash" },
          gatewayMaxBodyBytes: 1 << 20,
          gatewayBodyTimeoutMs: 30_000,
          gatewayRateLimitPerSec: 1_000_000,
          gatewayRateLimitBurst: 1_000_000,
          providerKeys: {},
        },
      });
      await gw.start();
      server = createServer((req, res) => void gw.handler.handle(req, res));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    after(async () => {
      if (server) {
        await new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections();
      }
      await gw?.stop();
      await h?.cleanup();
    });

    const chat = async (tenant?: string) => {
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${agent}`,
          "content-type": "application/json",
          ...(tenant ? { "x-modelgov-context-tenant": tenant } : {}),
        },
        body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
      });
      await res.arrayBuffer();
      assert.equal(res.status, 200);
      return res.headers.get("x-modelgov-route");
    };
    const count = async (variant: string, reason: string) => {
      const text = (await h.services.metrics.render()).body;
      const m = new RegExp(
        `^modelgov_flag_evaluations_total\\{flag="chat\\.version",variant="${variant}",reason="${reason}"\\} (\\d+)$`,
        "m",
      ).exec(text);
      return m ? Number(m[1]) : 0;
    };

    test("each request the flag decides counts once, under the variant and reason that served it", async () => {
      assert.match((await chat("internal")) ?? "", /flag:chat\.version=canary \(TARGETING_MATCH\)/);
      await chat("internal");
      assert.match((await chat("acme")) ?? "", /flag:chat\.version=production \(DEFAULT\)/);
      assert.equal(await count("canary", "TARGETING_MATCH"), 2);
      assert.equal(await count("production", "DEFAULT"), 1);
      // model@alias bypasses the route's flag: nothing counted.
      const pinned = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "chat@production", messages: [{ role: "user", content: "hi" }] }),
      });
      await pinned.arrayBuffer();
      assert.equal(pinned.status, 200);
      assert.equal(await count("production", "DEFAULT"), 1);
    });
  });
}
