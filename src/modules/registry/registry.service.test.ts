import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppError } from "../../lib/errors.ts";
import { allStoreTargets, ctx, type Harness, openHarness, SIM_PARAMS } from "../../test-support/stores.ts";
import { listAudit } from "../audit/index.ts";
import type { VersionCreate } from "./registry.schemas.ts";

const rejects = async (p: Promise<unknown>, code: AppError["code"], match?: RegExp) => {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AppError, `expected AppError, got ${err}`);
    assert.equal(err.code, code, err.message);
    if (match) assert.match(err.message + JSON.stringify(err.errors), match);
    return true;
  });
};

const contractV1 = {
  input: { type: "object", properties: { ticket: { type: "string" } }, required: ["ticket"] },
  output: {
    type: "object",
    properties: { answer: { type: "string" }, score: { type: "number" } },
    required: ["answer"],
  },
};

for (const target of allStoreTargets()) {
  describe(`registry service on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      // Lifecycle mechanics; the approval gate has its own suite (approvals.service.test.ts).
      h = await openHarness(target, { openProductionGate: true });
    });
    after(async () => h.cleanup());
    const reg = () => h.services.registry;
    const version = (v: string, extra: Record<string, unknown> = {}) =>
      reg().registerVersion(ctx(), "chat", {
        version: v,
        provider: "simulator",
        providerModelId: `sim-${v}`,
        parameters: SIM_PARAMS,
        changelog: "",
        metrics: {},
        limitations: [],
        tags: [],
        ...extra,
      });

    test("creates a model and refuses a duplicate name with 409 naming the field", async () => {
      const m = await reg().createModel(ctx(), {
        name: "chat",
        owner: "team-a",
        description: "support chat",
        useCases: ["customer-support"],
        riskTier: "high",
        tags: ["llm"],
      });
      assert.match(m.id, /^mdl_/);
      assert.equal(m.versionCount, 0);
      await rejects(
        reg().createModel(ctx(), {
          name: "chat",
          owner: "x",
          description: "",
          useCases: [],
          riskTier: "low",
          tags: [],
        }),
        "conflict",
        /name/,
      );
    });

    test("registers versions under strict semver, unique by precedence (build metadata ignored)", async () => {
      const v = await version("1.0.0", { contract: contractV1, metrics: { success_rate: 0.9 } });
      assert.match(v.id, /^ver_/);
      assert.equal(v.status, "development");
      assert.match(v.pinnedDigest, /^sha256:[a-f0-9]{64}$/);
      await rejects(version("1.0.0+build.7"), "conflict", /already/);
      await rejects(
        reg().registerVersion(ctx(), "nope", {
          version: "1.0.0",
          provider: "simulator",
          providerModelId: "x",
          parameters: {},
          changelog: "",
          metrics: {},
          limitations: [],
          tags: [],
        }),
        "not_found",
      );
      const m = await reg().getModel("chat");
      assert.equal(m.latestVersion, "1.0.0");
      // A part past the store's integer is a 400 naming the field, not a 500 from the store
      // (found by the API fuzzer).
      const res = await h.request("/api/v1/models/chat/versions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ version: "16220704545.0.49", provider: "simulator", providerModelId: "x" }),
      });
      assert.equal(res.status, 400);
      const problem = (await res.json()) as { errors: { field: string; reason: string }[] };
      assert.deepEqual(problem.errors, [
        { field: "body.version", reason: "major, minor and patch must each be at most 2147483647" },
      ]);
      // YAML's `version: 1.6` is a number: the answer says how to write it.
      const number = await h.request("/api/v1/models/chat/versions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ version: 1.6, provider: "simulator", providerModelId: "x" }),
      });
      assert.equal(number.status, 400);
      assert.deepEqual(((await number.json()) as { errors: unknown[] }).errors, [
        {
          field: "body.version",
          reason: 'must be a string such as "1.6.0" (quote it in YAML: version: "1.6.0"; got 1.6)',
        },
      ]);
    });

    test("refuses provider parameters that do not fit the provider, naming the parameter", async () => {
      await rejects(
        version("1.0.1", { parameters: { errorRate: 2 } }),
        "invalid_input",
        /parameters\.errorRate/,
      );
      await rejects(
        version("1.0.1", { provider: "openai-compatible", parameters: {} }),
        "invalid_input",
        /endpoint/,
      );
    });

    test("semver has teeth: a minor that removes or retypes a contract field is refused with the fields named", async () => {
      const broken = {
        input: contractV1.input,
        output: { type: "object", properties: { score: { type: "string" } }, required: [] },
      };
      await assert.rejects(version("1.1.0", { contract: broken }), (err: AppError) => {
        assert.equal(err.code, "conflict");
        const fields = err.errors.map((e) => e.field).sort();
        assert.deepEqual(fields, ["contract.output.answer", "contract.output.score"]);
        assert.deepEqual(err.details?.incompatibleFields, ["output.answer", "output.score"]);
        return true;
      });
      // The same change is fine as a new major, and a compatible minor passes.
      await version("2.0.0", { contract: broken });
      const extended = {
        ...contractV1,
        output: {
          ...contractV1.output,
          properties: { ...contractV1.output.properties, tokens: { type: "integer" } },
        },
      };
      await version("1.1.0", { contract: extended });
      // A patch of 1.1.0 is compared with 1.1.0 (the nearest lower version in the major).
      await rejects(version("1.1.1", { contract: contractV1 }), "conflict", /output\.tokens/);
    });

    test("what a version is pinned to cannot change, even by direct SQL", async () => {
      const v = await reg().getVersion("chat", "1.0.0");
      await assert.rejects(
        h.db.query("UPDATE model_versions SET provider_model_id = 'other' WHERE id = $1", [v.id]),
        /pinned/,
      );
      await assert.rejects(h.db.query("DELETE FROM model_versions WHERE id = $1", [v.id]), /never deleted/);
      const again = await reg().getVersion("chat", "1.0.0");
      assert.equal(again.providerModelId, "sim-1.0.0");
    });

    test("metrics, tags and limitations change, and each change is audited with before and after", async () => {
      const v = await reg().updateVersion(ctx("bob"), "chat", "1.0.0", {
        metrics: { success_rate: 0.91 },
        tags: ["gold"],
      });
      assert.deepEqual(v.metrics, { success_rate: 0.91 });
      assert.deepEqual(v.tags, ["gold"]);
      const events = await listAudit(h.db, { subjectId: v.id, action: "version.updated" });
      assert.equal(events.length, 1);
      assert.equal(events[0]!.actor, "bob");
      assert.deepEqual((events[0]!.before as { metrics: unknown }).metrics, { success_rate: 0.9 });
    });

    test("lifecycle transitions are validated and an illegal one names the allowed ones", async () => {
      await rejects(
        reg().transition(ctx(), "chat", "1.0.0", "deprecated", ""),
        "conflict",
        /allowed: canary, production, retired/,
      );
      const c = await reg().transition(ctx(), "chat", "1.0.0", "canary", "start canary");
      assert.equal(c.status, "canary");
      const history = await reg().versionHistory("chat", "1.0.0");
      assert.deepEqual(
        history.map((x) => x.to),
        ["development", "canary"],
      );
      assert.equal(history[1]!.reason, "start canary");
    });

    test("aliases move, every move is kept, and the state at any past time is answered", async () => {
      const t0 = h.clock.advance(60_000).toISOString();
      h.clock.advance(1);
      await reg().setAlias(ctx(), "chat", "production", "1.0.0", "first release");
      const t1 = h.clock.advance(60_000).toISOString();
      h.clock.advance(1);
      await reg().setAlias(ctx(), "chat", "production", "1.1.0", "better");
      await reg().setAlias(ctx(), "chat", "beta", "2.0.0", "custom alias");
      const t2 = h.clock.advance(60_000).toISOString();

      const history = await reg().aliasHistory("chat", "production");
      assert.deepEqual(
        history.map((m) => [m.previousVersion, m.version]),
        [
          [null, "1.0.0"],
          ["1.0.0", "1.1.0"],
        ],
      );
      assert.equal((await reg().stateAt("chat", t0)).production, null);
      const s1 = await reg().stateAt("chat", t1);
      assert.equal(s1.production, "1.0.0");
      assert.equal(s1.versions.find((v) => v.version === "1.0.0")?.status, "production");
      const s2 = await reg().stateAt("chat", t2);
      assert.deepEqual(s2.aliases, { beta: "2.0.0", production: "1.1.0" });
      // Promotion through the alias marks the version production; the previous one stays production (kept for rollback).
      assert.equal((await reg().getVersion("chat", "1.1.0")).status, "production");
      assert.equal((await reg().getVersion("chat", "1.0.0")).status, "production");
      await rejects(reg().removeAlias(ctx(), "chat", "production", ""), "conflict");
      await reg().removeAlias(ctx(), "chat", "beta", "done");
      assert.deepEqual((await reg().getModel("chat")).aliases, { production: "1.1.0" });
      // An aliased version cannot be retired out from under its alias.
      await rejects(reg().transition(ctx(), "chat", "1.1.0", "deprecated", ""), "conflict", /allowed|alias/);
    });

    test("retention keeps the last N production versions, deprecates then retires older ones, deletes nothing", async () => {
      await reg().createModel(ctx(), {
        name: "ret",
        owner: "o",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
        retention: { keepProduction: 2, keepDeprecated: 1 },
      });
      for (const v of ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]) {
        await reg().registerVersion(ctx(), "ret", {
          version: v,
          provider: "simulator",
          providerModelId: v,
          parameters: {},
          changelog: "",
          metrics: {},
          limitations: [],
          tags: [],
        });
        h.clock.advance(1000);
        await reg().setAlias(ctx(), "ret", "production", v, "");
      }
      const byVersion = Object.fromEntries(
        (await reg().listVersions({ model: "ret", limit: 50 })).items.map((v) => [v.version, v.status]),
      );
      assert.deepEqual(byVersion, {
        "1.0.0": "retired",
        "1.1.0": "retired",
        "1.2.0": "deprecated",
        "1.3.0": "production",
        "1.4.0": "production",
      });
      // Rollback to a kept version: promote 1.3.0 again.
      const back = await reg().setAlias(ctx(), "ret", "production", "1.3.0", "rollback");
      assert.deepEqual(back.aliases, ["production"]);
      // A deprecated version can return to production; a retired one cannot.
      await rejects(reg().setAlias(ctx(), "ret", "production", "1.0.0", ""), "conflict", /retired/);
      const events = await listAudit(h.db, { action: "version.status_changed" });
      assert.ok(events.some((e) => /retention/.test(e.reason)));
    });

    test("search and filters: use case, status, owner, tag, provider, free text, with cursor pagination", async () => {
      await reg().createModel(ctx(), {
        name: "summarizer",
        owner: "team-b",
        description: "Summarises call transcripts",
        useCases: ["summarization"],
        riskTier: "low",
        tags: ["nlp"],
      });
      assert.deepEqual(
        (await reg().listModels({ useCase: "summarization", limit: 50 })).items.map((m) => m.name),
        ["summarizer"],
      );
      assert.deepEqual(
        (await reg().listModels({ q: "TRANSCRIPT", limit: 50 })).items.map((m) => m.name),
        ["summarizer"],
      );
      assert.deepEqual(
        (await reg().listModels({ owner: "team-a", limit: 50 })).items.map((m) => m.name),
        ["chat"],
      );
      assert.deepEqual(
        (await reg().listModels({ tag: "llm", limit: 50 })).items.map((m) => m.name),
        ["chat"],
      );
      assert.deepEqual(
        (await reg().listModels({ status: "retired", limit: 50 })).items.map((m) => m.name),
        ["ret"],
      );
      assert.deepEqual(
        (await reg().listModels({ provider: "simulator", limit: 50 })).items.map((m) => m.name),
        ["chat", "ret"],
      );
      const p1 = await reg().listModels({ limit: 2 });
      assert.equal(p1.items.length, 2);
      assert.ok(p1.nextCursor);
      const p2 = await reg().listModels({ limit: 2, cursor: p1.nextCursor! });
      assert.deepEqual(
        [...p1.items, ...p2.items].map((m) => m.name),
        ["chat", "ret", "summarizer"],
      );

      const prod = await reg().listVersions({ status: "production", model: "chat", limit: 50 });
      assert.deepEqual(prod.items.map((v) => v.version).sort(), ["1.0.0", "1.1.0"]);
      assert.deepEqual(
        (await reg().listVersions({ tag: "gold", limit: 50 })).items.map((v) => v.version),
        ["1.0.0"],
      );
      assert.deepEqual(
        (await reg().listVersions({ q: "sim-2.0", limit: 50 })).items.map((v) => v.version),
        ["2.0.0"],
      );
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await reg().listVersions({ limit: 3, cursor });
        all.push(...page.items.map((v) => `${v.model}@${v.version}`));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      // chat: 1.0.0, 1.1.0, 2.0.0; ret: five versions.
      assert.equal(all.length, 8);
      assert.equal(new Set(all).size, 8);
      await rejects(reg().listVersions({ limit: 3, cursor: "garbage" }), "invalid_input", /cursor/);
    });

    test("recommend ranks production versions for a use case by a named metric, best first", async () => {
      await reg().updateVersion(ctx(), "chat", "1.1.0", {
        metrics: { success_rate: 0.95, latency_p95_ms: 900 },
      });
      await reg().updateVersion(ctx(), "chat", "1.0.0", {
        metrics: { success_rate: 0.91, latency_p95_ms: 400 },
      });
      const bySuccess = await reg().recommend({
        useCase: "customer-support",
        metric: "success_rate",
        limit: 10,
      });
      assert.equal(bySuccess.order, "desc");
      assert.deepEqual(
        bySuccess.items.map((i) => [i.version.version, i.value, i.serving]),
        [
          ["1.1.0", 0.95, true],
          ["1.0.0", 0.91, false],
        ],
      );
      const byLatency = await reg().recommend({
        useCase: "customer-support",
        metric: "latency_p95_ms",
        limit: 10,
      });
      assert.equal(byLatency.order, "asc");
      assert.deepEqual(
        byLatency.items.map((i) => i.version.version),
        ["1.0.0", "1.1.0"],
      );
      assert.equal(
        (await reg().recommend({ useCase: "nothing", metric: "success_rate", limit: 10 })).items.length,
        0,
      );
    });

    test("concurrent duplicates: one wins, the other gets the same 409 as a sequential duplicate", async () => {
      const make = () =>
        reg().createModel(ctx(), {
          name: "racer",
          owner: "o",
          description: "",
          useCases: [],
          riskTier: "low",
          tags: [],
        });
      const results = await Promise.allSettled([make(), make()]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assert.ok(lost.reason instanceof AppError && lost.reason.code === "conflict", String(lost.reason));
      assert.equal(lost.reason.errors[0]?.field, "name");
      const reg2 = (v: string) =>
        reg().registerVersion(ctx(), "racer", {
          version: v,
          provider: "simulator",
          providerModelId: "x",
          parameters: {},
          changelog: "",
          metrics: {},
          limitations: [],
          tags: [],
        });
      const versions = await Promise.allSettled([reg2("1.0.0"), reg2("1.0.0")]);
      assert.deepEqual(versions.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
    });

    test("a failed change leaves no partial write: no version, no card, no audit event", async () => {
      const before = (await listAudit(h.db)).length;
      // The card has a revision too; the insert of the version succeeds before the failure is forced.
      await h.db.exec(
        "CREATE TABLE IF NOT EXISTS fail_probe (x int); CREATE OR REPLACE FUNCTION fail_card() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END; $$ LANGUAGE plpgsql; CREATE TRIGGER fail_card BEFORE INSERT ON card_revisions FOR EACH ROW EXECUTE FUNCTION fail_card();",
      );
      try {
        await assert.rejects(
          version("3.0.0", { card: { metadata: {}, sections: { model_details: "x" }, extraSections: [] } }),
          /forced failure/,
        );
      } finally {
        await h.db.exec("DROP TRIGGER fail_card ON card_revisions");
      }
      await rejects(reg().getVersion("chat", "3.0.0"), "not_found");
      assert.equal((await listAudit(h.db)).length, before);
    });

    test("a prerelease promises nothing: the next release answers to the release before it", async () => {
      const extended = {
        ...contractV1,
        output: {
          ...contractV1.output,
          properties: { ...contractV1.output.properties, tokens: { type: "integer" } },
        },
      };
      // A prerelease promises nothing: 1.2.0 keeps 1.1.0's promises, not those of 1.2.0-rc.1.
      const trial = {
        ...extended,
        output: {
          ...extended.output,
          properties: { ...extended.output.properties, lang: { type: "string" } },
        },
      };
      await reg().createModel(ctx(), {
        name: "trial",
        owner: "team-a",
        description: "",
        useCases: ["triage"],
        riskTier: "low",
        tags: [],
      });
      const inTrial = (v: string, contract: VersionCreate["contract"]) =>
        reg().registerVersion(ctx(), "trial", {
          version: v,
          provider: "simulator",
          providerModelId: `sim-${v}`,
          parameters: SIM_PARAMS,
          contract,
          changelog: "",
          metrics: {},
          limitations: [],
          tags: [],
        });
      await inTrial("1.1.0", extended);
      await inTrial("1.2.0-rc.1", trial);
      const released = await inTrial("1.2.0", extended);
      assert.equal(released.version, "1.2.0");
      await rejects(inTrial("1.2.1", contractV1), "conflict", /breaks the contract of 1\.2\.0/);
    });
  });
}
