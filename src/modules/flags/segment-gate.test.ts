import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEMO_FLAG, seedDemo } from "../../demo/seed.ts";
import { AppError } from "../../lib/errors.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { SpecSchema } from "../spec/index.ts";
import { type FlagInput, FlagInputSchema } from "./flags.schemas.ts";

const EU = { region: { $in: ["eu-west", "eu-central"] } };
const MODEL = "support-assistant";

/** A flag over the demo's versions: 1.0.0 deprecated, 1.1.0 production (engineering signed both). */
const flag = (key: string, rules: unknown[], defaultVariant = "old"): FlagInput =>
  FlagInputSchema.parse({
    key,
    type: "string",
    variants: { old: `${MODEL}@1.0.0`, current: `${MODEL}@1.1.0` },
    defaultVariant,
    rules,
  });

/** The 422 (or 409) problems a call is refused with, as `field: reason`. */
async function refusal(p: Promise<unknown>, code: AppError["code"]): Promise<string[]> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, code, e.message);
    return e.errors.map((x) => `${x.field}: ${x.reason}`);
  }
  assert.fail(`expected ${code}`);
}

for (const target of allStoreTargets()) {
  describe(`the release gate per segment on ${target.name}`, { skip: target.skip }, () => {
    // One demo workspace for both tests; its own flag (internal tenants to the unapproved-for-any-
    // segment canary) would stand in every segment's way, so it goes first.
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
      await seedDemo(h.services);
      await h.services.flags.remove(ctx(), DEMO_FLAG.key);
    });
    after(() => h.cleanup());
    test("tags: a rule or default sending the segment to an untagged version is refused; so are the ways around it", async () => {
      const { approvals, flags, registry } = h.services;
      const policy = await approvals.getPolicy();
      await approvals.writePolicy(ctx(), {
        rules: policy.rules,
        segments: [{ name: "eu", description: "", when: EU, require: { tags: ["hosting:eu"] } }],
      });

      const euFirst = flag("eu-first", [
        { when: { "context.region": { $in: ["eu-west", "eu-central", "eu-north"] } }, variant: "current" },
      ]);
      const euProblems = await refusal(flags.put(ctx(), euFirst, "create"), "unprocessable");
      assert.equal(euProblems.length, 1, euProblems.join("\n"));
      assert.match(
        euProblems[0]!,
        /^rules\.0: sends segment eu to variant current \(support-assistant@1\.1\.0\), which lacks the tag hosting:eu$/,
      );
      await assert.rejects(flags.get("eu-first"), /not found/, "nothing written");

      await registry.updateVersion(ctx(), MODEL, "1.1.0", { tags: ["demo", "hosting:eu"] });
      assert.equal((await flags.put(ctx(), euFirst, "create")).change, "created");
      // The rule catches the whole segment: the default (1.0.0, untagged) is never served to it.
      // A US rule first does not keep EU traffic off the default, and a list-valued region may
      // match it too: both rules.0 (1.0.0) and the default are named.
      const usFirst = flag("us-first", [{ when: { region: "us" }, variant: "old" }], "old");
      assert.deepEqual(
        (await refusal(flags.put(ctx(), usFirst, "create"), "unprocessable")).map((p) => p.split(":")[0]),
        ["rules.0", "defaultVariant"],
      );

      // Around it 1: untag the version the flag sends EU traffic to.
      const untag = await refusal(
        registry.updateVersion(ctx(), MODEL, "1.1.0", { tags: ["demo"] }),
        "conflict",
      );
      assert.match(
        untag[0]!,
        /^body\.tags: flag eu-first: rules\.0: sends segment eu .* lacks the tag hosting:eu/,
      );
      assert.deepEqual((await registry.getVersion(MODEL, "1.1.0")).tags, ["demo", "hosting:eu"]);
      // Around it 2: change the segment under the flag.
      const stricter = await refusal(
        approvals.writePolicy(ctx(), {
          rules: policy.rules,
          segments: [{ name: "eu", description: "", when: EU, require: { tags: ["hosting:eu-sovereign"] } }],
        }),
        "conflict",
      );
      assert.match(stricter[0]!, /^body\.segments: flag eu-first: .*hosting:eu-sovereign/);
      assert.deepEqual((await approvals.getPolicy()).segments[0]?.require.tags, ["hosting:eu"]);
      // Around it, by alias: a flag naming `@eu` cannot have the alias moved to an untagged version.
      await registry.setAlias(ctx(), MODEL, "eu", "1.1.0", "EU build");
      const byAlias = {
        ...flag("by-alias", [{ when: EU, variant: "current" }]),
        variants: { old: `${MODEL}@1.0.0`, current: `${MODEL}@eu` },
      };
      assert.equal((await flags.put(ctx(), byAlias, "create")).change, "created");
      const moved = await refusal(registry.setAlias(ctx(), MODEL, "eu", "1.0.0", "oops"), "conflict");
      assert.match(
        moved[0]!,
        /^alias: flag by-alias: rules\.0: sends segment eu to variant current \(support-assistant@1\.0\.0\)/,
      );
      assert.equal((await registry.getModel(MODEL)).aliases.eu, "1.1.0");
      // Around it 3: disable, rewrite, enable — a disabled flag's default reaches every segment, and enabling re-checks.
      const disabled = { ...flag("eu-off", [], "old"), enabled: false };
      await refusal(flags.put(ctx(), disabled, "create"), "unprocessable");
      // Around it 4: modelgov.yaml goes through the same write.
      const { key: _, ...body } = usFirst;
      const spec = SpecSchema.parse({ apiVersion: "modelgov/v1", flags: { "via-spec": body } });
      const viaSpec = await refusal(h.services.spec.apply(ctx(), spec, false), "unprocessable");
      assert.match(viaSpec[0]!, /^flags\.via-spec\.rules\.0/);
      // Unrelated segments and tags stay free: a flag for another attribute entirely is checked too, and passes.
      const other = flag(
        "other",
        [{ when: { region: { $nin: ["eu-west", "eu-central"] } }, variant: "old" }],
        "current",
      );
      assert.equal((await flags.put(ctx(), other, "create")).change, "created");
      assert.deepEqual(await flags.violations(), []);
    });

    test("gates and roles: the version's latest run must pass the segment's gates, its approval carry the segment's sign-offs", async () => {
      const { approvals, flags } = h.services;
      const policy = await approvals.getPolicy();
      const gate = {
        name: "internal-quality",
        match: { models: ["none-at-all"] },
        successRate: { min: 0.9 },
      };
      const replace = { allowRemovals: true };
      for (const f of await flags.list()) await flags.remove(ctx(), f.key); // the first test's
      await approvals.writePolicy(
        ctx(),
        {
          rules: policy.rules,
          gates: [...policy.gates, gate],
          segments: [
            {
              name: "internal",
              description: "",
              when: { tenant: "internal" },
              require: { gates: ["internal-quality"], roles: { engineering: 1 } },
            },
          ],
        },
        replace,
      );
      const internal = flag("internal", [
        { when: { tenant: "internal" }, variant: "current" },
        { variant: "old" },
      ]);
      const noRun = await refusal(flags.put(ctx(), internal, "create"), "unprocessable");
      assert.deepEqual(noRun, [
        "rules.0: sends segment internal to variant current (support-assistant@1.1.0), which has no completed evaluation run for the gate internal-quality",
      ]);

      const v = await h.services.registry.getVersion(MODEL, "1.1.0");
      const run = async (id: string, successRate: number, at: string) => {
        await h.db.query(
          `INSERT INTO eval_suites (hash, name, case_count, content, created_at) VALUES ('sha256:seg', 'seg', 1, '{}', $1)
           ON CONFLICT (hash) DO NOTHING`,
          [at],
        );
        const report = {
          aggregate: {
            cases: 100,
            passed: successRate * 100,
            successRate,
            meanScore: null,
            safetyViolations: 0,
            errors: 0,
            latencyP50Ms: 1,
            latencyP95Ms: 1,
            costPerCaseUsd: null,
            tokensIn: 0,
            tokensOut: 0,
          },
          groups: {},
        };
        await h.db.query(
          `INSERT INTO eval_runs (id, version_id, suite_hash, suite_name, status, options, total, created_by, created_at, finished_at, report, report_hash)
           VALUES ($1, $2, 'sha256:seg', 'seg', 'completed', '{}', 100, 'test', $3, $3, $4, 'sha256:x')`,
          [id, v.id, at, JSON.stringify(report)],
        );
      };
      await run("run-low", 0.8, "2026-12-01T00:00:00Z");
      const low = await refusal(flags.put(ctx(), internal, "create"), "unprocessable");
      assert.match(
        low[0]!,
        /fails the gate internal-quality on run run-low: internal-quality: success rate 80\.0% fails ≥ 90\.0%/,
      );
      await run("run-high", 0.95, "2026-12-02T00:00:00Z");
      assert.equal((await flags.put(ctx(), internal, "create")).change, "created", "the latest run passes");

      // The demo's approval of 1.1.0 carries one engineering sign-off: a segment asking compliance refuses.
      const needsCompliance = {
        rules: policy.rules,
        segments: [
          {
            name: "internal",
            description: "",
            when: { tenant: "internal" },
            require: { roles: { compliance: 1 } },
          },
        ],
      };
      const roles = await refusal(approvals.writePolicy(ctx(), needsCompliance), "conflict");
      assert.match(
        roles[0]!,
        /flag internal: rules\.0: .*its approval carries 0 of the 1 compliance sign-off\(s\)/,
      );
      // A newer failing run is not a write anyone can refuse: the flag is listed as violating.
      await run("run-newer", 0.5, "2026-12-03T00:00:00Z");
      const now = await flags.violations();
      assert.deepEqual(
        now.map((x) => x.key),
        ["internal"],
      );
      assert.match(now[0]!.errors[0]!.reason, /run-newer/);
      // A segment naming a gate the policy lacks is refused with the field.
      const unknownGate = await refusal(
        approvals.writePolicy(
          ctx(),
          {
            rules: policy.rules,
            segments: [{ name: "x", description: "", when: {}, require: { gates: ["nope"] } }],
          },
          replace,
        ),
        "invalid_input",
      );
      assert.deepEqual(unknownGate, ["body.segments.0.require.gates.0: no release gate named 'nope'"]);
    });
  });
}
