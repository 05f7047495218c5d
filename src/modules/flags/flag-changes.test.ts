import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { DEMO_FLAG, seedDemo } from "../../demo/seed.ts";
import { AppError } from "../../lib/errors.ts";
import { runCliAs } from "../../test-support/cli.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { FlagChangeRuleSchema } from "../approvals/index.ts";
import { listAudit } from "../audit/index.ts";
import { SpecSchema } from "../spec/index.ts";
import { type FlagInput, FlagInputSchema } from "./flags.schemas.ts";

const eve = ctx("eve", ["engineering"]); // asks for changes
const sam = ctx("sam", ["engineering"]);
const cora = ctx("cora", ["compliance"]);
const dual = ctx("dual", ["engineering", "compliance"]);
const RULE = FlagChangeRuleSchema.parse({
  name: "support-flags",
  match: { models: ["support-assistant"] },
  roles: { engineering: 1, compliance: 1 },
});

const flag = (key: string, over: Partial<FlagInput> = {}): FlagInput =>
  FlagInputSchema.parse({
    key,
    type: "string",
    variants: { old: "support-assistant@1.0.0", current: "support-assistant@1.1.0" },
    defaultVariant: "current",
    rules: [{ when: { tenant: "internal" }, variant: "old" }],
    ...over,
  });

async function refused(p: Promise<unknown>, code: AppError["code"], pattern: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AppError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

for (const target of allStoreTargets()) {
  describe(`flag changes held for sign-offs on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
      await seedDemo(h.services);
      const policy = await h.services.approvals.getPolicy();
      await h.services.approvals.writePolicy(ctx(), { rules: policy.rules, flagChanges: [RULE] });
    });
    after(() => h.cleanup());
    const flags = () => h.services.flags;
    const sign = (who: typeof eve, id: string, role: string, decision: "approve" | "reject" = "approve") =>
      flags().changes.sign(who, id, { role, decision, comment: "" });

    test("a change to a flag steering a governed model waits for every role; nobody signs around it", async () => {
      const held = await flags().put(eve, flag("routing"), "create", { reason: "route internal to 1.0.0" });
      assert.equal(held.change, "pending");
      assert.ok(held.change === "pending");
      const id = held.request.id;
      assert.deepEqual(held.request.requirements, {
        rules: ["support-flags"],
        roles: { engineering: 1, compliance: 1 },
        allowSameSignerForMultipleRoles: false,
      });
      await assert.rejects(flags().get("routing"), /not found/, "a held create writes no flag");
      // One change at a time per flag.
      await refused(
        flags().put(eve, flag("routing", { defaultVariant: "old" }), "create"),
        "conflict",
        /has a change waiting for sign-offs/,
      );
      // The ways around it: the requester, a token without the role, a role the change does not need, one person twice.
      await refused(sign(eve, id, "engineering"), "forbidden", /requester cannot sign/);
      await refused(sign(cora, id, "engineering"), "forbidden", /does not hold the role 'engineering'/);
      await refused(
        sign(ctx("sec", ["security"]), id, "security"),
        "invalid_input",
        /needs sign-off from: compliance, engineering/,
      );
      await sign(dual, id, "engineering");
      await refused(sign(dual, id, "compliance"), "forbidden", /already signed for another role/);
      await refused(sign(dual, id, "engineering"), "conflict", /already signed as engineering/);
      await assert.rejects(flags().get("routing"), /not found/, "one role of two signed: still held");

      const applied = await sign(cora, id, "compliance");
      assert.equal(applied.status, "applied");
      assert.equal(applied.appliedRevision, 1);
      const f = await flags().get("routing");
      assert.deepEqual([f.revision, f.updatedBy, f.defaultVariant], [1, "eve", "current"]);
      const events = await listAudit(h.db, { subjectType: "flag", subjectId: "routing", limit: 10 });
      const created = events.find((e) => e.action === "flag.created");
      assert.equal(created?.actor, "cora");
      assert.match(
        created?.reason ?? "",
        /requested by eve, signed by cora \(compliance\), dual \(engineering\): route internal to 1\.0\.0/,
      );
      assert.deepEqual(
        events
          .map((e) => e.action)
          .filter((a) => a.startsWith("flag.change_"))
          .sort(),
        ["flag.change_applied", "flag.change_requested", "flag.change_signed", "flag.change_signed"],
      );
      await refused(sign(sam, id, "engineering"), "conflict", /is applied/);
    });

    test("disable, delete and modelgov.yaml are held too; reject and withdraw end a change; a flag steering no governed model applies at once", async () => {
      const off = await flags().setEnabled(eve, "routing", false, "incident");
      assert.ok("pending" in off);
      assert.equal((await flags().get("routing")).enabled, true);
      assert.equal((await sign(cora, off.pending.id, "compliance", "reject")).status, "rejected");
      assert.equal((await flags().get("routing")).enabled, true);

      const del = await flags().remove(eve, "routing");
      assert.ok(del);
      await refused(flags().changes.withdraw(sam, del.id), "forbidden", /only the requester/);
      assert.equal((await flags().changes.withdraw(eve, del.id)).status, "withdrawn");
      assert.equal((await flags().get("routing")).revision, 1);

      const { key: _, ...body } = flag("routing", { defaultVariant: "old" });
      const plan = await h.services.spec.apply(
        eve,
        SpecSchema.parse({ apiVersion: "modelgov/v1", flags: { routing: body } }),
        false,
      );
      assert.deepEqual(
        plan.changes.map((c) => `${c.action} ${c.target}`),
        ["request_flag_change routing"],
      );
      assert.equal((await flags().get("routing")).defaultVariant, "current");
      const pending = await flags().changes.list({ key: "routing", status: "pending" });
      assert.equal(pending.length, 1);
      await flags().changes.withdraw(eve, pending[0]!.id);

      const plain = await flags().put(eve, flag("plain", { variants: { old: "a", current: "b" } }), "create");
      assert.equal(plain.change, "created");
      // A change the gates would refuse is refused when proposed, not after people signed it.
      await refused(
        flags().put(
          eve,
          flag("routing", {
            variants: { old: "support-assistant@2.0.0", current: "support-assistant@1.1.0" },
          }),
          "upsert",
        ),
        "unprocessable",
        /variants\.old/,
      );
      assert.equal((await flags().changes.list({ key: "routing", status: "pending" })).length, 0);
    });

    test("a change proposed before the flag moved is superseded, not applied; one left unsigned lapses", async () => {
      const held = await flags().put(eve, flag("routing", { defaultVariant: "old" }), "upsert");
      assert.ok(held.change === "pending");
      // The flag moves under it (the rule lifted for a moment, an admin's direct write).
      const policy = await h.services.approvals.getPolicy();
      await h.services.approvals.writePolicy(
        ctx(),
        { rules: policy.rules, flagChanges: [] },
        { allowRemovals: true },
      );
      assert.equal(
        (await flags().put(ctx(), flag("routing", { description: "moved" }), "upsert")).change,
        "updated",
      );
      await h.services.approvals.writePolicy(ctx(), { rules: policy.rules, flagChanges: [RULE] });
      await sign(sam, held.request.id, "engineering");
      const out = await sign(cora, held.request.id, "compliance");
      assert.equal(out.status, "superseded");
      assert.equal((await flags().get("routing")).defaultVariant, "current");

      const late = await flags().put(eve, flag("routing", { defaultVariant: "old" }), "upsert");
      assert.ok(late.change === "pending");
      h.clock.advance(8 * 86_400_000);
      assert.equal((await flags().changes.get(late.request.id)).status, "lapsed");
      await refused(sign(sam, late.request.id, "engineering"), "conflict", /lapsed/);
      // A lapsed change does not block the next one.
      const next = await flags().put(eve, flag("routing", { defaultVariant: "old" }), "upsert");
      assert.equal(next.change, "pending");
      assert.equal(DEMO_FLAG.key, "support-assistant.version");
    });

    test("through the API and the CLI: a held write answers 202 with the change; signers finish it", async () => {
      const token = async (name: string, roles: string[]) =>
        (await h.services.identity.create(ctx(), { name, roles } as never)).token;
      const as =
        (t: string) =>
        (...argv: string[]) =>
          runCliAs(h.fetch, t, argv);
      const [asEve, asSam, asCora] = [
        as(await token("cli-eve", ["engineering"])),
        as(await token("cli-sam", ["engineering"])),
        as(await token("cli-cora", ["compliance"])),
      ];
      const dir = mkdtempSync(path.join(tmpdir(), "flag-changes-"));
      const file = path.join(dir, "flag.json");
      writeFileSync(file, JSON.stringify(flag("cli-flag")));
      const held = await asEve("flags", "set", "-f", file, "--reason", "new routing flag");
      assert.equal(held.code, 0, held.err);
      const id = /change (fcr_[a-f0-9]{20})/.exec(held.out)?.[1];
      assert.ok(id, held.out);
      assert.match(held.out, /needs compliance ×1, engineering ×1/);
      const listed = await asEve("flags", "changes", "--key", "cli-flag", "--status", "pending", "--json");
      assert.deepEqual(
        JSON.parse(listed.out).map((r: { id: string }) => r.id),
        [id],
      );
      const self = await asEve("flags", "sign", id, "--role", "engineering");
      assert.notEqual(self.code, 0);
      assert.match(self.err, /requester cannot sign/);
      assert.match(
        (await asSam("flags", "sign", id, "--role", "engineering")).out,
        /still needs compliance ×1/,
      );
      const done = await asCora("flags", "sign", id, "--role", "compliance", "--comment", "ok");
      assert.match(done.out, new RegExp(`change ${id} applied: flag cli-flag at revision 1`));
      assert.equal((await asEve("flags", "get", "cli-flag")).code, 0);
      const check = await asEve("flags", "check");
      assert.deepEqual([check.code, check.out], [0, "every flag passes the segment gate"]);
      // The raw API: a governed delete is 202 with the change request, and the flag stays.
      const res = await h.fetch("http://modelgov.test/api/v1/flags/cli-flag?reason=cleanup", {
        method: "DELETE",
        headers: { authorization: `Bearer ${h.adminToken}` },
      });
      assert.equal(res.status, 202);
      const body = (await res.json()) as { change: string; status: string; reason: string };
      assert.deepEqual([body.change, body.status, body.reason], ["deleted", "pending", "cleanup"]);
      assert.equal((await flags().get("cli-flag")).revision, 1);
      rmSync(dir, { recursive: true, force: true });
    });
  });
}
