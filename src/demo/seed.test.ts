import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { listAudit } from "../modules/audit/index.ts";
import { allStoreTargets, type Harness, openHarness } from "../test-support/stores.ts";
import { DEMO_FLAG, seedDemo } from "./seed.ts";

for (const target of allStoreTargets()) {
  describe(`demo workspace on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
    });
    after(async () => h.cleanup());

    test("seeds a labelled support-assistant on the simulator, with complete cards; replicas racing seed it once", async () => {
      const results = await Promise.all([seedDemo(h.services), seedDemo(h.services)]);
      assert.equal(results.filter(Boolean).length, 1);
      const m = await h.services.registry.getModel("support-assistant");
      assert.ok(m.tags.includes("demo"));
      assert.match(m.description, /DEMO/);
      assert.deepEqual(m.aliases, { canary: "1.2.0", production: "1.1.0" });
      const versions = (await h.services.registry.listVersions({ model: "support-assistant", limit: 10 }))
        .items;
      assert.deepEqual(
        versions.map((v) => v.provider),
        ["simulator", "simulator", "simulator", "simulator"],
      );
      // The release gate for customer-support applies from the seed on.
      const policy = await h.services.approvals.getPolicy();
      assert.deepEqual(
        policy.gates.map((g) => g.name),
        ["customer-support-release"],
      );
      for (const v of versions) {
        const card = await h.services.cards.get("support-assistant", v.version);
        assert.equal(
          card.validation.complete,
          true,
          `${v.version}: ${JSON.stringify(card.validation.missing)}`,
        );
        assert.equal(card.source, "demo");
      }
      // The embedding model (POST /v1/embeddings): one simulator version, released to production.
      const emb = await h.services.registry.getModel("support-embeddings");
      assert.ok(emb.tags.includes("demo"));
      assert.deepEqual(emb.aliases, { production: "1.0.0" });
      const [ev] = (await h.services.registry.listVersions({ model: "support-embeddings", limit: 10 })).items;
      assert.equal(ev?.provider, "simulator");
      assert.deepEqual(ev?.parameters.embedding, { dimensions: 256 });
      assert.equal((await h.services.cards.get("support-embeddings", "1.0.0")).validation.complete, true);
      // The demo flag, written past the release gate (its canary is unapproved on purpose), says so.
      const flag = await h.services.flags.get(DEMO_FLAG.key);
      assert.deepEqual(flag.rules, [{ when: { tenant: "internal" }, variant: "canary" }]);
      const [created] = await listAudit(h.db, { subjectType: "flag", subjectId: DEMO_FLAG.key });
      assert.equal(created?.reason, "release gate skipped (demo seed)");
      assert.equal(await seedDemo(h.services), false);
    });
  });
}
