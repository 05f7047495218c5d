import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { type Client, createClient } from "../../client/index.ts";
import { createLogger } from "../../lib/logger.ts";
import { createServices } from "../../services.ts";
import { type Db, openPostgres } from "../../store/db.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { startFakeOpenAI } from "../../test-support/fake-openai.ts";
import type { FakeUpstream } from "../../test-support/fake-server.ts";
import { routedVersion, timeUntil } from "../../test-support/replicas.ts";
import { CARD } from "../../test-support/router-fixtures.ts";
import { allStoreTargets, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { createEvalInvoker } from "../evals/index.ts";
import { createGatewayRuntime, type GatewayRuntime } from "../gateway/runtime.ts";

const logger = createLogger("silent");
const SIM = { latencyMs: { p50: 0, p95: 0 }, errorRate: 0, tokens: { output: 4 } };

for (const target of allStoreTargets()) {
  describe(`kill switches on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let fake: FakeUpstream;
    let admin: Client;
    let agent: string;
    let db2: Db | null = null;
    const replicas: { gw: GatewayRuntime; server: Server; url: string }[] = [];

    /**
     * A gateway replica: its own routing snapshot and LISTEN. On PostgreSQL the second one has
     * its own pool and services too, so the NOTIFY crosses connections as between hosts.
     */
    async function startReplica(services: Harness["services"]) {
      const gw = createGatewayRuntime({
        // Every version counts as approved: this suite is about switches, not the approval gate.
        services: { ...services, approvedIds: async (ids) => new Set(ids) },
        logger,
        clock: h.clock,
        config: {
          egressAllowHosts: ["127.0.0.1"],
          gatewayBodies: { mode: "hash" },
          gatewayMaxBodyBytes: 1 << 20,
          gatewayBodyTimeoutMs: 30_000,
          gatewayRateLimitPerSec: 1_000_000,
          gatewayRateLimitBurst: 1_000_000,
          providerKeys: { FAKE_KEY: "sk-fake" },
        },
      });
      await gw.start();
      const server = createServer((req, res) => void gw.handler.handle(req, res));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      replicas.push({ gw, server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
    }

    before(async () => {
      h = await openHarness(target, { openProductionGate: true });
      fake = await startFakeOpenAI();
      admin = createClient({ baseUrl: "http://modelgov.test", token: h.adminToken, fetch: h.fetch });
      agent = await h.tokenFor("bot", ["agent"]);
      await admin.models.create({ name: "chat", owner: "ml", riskTier: "low", useCases: ["support"] });
      await admin.versions.register("chat", {
        version: "1.1.0",
        provider: "openai-compatible",
        providerModelId: "gpt-fake",
        endpoint: fake.url,
        parameters: { apiKeyEnv: "FAKE_KEY" },
        card: CARD,
      });
      await admin.versions.register("chat", {
        version: "1.2.0",
        provider: "simulator",
        providerModelId: "sim",
        parameters: SIM,
        card: CARD,
      });
      await admin.aliases.set("chat", "production", "1.2.0", "launch");
      await admin.routes.set("chat", { fallback: ["1.1.0"], allowPinning: true });
      await startReplica(h.services);
      if (h.db.listenUrl) {
        db2 = openPostgres(h.db.listenUrl, { max: 2 });
        await startReplica(createServices({ db: db2, clock: h.clock }));
      } else await startReplica(h.services);
    });

    after(async () => {
      for (const r of replicas) {
        await new Promise<void>((res) => r.server.close(() => res()));
        r.server.closeAllConnections();
        await r.gw.stop();
      }
      await db2?.close();
      await fake?.close();
      await h?.cleanup();
    });

    const post = (body: unknown, token = h.adminToken) =>
      h.request(
        "/api/v1/kill-switches",
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
        token,
      );
    const chat = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${agent}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "chat", messages: [{ role: "user", content: "hi" }] }),
      });
    /** The ids `GET /v1/models` lists to the agent. */
    const listed = async (url: string) =>
      (
        (await (
          await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${agent}` } })
        ).json()) as {
          data: { id: string }[];
        }
      ).data.map((m) => m.id);
    /** Milliseconds until every replica routes `chat` to `want`; fails past one second. */
    const everyReplica = (want: string) =>
      timeUntil(
        async () =>
          (await Promise.all(replicas.map((r) => routedVersion(r.url, agent, "chat")))).every(
            (v) => v === want,
          ),
        1000,
        `every replica answering ${want}`,
      );
    /** An evaluation's call of chat@1.2.0 (a fresh invoker: nothing cached). */
    const evaluate = async () => {
      const gw = replicas[0]!.gw;
      const [v] = await h.db.query<{ id: string }>("SELECT id FROM model_versions WHERE version = '1.2.0'");
      const invoker = createEvalInvoker({ db: h.db, adapters: gw.adapters, apiKeyFor: gw.apiKeyFor });
      return invoker.call(v!.id, [{ role: "user", content: "hi" }], {
        requestId: "eval-1",
        signal: new AbortController().signal,
      });
    };
    const auditOf = (id: string) =>
      h.db.query<{ action: string; reason: string; actor: string }>(
        "SELECT action, reason, actor FROM audit_events WHERE subject_id = $1 ORDER BY position",
        [id],
      );

    test("bad input is a problem naming the field; only admins pull a switch", async () => {
      const cases: [unknown, string, RegExp][] = [
        [{ scope: "model", target: "chat@1.2.0", reason: "x" }, "body.scope", /version|provider/],
        [
          { scope: "provider", target: "openia", reason: "x" },
          "body.target",
          /unknown provider 'openia'; one of openai/,
        ],
        [
          { scope: "version", target: "chat@9.9.9", reason: "x" },
          "body.target",
          /version 9\.9\.9 of 'chat' is not registered/,
        ],
        [{ scope: "version", target: "chat", reason: "x" }, "body.target", /model@version/],
        [{ scope: "version", target: "chat@1.2.0" }, "body.reason", /required/],
        [{ scope: "version", target: "chat@1.2.0", reason: "   " }, "body.reason", /required/],
      ];
      for (const [body, field, reason] of cases) {
        const res = await post(body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const p = await readJson(res);
        assert.equal(p.errors[0].field, field, JSON.stringify(p));
        assert.match(p.errors[0].reason, reason);
      }
      const eng = await h.tokenFor("eve", ["engineering"]);
      const refused = await post({ scope: "provider", target: "openai", reason: "x" }, eng);
      assert.equal(refused.status, 403);
      assert.match((await readJson(refused)).detail, /killswitches:write/);
      assert.equal((await admin.killSwitches.list()).items.length, 0);
    });

    test("the CLI says what is wrong with a usage it cannot take (exit 2)", async () => {
      const both = await runCliAs(h.fetch, h.adminToken, ["kill", "engage", "--reason", "no target given"]);
      assert.equal(both.code, 2);
      assert.match(both.err, /error: give exactly one of --version and --provider/);
    });

    test("a killed provider: every replica falls back past its versions within a second; the route header names the switch", async () => {
      const engaged = await runCliAs(h.fetch, h.adminToken, [
        "kill",
        "engage",
        "--provider",
        "simulator",
        "--reason",
        "simulator answers garbage",
        "--json",
      ]);
      assert.equal(engaged.code, 0, engaged.err);
      const sw = JSON.parse(engaged.out);
      const ms = await everyReplica("chat@1.1.0");
      assert.ok(ms < 1000);
      const res = await chat(replicas[1]!.url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-modelgov-route"), `alias:production; kill-switch ${sw.id} -> 1.1.0`);
      assert.deepEqual(await listed(replicas[1]!.url), ["chat"], "served by its fallback: still listed");
      assert.deepEqual(await auditOf(sw.id), [
        { action: "kill_switch.engaged", reason: "simulator answers garbage", actor: "admin" },
      ]);
      const again = await post({ scope: "provider", target: "simulator", reason: "twice" });
      assert.equal(again.status, 409);
      assert.match((await readJson(again)).detail, new RegExp(`already switched off by ${sw.id}`));
    });

    test("nothing left: 503 problem+json naming the switch, its reason and who engaged it; metrics count it", async () => {
      const [provider] = (await admin.killSwitches.list({ state: "engaged" })).items;
      const v = await admin.killSwitches.engage({
        scope: "version",
        target: "chat@1.1.0",
        reason: "bad canary",
      });
      assert.equal(v.target, "chat@1.1.0");
      await everyReplica("status 503");
      for (const r of replicas) {
        const res = await chat(r.url);
        assert.equal(res.status, 503);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        assert.equal(res.headers.get("x-modelgov-route"), `kill-switch ${provider!.id}`);
        const p = await readJson(res);
        assert.equal(p.code, "unavailable");
        assert.equal(p.errors[0].field, "body.model");
        assert.deepEqual(
          { id: p.killSwitch.id, reason: p.killSwitch.reason, by: p.killSwitch.engagedBy },
          { id: provider!.id, reason: "simulator answers garbage", by: "admin" },
        );
        assert.match(p.detail, /simulator answers garbage/);
      }
      // OpenAI clients take /v1/models as what they may call: nothing servable, not listed.
      for (const r of replicas) assert.deepEqual(await listed(r.url), []);
      await assert.rejects(
        evaluate(),
        /chat@1\.2\.0 is switched off by kill switch ksw_\w+ \(provider simulator.*not called/,
      );
      const text = (await h.services.metrics.render()).body;
      assert.match(text, /modelgov_kill_switches_engaged\{scope="provider"\} 1/);
      assert.match(text, /modelgov_kill_switches_engaged\{scope="version"\} 1/);
      assert.match(text, /modelgov_kill_switch_requests_total\{scope="provider",outcome="refused"\} [1-9]/);
      assert.match(text, /modelgov_kill_switch_requests_total\{scope="provider",outcome="diverted"\} [1-9]/);
    });

    test("release restores service on every replica; the history stays, and a switch is released once", async () => {
      const engaged = (await admin.killSwitches.list({ state: "engaged" })).items;
      const provider = engaged.find((s) => s.scope === "provider")!;
      const released = await runCliAs(h.fetch, h.adminToken, [
        "kill",
        "release",
        provider.id,
        "--reason",
        "simulator fixed",
      ]);
      assert.equal(released.code, 0, released.err);
      assert.match(released.out, new RegExp(`${provider.id}: provider simulator released by admin`));
      await everyReplica("chat@1.2.0");
      assert.ok((await evaluate()).text.length > 0);
      const version = engaged.find((s) => s.scope === "version")!;
      await admin.killSwitches.release(version.id, "canary fixed");
      const again = await h.request(`/api/v1/kill-switches/${version.id}`, {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "again" }),
      });
      assert.equal(again.status, 409);
      const missing = await h.request("/api/v1/kill-switches/ksw_nope", {
        method: "DELETE",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ reason: "x" }),
      });
      assert.equal(missing.status, 404);
      assert.deepEqual(
        (await auditOf(provider.id)).map((e) => [e.action, e.reason]),
        [
          ["kill_switch.engaged", "simulator answers garbage"],
          ["kill_switch.released", "simulator fixed"],
        ],
      );
      const all = (await admin.killSwitches.list()).items;
      assert.deepEqual(
        all.map((s) => [s.target, s.state, s.releaseReason]),
        [
          ["chat@1.1.0", "released", "canary fixed"],
          ["simulator", "released", "simulator fixed"],
        ],
      );
      assert.equal((await admin.killSwitches.list({ state: "engaged" })).items.length, 0);
      const listed = await runCliAs(h.fetch, h.adminToken, ["kill", "list"]);
      assert.match(listed.out, /simulator fixed|released/);
      await assert.rejects(h.db.query("DELETE FROM kill_switches"), /never deleted/);
      const text = (await h.services.metrics.render()).body;
      assert.match(text, /modelgov_kill_switches_engaged\{scope="provider"\} 0/);
    });

    test("two engages of one target at once: one switch, the other a 409 naming the field", async () => {
      const body = { scope: "provider", target: "anthropic", reason: "racing" };
      const answers = await Promise.all([post(body), post(body)]);
      assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409]);
      const lost = await readJson(answers.find((r) => r.status === 409)!);
      assert.equal(lost.errors[0].field, "body.target");
      assert.equal((await admin.killSwitches.list({ state: "engaged" })).items.length, 1);
    });
  });
}
