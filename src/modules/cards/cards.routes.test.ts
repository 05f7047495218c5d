import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { createClient } from "../../client/index.ts";
import {
  allStoreTargets,
  type Harness,
  openHarness,
  readJson,
  SIM_PARAMS,
} from "../../test-support/stores.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".md"))
  .map((f) => ({ name: f, text: readFileSync(new URL(f, FIXTURES), "utf8") }));
const frontMatter = (md: string) =>
  parseYaml(/^---\r?\n([\s\S]*?)\r?\n---/.exec(md.replace(/^\uFEFF/, ""))![1]!);

for (const target of allStoreTargets()) {
  describe(`model cards over HTTP on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let api: ReturnType<typeof createClient>;
    before(async () => {
      h = await openHarness(target);
      const erin = await h.tokenFor("erin", ["engineering"]);
      api = createClient({
        baseUrl: "http://modelgov.test",
        token: erin,
        fetch: (u, i) => h.request(u, i, erin),
      });
      await api.models.create({ name: "cards", owner: "o", riskTier: "low" });
      for (const [i] of fixtures.entries())
        await api.versions.register("cards", {
          version: `1.${i}.0`,
          provider: "simulator",
          providerModelId: "sim",
          parameters: SIM_PARAMS,
        });
      await api.versions.register("cards", {
        version: "2.0.0",
        provider: "simulator",
        providerModelId: "sim",
      });
    });
    after(async () => h.cleanup());

    test("at least three Hugging Face fixtures", () =>
      assert.ok(fixtures.length >= 3, fixtures.map((f) => f.name).join()));

    test("each fixture round-trips through import, the store and export without losing metadata", async () => {
      for (const [i, f] of fixtures.entries()) {
        const version = `1.${i}.0`;
        const imported = await api.cards.importHuggingFace("cards", version, f.text);
        assert.equal(imported.source, "huggingface", f.name);
        const exported = await api.cards.exportHuggingFace("cards", version);
        assert.deepEqual(frontMatter(exported), frontMatter(f.text), `${f.name}: front matter changed`);
        assert.deepEqual(
          Object.keys(frontMatter(exported)),
          Object.keys(frontMatter(f.text)),
          `${f.name}: key order changed`,
        );
        // Re-importing the export is not an edit: same content, no new revision.
        const again = await api.cards.importHuggingFace("cards", version, exported);
        assert.equal(again.changed, false, `${f.name}: export → import changed the card`);
        assert.equal(again.revision, imported.revision);
        assert.deepEqual(again.content, imported.content);
      }
    });

    test("every edit is a new archived revision; old revisions stay readable", async () => {
      const base = {
        metadata: { license: "mit" },
        sections: { model_details: "v1 details" },
        extraSections: [],
      };
      const r1 = await api.cards.put("cards", "2.0.0", base);
      const r2 = await api.cards.put("cards", "2.0.0", {
        ...base,
        sections: { model_details: "v2 details" },
      });
      assert.deepEqual([r1.revision, r2.revision], [1, 2]);
      assert.notEqual(r1.contentHash, r2.contentHash);
      const same = await api.cards.put("cards", "2.0.0", {
        ...base,
        sections: { model_details: "v2 details" },
      });
      assert.equal(same.changed, false);
      assert.equal((await api.cards.get("cards", "2.0.0", 1)).content.sections.model_details, "v1 details");
      assert.equal((await api.cards.get("cards", "2.0.0")).revision, 2);
      assert.deepEqual(
        (await api.cards.revisions("cards", "2.0.0")).map((r) => r.createdBy),
        ["erin", "erin"],
      );
      await assert.rejects(api.cards.get("cards", "2.0.0", 9), /not found/);
      // Past a PostgreSQL integer: refused as input (it was a 500 from the store, found by the fuzzer).
      for (const path of ["card", "card/export"]) {
        const huge = await h.request(`/api/v1/models/cards/versions/2.0.0/${path}?revision=2147483648`);
        assert.equal(huge.status, 400, path);
        assert.equal((await readJson(huge)).errors[0].field, "query.revision");
      }
      await assert.rejects(h.db.query("UPDATE card_revisions SET source = 'api'"), /append-only/);
    });

    test("validation reports exactly what is missing, against the configurable required sections", async () => {
      const v = await api.cards.validate("cards", "2.0.0");
      assert.equal(v.complete, false);
      assert.equal(v.missing.length, 9);
      assert.ok(v.missing.every((m) => m.reason === "absent"));
      const admin = createClient({ baseUrl: "http://modelgov.test", token: h.adminToken, fetch: h.fetch });
      await assert.rejects(api.policy.put(await api.policy.get()), /policy:admin/);
      const policy = await admin.policy.get();
      await admin.policy.put({ ...policy, requiredCardSections: ["model_details"] });
      assert.deepEqual(await api.cards.validate("cards", "2.0.0"), {
        complete: true,
        required: ["model_details"],
        missing: [],
        revision: 2,
      });
      await api.cards.put("cards", "2.0.0", { sections: { model_details: "[More Information Needed]" } });
      const placeholder = await api.cards.validate("cards", "2.0.0");
      assert.deepEqual(placeholder.missing, [
        { section: "model_details", title: "Model Details", reason: "placeholder" },
      ]);
      await admin.policy.put(policy);
    });

    test("bad cards are refused with the field named", async () => {
      const res = await h.request("/api/v1/models/cards/versions/2.0.0/card", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sections: { not_a_section: "x" } }),
      });
      assert.equal(res.status, 400);
      assert.match(JSON.stringify(await readJson(res)), /body\.sections/);
      const yaml = await h.request("/api/v1/models/cards/versions/2.0.0/card/import", {
        method: "POST",
        headers: { "content-type": "text/markdown" },
        body: "---\nlicense: [unclosed\n---\n# x\n",
      });
      assert.equal(yaml.status, 400);
      assert.equal((await readJson(yaml)).errors[0].field, "card.frontMatter");
      await assert.rejects(api.cards.importHuggingFace("cards", "9.9.9", "# x"), /not found/);
    });
  });
}
