import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runCliAs } from "../test-support/cli.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../test-support/stores.ts";

const RULE = {
  name: "all",
  match: {},
  roles: { engineering: 1 },
  evidence: ["card" as const],
  signoffTtlDays: 90,
  allowSameSignerForMultipleRoles: false,
};
const GATE = { name: "support-release", match: { useCases: ["support"] }, successRate: { min: 0.85 } };

for (const target of allStoreTargets()) {
  describe(`approval policy writes on ${target.name}: no gate or rule removed by accident`, {
    skip: target.skip,
  }, () => {
    let h: Harness;
    let admin = "";
    const dir = mkdtempSync(path.join(tmpdir(), "modelgov-policy-"));
    const file = (name: string, body: unknown) => {
      const f = path.join(dir, name);
      writeFileSync(f, JSON.stringify(body));
      return f;
    };
    before(async () => {
      h = await openHarness(target);
      admin = await h.tokenFor("dora", ["admin"]);
      await h.services.approvals.setPolicy(ctx("dora", ["admin"]), { rules: [RULE], gates: [GATE] });
    });
    after(async () => {
      await h.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });
    const run = (...argv: string[]) => runCliAs(h.fetch, admin, argv);

    test("a file of rules alone leaves the gates in force; policy get shows them", async () => {
      const stricter = { ...RULE, roles: { engineering: 2 } };
      const r = await run("approvals", "policy", "set", "-f", file("rules.json", { rules: [stricter] }));
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /~ rule all \(changed\)/);
      assert.match(r.out, /policy written: 1 rules, 1 gates/);
      const p = await h.services.approvals.getPolicy();
      assert.deepEqual(
        p.gates.map((g) => g.name),
        ["support-release"],
      );
      const get = await run("approvals", "policy", "get");
      assert.match(get.out, /support-release/);
    });

    test("removing a gate or a rule is refused naming it, shown by --dry-run, and done with --allow-removals", async () => {
      const noGates = file("no-gates.json", { rules: [RULE], gates: [] });
      const refused = await run("approvals", "policy", "set", "-f", noGates);
      assert.equal(refused.code, 1);
      assert.match(refused.err, /removes gate 'support-release'/);
      assert.match(refused.err, /--allow-removals/);
      assert.equal((await h.services.approvals.getPolicy()).gates.length, 1, "nothing written");

      const dry = await run("approvals", "policy", "set", "-f", noGates, "--dry-run");
      assert.equal(dry.code, 0, dry.err);
      assert.match(dry.out, /- gate support-release \(removed\)/);
      assert.match(dry.out, /dry run: nothing written/);
      assert.equal((await h.services.approvals.getPolicy()).gates.length, 1);

      const noRules = await run("approvals", "policy", "set", "-f", file("none.json", { rules: [] }));
      assert.equal(noRules.code, 1);
      assert.match(noRules.err, /removes rule 'all'/);

      const done = await run("approvals", "policy", "set", "-f", noGates, "--allow-removals");
      assert.equal(done.code, 0, done.err);
      assert.equal((await h.services.approvals.getPolicy()).gates.length, 0);
      const events = await h.db.query<{ action: string }>(
        "SELECT action FROM audit_events WHERE action = 'approval_policy.updated'",
      );
      assert.ok(events.length >= 2, "every write is audited");
    });

    test("the API answers the same: 412 naming the removal, and the changes on a dry run", async () => {
      await h.services.approvals.setPolicy(ctx("dora", ["admin"]), { rules: [RULE], gates: [GATE] });
      const put = (query: string, body: unknown) =>
        h.request(`/api/v1/approvals/policy${query}`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const res = await put("", { rules: [RULE], gates: [] });
      assert.equal(res.status, 412);
      const problem = (await res.json()) as { errors: { field: string; reason: string }[] };
      assert.deepEqual(problem.errors, [{ field: "body.gates", reason: "removes gate 'support-release'" }]);
      const dry = (await (await put("?dryRun=true", { rules: [RULE], gates: [] })).json()) as {
        dryRun: boolean;
        changes: unknown[];
      };
      assert.deepEqual(dry, {
        dryRun: true,
        changes: [{ kind: "gate", name: "support-release", change: "removed" }],
        policy: { rules: [RULE], gates: [], segments: [], flagChanges: [] },
      });
    });
  });
}
