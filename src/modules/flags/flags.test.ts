import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { getRequestListener } from "@hono/node-server";
import { OFREPApi } from "@openfeature/ofrep-core";
import { OFREPProvider } from "@openfeature/ofrep-provider";
import { type Client, ErrorCode, OpenFeature } from "@openfeature/server-sdk";
import { DEMO_FLAG, seedDemo } from "../../demo/seed.ts";
import { AppError } from "../../lib/errors.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { allStoreTargets, ctx, type Harness, openHarness, readJson } from "../../test-support/stores.ts";
import { listAudit } from "../audit/index.ts";
import { type FlagInput, FlagInputSchema } from "./flags.schemas.ts";

const rejects = async (p: Promise<unknown>, code: AppError["code"], field: string) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${err}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.errors[0]?.field, field, err.message);
    return true;
  });
};

const flag = (over: Partial<FlagInput> & { key: string }): FlagInput =>
  FlagInputSchema.parse({
    type: "string",
    variants: { on: "on", off: "off" },
    defaultVariant: "off",
    rules: [{ when: { tenant: "internal" }, variant: "on" }],
    ...over,
  });

// One store per target: the demo workspace seeded (its versions: 1.0.0 deprecated, 1.1.0
// production, 1.2.0 canary with its approval pending, 2.0.0 in development), so the release
// gate and the demo flag are tested on the same data the demo serves.
for (const target of allStoreTargets()) {
  describe(`flags on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let server: Server;
    let baseUrl: string;
    before(async () => {
      h = await openHarness(target);
      assert.equal(await seedDemo(h.services), true);
      server = createServer(getRequestListener(h.app.fetch));
      await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await OpenFeature.close();
      await new Promise((ok) => server.close(ok));
      await h.cleanup();
    });
    const svc = () => h.services.flags;

    test("every change is a revision and an audit event; an identical write is no change; history as of T", async () => {
      const t0 = h.clock.now().toISOString();
      const created = await svc().put(ctx("eve"), flag({ key: "summariser" }), "create");
      assert.equal(created.change, "created");
      assert.equal(created.flag.revision, 1);
      await rejects(svc().put(ctx(), flag({ key: "summariser" }), "create"), "conflict", "key");
      assert.equal((await svc().put(ctx(), flag({ key: "summariser" }), "upsert")).change, "unchanged");
      h.clock.advance(60_000);
      const t1 = h.clock.now().toISOString();
      const updated = await svc().put(ctx(), flag({ key: "summariser", defaultVariant: "on" }), "upsert");
      assert.deepEqual([updated.change, updated.flag?.revision], ["updated", 2]);
      h.clock.advance(60_000);
      await svc().setEnabled(ctx(), "summariser", false);
      await svc().remove(ctx("eve"), "summariser");
      await assert.rejects(svc().get("summariser"), /not found/);

      const history = await svc().history("summariser");
      assert.deepEqual(
        history.map((r) => [r.revision, r.change, r.flag?.enabled ?? null]),
        [
          [4, "deleted", null],
          [3, "disabled", false],
          [2, "updated", true],
          [1, "created", true],
        ],
      );
      assert.equal((await svc().get("summariser", t0)).defaultVariant, "off", "as of its creation");
      assert.equal((await svc().get("summariser", t1)).defaultVariant, "on", "as of the update");
      await assert.rejects(svc().get("summariser", "2020-01-01T00:00:00Z"), /not found/);
      const events = await listAudit(h.db, { subjectType: "flag", subjectId: "summariser" });
      assert.deepEqual(
        events.map((e) => e.action),
        ["flag.created", "flag.updated", "flag.disabled", "flag.deleted"],
      );
      await assert.rejects(h.db.query("DELETE FROM flag_revisions"), /append-only/);
      // Re-created after a delete: the numbering goes on, the old history stays.
      const again = await svc().put(ctx(), flag({ key: "summariser" }), "create");
      assert.equal(again.flag?.revision, 5);
    });

    test("two creates racing on one key: one flag, one revision, the other a 409", async () => {
      const results = await Promise.allSettled([
        svc().put(ctx(), flag({ key: "race" }), "create"),
        svc().put(ctx(), flag({ key: "race", defaultVariant: "on" }), "create"),
      ]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assert.equal((lost.reason as AppError).code, "conflict");
      assert.equal((await svc().history("race")).length, 1);
    });

    test("release gate: a variant naming a version the gateway would not serve is refused (422 naming it)", async () => {
      const versions = (v: Record<string, string>) =>
        flag({ key: "assistant", variants: v, defaultVariant: "a" });
      const ok = await svc().put(
        ctx(),
        versions({
          a: "support-assistant@1.1.0",
          on: "support-assistant@production",
          b: "support-assistant@1.0.0",
          c: "ops@example.com",
        }),
        "create",
      );
      assert.equal(
        ok.change,
        "created",
        "production, its alias, a deprecated version and a non-model string pass",
      );
      await rejects(
        svc().put(ctx(), versions({ a: "support-assistant@1.1.0", on: "support-assistant@1.2.0" }), "upsert"),
        "unprocessable",
        "variants.on",
      );
      await rejects(
        svc().put(
          ctx(),
          versions({ a: "support-assistant@1.1.0", on: "support-assistant@canary" }),
          "upsert",
        ),
        "unprocessable",
        "variants.on",
      );
      await rejects(
        svc().put(ctx(), versions({ a: "typo@1.0.0", on: "x" }), "upsert"),
        "unprocessable",
        "variants.a",
      );
      await rejects(
        svc().put(ctx(), versions({ a: "support-assistant@9.9.9", on: "x" }), "upsert"),
        "unprocessable",
        "variants.a",
      );
      assert.equal((await svc().get("assistant")).revision, 1, "nothing refused was written");

      const res = await h.request("/api/v1/flags/assistant", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(versions({ a: "support-assistant@2.0.0", on: "x" })),
      });
      assert.equal(res.status, 422);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      const problem = await readJson(res);
      assert.equal(problem.errors[0].field, "variants.a");
      assert.match(problem.errors[0].reason, /development without an approval in force/);
    });

    test("HTTP: roles, validation naming the field, history and asOf", async () => {
      const viewer = await h.tokenFor("vic", ["viewer"]);
      const engineer = await h.tokenFor("eng", ["engineering"]);
      const post = (body: unknown, token: string) =>
        h.request(
          "/api/v1/flags",
          { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
          token,
        );
      const body = {
        key: "checkout.v2",
        type: "boolean",
        variants: { on: true, off: false },
        defaultVariant: "off",
      };
      assert.equal((await post(body, viewer)).status, 403);
      const bad = await post(
        { ...body, rules: [{ when: { tenant: { $nope: 1 } }, variant: "on" }] },
        engineer,
      );
      assert.equal(bad.status, 400);
      assert.equal((await readJson(bad)).errors[0].field, "rules.0.when.tenant.$nope");
      const wrongType = await post({ ...body, variants: { on: "yes", off: false } }, engineer);
      assert.equal((await readJson(wrongType)).errors[0].field, "variants.on");
      const created = await post(body, engineer);
      assert.equal(created.status, 201);
      assert.equal((await readJson(created)).enabled, true);
      const list = await readJson(await h.request("/api/v1/flags", {}, viewer));
      assert.ok(list.items.some((f: { key: string }) => f.key === "checkout.v2"));
      h.clock.advance(1000);
      const disabled = await h.request("/api/v1/flags/checkout.v2/disable", { method: "POST" }, engineer);
      assert.equal((await readJson(disabled)).enabled, false);
      const history = await readJson(await h.request("/api/v1/flags/checkout.v2/history", {}, viewer));
      assert.deepEqual(
        history.items.map((r: { change: string }) => r.change),
        ["disabled", "created"],
      );
      const asOf = await h.request(
        `/api/v1/flags/checkout.v2?asOf=${encodeURIComponent(history.items[1].at)}`,
      );
      const then = await readJson(asOf);
      assert.deepEqual([then.revision, then.enabled], [1, true]);
      const evaluated = await h.request(
        "/api/v1/flags/checkout.v2/evaluate",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ context: {} }),
        },
        viewer,
      );
      assert.deepEqual(await readJson(evaluated), {
        key: "checkout.v2",
        value: false,
        variant: "off",
        reason: "DISABLED",
      });
    });

    test("OFREP through the official OpenFeature SDK: targeting, split, default, type mismatch, not found", async () => {
      await svc().put(
        ctx(),
        flag({
          key: "ofrep.split",
          rules: [
            { when: { tenant: "internal" }, variant: "on" },
            {
              when: { tenant: "acme" },
              rollout: [
                { variant: "on", weight: 50 },
                { variant: "off", weight: 50 },
              ],
            },
          ],
        }),
        "upsert",
      );
      const agent = await h.tokenFor("bot", ["agent"]);
      await OpenFeature.setProviderAndWait(
        "flags-test",
        new OFREPProvider({ baseUrl, headers: [["Authorization", `Bearer ${agent}`]] }),
      );
      const client: Client = OpenFeature.getClient("flags-test");
      const internal = await client.getStringDetails("ofrep.split", "fallback", { tenant: "internal" });
      assert.deepEqual([internal.value, internal.variant, internal.reason], ["on", "on", "TARGETING_MATCH"]);
      const other = await client.getStringDetails("ofrep.split", "fallback", { tenant: "globex" });
      assert.deepEqual([other.value, other.reason], ["off", "DEFAULT"]);
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) {
        const d = await client.getStringDetails("ofrep.split", "fallback", {
          tenant: "acme",
          targetingKey: `u${i}`,
        });
        assert.equal(d.reason, "SPLIT");
        seen.add(d.value);
        const again = await client.getStringValue("ofrep.split", "fallback", {
          tenant: "acme",
          targetingKey: `u${i}`,
        });
        assert.equal(again, d.value, "sticky");
      }
      assert.deepEqual([...seen].sort(), ["off", "on"], "40 keys at 50/50 reach both variants");
      const noKey = await client.getStringDetails("ofrep.split", "fallback", { tenant: "acme" });
      assert.deepEqual([noKey.value, noKey.errorCode], ["fallback", ErrorCode.TARGETING_KEY_MISSING]);
      const mismatch = await client.getBooleanDetails("ofrep.split", true, { tenant: "internal" });
      assert.deepEqual([mismatch.value, mismatch.errorCode], [true, ErrorCode.TYPE_MISMATCH]);
      const missing = await client.getNumberDetails("no.such.flag", 7, {});
      assert.deepEqual([missing.value, missing.errorCode], [7, ErrorCode.FLAG_NOT_FOUND]);

      // The demo flag: the SDK sees targeting at once.
      const demo = await client.getStringDetails(DEMO_FLAG.key, "none", { tenant: "internal" });
      assert.deepEqual(
        [demo.value, demo.variant, demo.reason],
        ["support-assistant@canary", "canary", "TARGETING_MATCH"],
      );
      const everyone = await client.getStringDetails(DEMO_FLAG.key, "none", { tenant: "acme" });
      assert.deepEqual([everyone.value, everyone.variant], ["support-assistant@production", "production"]);

      // No token, no evaluation.
      const outsider = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags/ofrep.split`, { method: "POST" });
      assert.equal(outsider.status, 401);
    });

    test("OFREP bulk (ofrep-core's client): every flag, an ETag, 304 while nothing changed", async () => {
      const agent = await h.tokenFor("bulk", ["agent"]);
      const api = new OFREPApi(baseUrl);
      const auth = { headers: { authorization: `Bearer ${agent}` } };
      const first = await api.postBulkEvaluateFlags({ context: { tenant: "internal" } }, auth);
      assert.equal(first.httpStatus, 200);
      const etag = first.httpResponse?.headers.get("etag");
      assert.ok(etag);
      const flags = (first.value as { flags: { key: string; value?: unknown }[] }).flags;
      assert.equal(flags.find((f) => f.key === DEMO_FLAG.key)?.value, "support-assistant@canary");
      const same = await api.postBulkEvaluateFlags(
        { context: { tenant: "internal" } },
        { headers: { ...auth.headers, "if-none-match": etag } },
      );
      assert.equal(same.httpStatus, 304);
      const otherContext = await api.postBulkEvaluateFlags(
        { context: { tenant: "acme" } },
        { headers: { ...auth.headers, "if-none-match": etag } },
      );
      assert.equal(otherContext.httpStatus, 200, "another context, another answer");
      await svc().setEnabled(ctx(), "ofrep.split", false);
      const changed = await api.postBulkEvaluateFlags(
        { context: { tenant: "internal" } },
        { headers: { ...auth.headers, "if-none-match": etag } },
      );
      assert.equal(changed.httpStatus, 200, "a flag changed: the ETag moved");
      // Enabling the demo flag again would put its unapproved canary in front of traffic: refused.
      await svc().setEnabled(ctx(), DEMO_FLAG.key, false);
      await rejects(svc().setEnabled(ctx(), DEMO_FLAG.key, true), "unprocessable", "variants.canary");
      const malformed = await fetch(`${baseUrl}/ofrep/v1/evaluate/flags`, {
        method: "POST",
        headers: { ...auth.headers, "content-type": "application/json" },
        body: "{not json",
      });
      assert.equal(malformed.status, 400);
      assert.equal((await readJson(malformed)).errorCode, "PARSE_ERROR");
    });

    test("CLI: set from YAML, eval with --context, history, get --as-of, disable, rm", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "modelgov-flags-"));
      try {
        const file = path.join(dir, "flag.yaml");
        writeFileSync(
          file,
          [
            "key: cli.tier",
            "type: number",
            "variants: { low: 1, high: 10 }",
            "defaultVariant: low",
            "rules:",
            "  - when: { seats: { $gte: 100 } }",
            "    variant: high",
          ].join("\n"),
        );
        const run = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);
        const set = await run("flags", "set", "-f", file);
        assert.equal(set.code, 0, set.err);
        assert.match(set.out, /flag cli\.tier at revision 1 \(enabled\)/);
        const big = await run(
          "flags",
          "eval",
          "cli.tier",
          "--context",
          "seats=250",
          "--context",
          "tenant=acme",
        );
        assert.equal(
          big.out,
          "cli.tier = 10 (variant high, TARGETING_MATCH)",
          "seats=250 is read as a number",
        );
        const small = await run("flags", "eval", "cli.tier", "--context", "seats=3");
        assert.equal(small.out, "cli.tier = 1 (variant low, DEFAULT)");
        const at = h.clock.now().toISOString();
        h.clock.advance(1000);
        assert.equal((await run("flags", "disable", "cli.tier")).code, 0);
        const history = await run("--json", "flags", "history", "cli.tier");
        assert.deepEqual(
          JSON.parse(history.out).map((r: { change: string }) => r.change),
          ["disabled", "created"],
        );
        const then = await run("flags", "get", "cli.tier", "--as-of", at);
        assert.equal(JSON.parse(then.out).enabled, true);
        assert.equal((await run("flags", "rm", "cli.tier")).code, 0);
        const gone = await run("flags", "get", "cli.tier");
        assert.notEqual(gone.code, 0);
        assert.match(gone.err, /not found/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("Prometheus: evaluations by flag, variant and reason; unknown keys under one label", async () => {
      const text = await (await h.request("/metrics")).text();
      assert.match(
        text,
        /modelgov_flag_evaluations_total\{flag="support-assistant.version",variant="canary",reason="TARGETING_MATCH"\} [1-9]/,
      );
      assert.match(
        text,
        /modelgov_flag_evaluations_total\{flag="\(unknown\)",variant="\(none\)",reason="FLAG_NOT_FOUND"\} 1/,
      );
      assert.doesNotMatch(text, /no\.such\.flag/);
    });
  });
}
