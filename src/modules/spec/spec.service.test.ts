import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { listAudit } from "../audit/index.ts";
import { FlagInputSchema } from "../flags/index.ts";
import { specJsonSchema } from "./json-schema.ts";
import { SpecSchema } from "./spec.schemas.ts";

const SPEC = `
apiVersion: modelgov/v1
registry:
  retention: { keepProduction: 2, keepDeprecated: 1 }
  requiredCardSections: [model_details, intended_use, out_of_scope_use]
models:
  - name: triage
    owner: ops-ml
    description: Routes tickets to queues
    useCases: [ticket-routing]
    riskTier: medium
    tags: [classifier]
    versions:
      - version: 1.0.0
        provider: openai
        providerModelId: gpt-4o-mini-2024-07-18
        parameters: { temperature: 0 }
        metrics: { accuracy: 0.88 }
        card:
          sections:
            model_details: Fine-tuned router.
            intended_use: Routing support tickets.
            out_of_scope_use: Anything else.
      - version: 1.1.0
        provider: openai
        providerModelId: gpt-4o-mini-2024-07-18
        parameters: { temperature: 0.2 }
        cardMarkdown: |
          ---
          license: mit
          tags: [router]
          ---
          # Triage 1.1
          ## Model Details
          Router v1.1.
`;

const load = (text = SPEC) => SpecSchema.parse(parseYaml(text));

for (const target of allStoreTargets()) {
  describe(`spec apply on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
    });
    after(async () => h.cleanup());
    const apply = (spec = load(), dryRun = false) => h.services.spec.apply(ctx("ci"), spec, dryRun);

    test("a dry run prints the plan and changes nothing", async () => {
      const auditBefore = (await listAudit(h.db)).length;
      const r = await apply(load(), true);
      assert.equal(r.applied, false);
      assert.deepEqual(
        r.changes.map((c) => `${c.action} ${c.target}`),
        [
          "update_policy registry",
          "create_model triage",
          "register_version triage@1.0.0",
          "register_version triage@1.1.0",
        ],
      );
      assert.equal((await h.services.registry.listModels({ limit: 10 })).items.length, 0);
      assert.equal((await listAudit(h.db)).length, auditBefore);
    });

    test("apply reconciles, in one audited transaction, and a second apply changes nothing", async () => {
      const r = await apply();
      assert.equal(r.applied, true);
      assert.equal(r.changes.length, 4);
      const policy = await h.services.registry.getPolicy();
      assert.deepEqual(policy.retention, { keepProduction: 2, keepDeprecated: 1 });
      const v = await h.services.registry.getVersion("triage", "1.1.0");
      assert.equal(v.parameters.temperature, 0.2);
      const card = await h.services.cards.get("triage", "1.1.0");
      assert.equal(card.content.metadata.license, "mit");
      const card1 = await h.services.cards.get("triage", "1.0.0");
      assert.equal(card1.validation.complete, true);
      const events = await listAudit(h.db, { action: "spec.applied" });
      assert.equal(events.length, 1);
      assert.equal(events[0]!.actor, "ci");

      const again = await apply();
      assert.deepEqual(again.changes, []);
      assert.equal(again.applied, false);
    });

    test("changed mutable fields and cards become updates and new card revisions", async () => {
      const spec = load(
        SPEC.replace("accuracy: 0.88", "accuracy: 0.9").replace(
          "Routing support tickets.",
          "Routing tickets.",
        ),
      );
      const plan = await apply(spec, true);
      assert.deepEqual(
        plan.changes.map((c) => c.action),
        ["update_version", "revise_card"],
      );
      assert.deepEqual(plan.changes[0]!.changes?.metrics, {
        from: { accuracy: 0.88 },
        to: { accuracy: 0.9 },
      });
      await apply(spec);
      assert.equal((await h.services.cards.get("triage", "1.0.0")).revision, 2);
      assert.equal(
        (await h.services.cards.get("triage", "1.0.0", 1)).content.sections.intended_use,
        "Routing support tickets.",
      );
    });

    test("fields the spec leaves out are not managed: apply does not reset them", async () => {
      await h.services.registry.updateVersion(ctx(), "triage", "1.1.0", {
        metrics: { accuracy: 0.93 },
        tags: ["gold"],
      });
      await h.services.registry.updateModel(ctx(), "triage", {
        retention: { keepProduction: 5, keepDeprecated: 0 },
      });
      const r = await apply();
      assert.deepEqual(
        r.changes.filter((c) => c.target !== "triage@1.0.0"),
        [],
      );
      const v = await h.services.registry.getVersion("triage", "1.1.0");
      assert.deepEqual(v.metrics, { accuracy: 0.93 });
      assert.deepEqual(v.tags, ["gold"]);
      assert.equal((await h.services.cards.get("triage", "1.1.0")).source, "spec");
      const bad = SpecSchema.safeParse(parseYaml(SPEC.replace("tags: [classifier]", "tags: [Not A Label]")));
      assert.deepEqual(
        bad.error?.issues.map((i) => i.path.join(".")),
        ["models.0.tags.0"],
      );
    });

    test("changing what a registered version is pinned to is refused, naming the spec path and field", async () => {
      const spec = load(SPEC.replace("temperature: 0 }", "temperature: 0.7 }"));
      await assert.rejects(apply(spec), (err: { code: string; errors: { field: string }[] }) => {
        assert.equal(err.code, "conflict");
        assert.deepEqual(
          err.errors.map((e) => e.field),
          ["models[0].versions[0].parameters"],
        );
        return true;
      });
    });

    test("apply is all or nothing: an error in a later model leaves the earlier ones unwritten", async () => {
      const text = `${SPEC}
  - name: second
    owner: x
    riskTier: low
  - name: broken
    owner: x
    riskTier: low
    versions:
      - version: 1.0.0
        provider: openai-compatible
        providerModelId: m
`;
      await assert.rejects(apply(load(text)), /models\[2\]\.versions\[0\]/);
      await assert.rejects(h.services.registry.getModel("second"), /not found/);
    });

    test("the approvals section sets the approval policy, idempotently", async () => {
      const text = SPEC.replace(
        "models:\n",
        "approvals:\n  rules:\n    - name: high-risk\n      match: { riskTiers: [high, critical] }\n      roles: { engineering: 1, compliance: 1 }\n      evidence: [card, fairness]\n      signoffTtlDays: 30\nmodels:\n",
      );
      const plan = await apply(load(text), true);
      assert.deepEqual(
        plan.changes.map((c) => c.action),
        ["update_approval_policy"],
      );
      await apply(load(text));
      const policy = await h.services.approvals.getPolicy();
      assert.deepEqual(policy.rules[0]?.roles, { engineering: 1, compliance: 1 });
      assert.equal(policy.rules[0]?.allowSameSignerForMultipleRoles, false);
      assert.deepEqual((await apply(load(text))).changes, []);
      const bad = SpecSchema.safeParse(parseYaml(text.replace("compliance: 1 }", "compliance: 0 }")));
      assert.deepEqual(
        bad.error?.issues.map((i) => i.path.join(".")),
        ["approvals.rules.0.roles.compliance"],
      );
    });

    test("the routes section sets the gateway route of a model, idempotently", async () => {
      const text = `${SPEC}routes:\n  triage:\n    split:\n      - { version: 1.0.0, weight: 90 }\n      - { version: 1.1.0, weight: 10 }\n    fallback: [1.0.0]\n`;
      const plan = await apply(load(text), true);
      assert.deepEqual(
        plan.changes.map((c) => `${c.action} ${c.target}`),
        ["update_route triage"],
      );
      await apply(load(text));
      assert.deepEqual((await h.services.routes.get("triage")).split, [
        { version: "1.0.0", weight: 90 },
        { version: "1.1.0", weight: 10 },
      ]);
      assert.deepEqual((await apply(load(text))).changes, []);
      await assert.rejects(
        apply(load(text.replace("fallback: [1.0.0]", "fallback: [7.0.0]"))),
        /routes\.triage.*fallback/,
      );
    });

    test("the flags section creates and updates flags, idempotently; the release gate names the spec path", async () => {
      const flags = (variant: string) =>
        `${SPEC}flags:\n  triage.version:\n    type: string\n    variants: { stable: "${variant}", next: "v2" }\n    defaultVariant: stable\n    rules:\n      - when: { tenant: internal }\n        variant: next\n`;
      const text = flags("plain");
      const plan = await apply(load(text), true);
      assert.deepEqual(
        plan.changes.map((c) => `${c.action} ${c.target}`),
        ["create_flag triage.version"],
      );
      await assert.rejects(h.services.flags.get("triage.version"), /not found/, "a dry run writes no flag");
      await apply(load(text));
      assert.deepEqual((await apply(load(text))).changes, []);
      const updated = await apply(load(flags("other")));
      assert.deepEqual(
        updated.changes.map((c) => `${c.action} ${c.target}`),
        ["update_flag triage.version"],
      );
      assert.equal((await h.services.flags.get("triage.version")).variants.stable, "other");
      // 1.0.0 is registered by the spec, in development, unapproved: the gateway would not serve it.
      await assert.rejects(
        apply(load(flags("triage@1.0.0"))),
        (err: Error & { errors?: { field: string }[] }) => {
          assert.equal(err.errors?.[0]?.field, "flags.triage.version.variants.stable");
          return true;
        },
      );
    });

    test("a route may defer to a flag: the spec's flags are applied before its routes; the flag's variants must name the model's versions", async () => {
      const both = `${SPEC}flags:\n  triage.route:\n    type: string\n    variants: { prod: "plain" }\n    defaultVariant: prod\nroutes:\n  triage:\n    flag: triage.route\n`;
      // The route sees the flag this spec creates (not "no flag"), and refuses its variant.
      await assert.rejects(
        apply(load(both)),
        (err: Error & { errors?: { field: string; message?: string }[] }) => {
          assert.match(err.errors?.[0]?.field ?? "", /^routes\.triage/);
          assert.match(err.message, /variant 'prod' of 'triage\.route' is "plain"/);
          return true;
        },
      );
      // Triage has no servable version for the release gate to let a flag name: set it as the demo seed does.
      await h.services.flags.put(
        ctx(),
        FlagInputSchema.parse({
          key: "triage.route",
          type: "string",
          variants: { prod: "triage@production" },
          defaultVariant: "prod",
        }),
        "create",
        { skipReleaseGate: true },
      );
      const route = `${SPEC}routes:\n  triage:\n    flag: triage.route\n`;
      const first = await apply(load(route));
      assert.deepEqual(
        first.changes.map((c) => `${c.action} ${c.target}`),
        ["update_route triage"],
      );
      assert.equal((await h.services.routes.get("triage")).flag, "triage.route");
      assert.deepEqual((await apply(load(route))).changes, []);
      await apply(load(`${SPEC}routes:\n  triage:\n    flag: null\n`));
      assert.equal((await h.services.routes.get("triage")).flag, undefined);
    });

    test("the monitors section sets a model's monitor and the workspace default, idempotently; a rule it cannot read names its path", async () => {
      const text = `${SPEC}
monitors:
  triage:
    baseline: { kind: first-days, days: 7 }
    rules:
      - success rate drops >10% from baseline for >5 consecutive days
      - PSI of input tokens > 0.2 for 3 days
  "*":
    rules: [error rate rises by more than 2 points from baseline for 2 days]
`;
      const first = await apply(load(text));
      assert.deepEqual(
        first.changes.filter((c) => c.action === "update_monitor").map((c) => c.target),
        ["triage", "*"],
      );
      const cfg = await h.services.monitoring.getConfig("triage");
      assert.equal(cfg.configuredFor, "triage");
      assert.equal(cfg.config.rules.length, 2);
      assert.equal((await h.services.monitoring.getConfig("someone-else")).configuredFor, "*");
      assert.deepEqual((await apply(load(text))).changes, []);
      await assert.rejects(
        apply(load(text.replace("PSI of input tokens > 0.2 for 3 days", "PSI of input tokens is high"))),
        (err: Error & { errors?: { field: string }[] }) => {
          assert.equal(err.errors?.[0]?.field, "monitors.triage.rules.1");
          return true;
        },
      );
      assert.equal(
        (await h.services.monitoring.getConfig("triage")).config.rules.length,
        2,
        "nothing written",
      );
    });

    test("spec validation names the path of a bad field and of duplicates", () => {
      const bad = SpecSchema.safeParse(parseYaml(SPEC.replace("riskTier: medium", "riskTier: huge")));
      assert.equal(bad.success, false);
      assert.deepEqual(
        bad.error!.issues.map((i) => i.path.join(".")),
        ["models.0.riskTier"],
      );
      const dup = SpecSchema.safeParse(parseYaml(SPEC.replace("version: 1.1.0", "version: 1.0.0")));
      assert.equal(dup.success, false);
      assert.deepEqual(
        dup.error!.issues.map((i) => [i.path.join("."), i.message]),
        [["models.0.versions.1.version", "duplicate version 1.0.0"]],
      );
    });
  });
}

test("the shipped JSON Schema of modelgov.yaml is current", () => {
  const shipped = JSON.parse(
    readFileSync(new URL("../../../schema/modelgov.schema.json", import.meta.url), "utf8"),
  );
  assert.deepEqual(shipped, JSON.parse(JSON.stringify(specJsonSchema())), "run `npm run gen:schema`");
  assert.deepEqual(shipped.required, ["apiVersion"]);
  assert.ok(shipped.properties.models.items.properties.versions);
});
