import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
// Set before main.ts is loaded, so it does not run itself as a program (a static import would load it first).
import { runCliAs } from "../test-support/cli.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../test-support/stores.ts";

for (const target of allStoreTargets()) {
  describe(`CLI tokens and whoami on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let admin = "";
    before(async () => {
      h = await openHarness(target);
      admin = await h.tokenFor("dora", ["admin"]);
    });
    after(async () => h.cleanup());
    const run = (token: string, ...argv: string[]) => runCliAs(h.fetch, token, argv);

    test("tokens create prints the secret once with a warning; --json prints the whole object", async () => {
      const r = await run(
        admin,
        "tokens",
        "create",
        "carol",
        "--role",
        "engineering",
        "--role",
        "compliance",
      );
      assert.equal(r.code, 0, r.err);
      const secret = /^token: (mgv_\S+)$/m.exec(r.out)?.[1];
      assert.ok(secret, r.out);
      assert.match(r.out, /store it now; it is not shown again/);
      assert.match(r.out, /roles\s+engineering, compliance/);
      const me = await run(secret, "--json", "whoami");
      assert.equal(me.code, 0, me.err);
      assert.deepEqual(JSON.parse(me.out).roles, ["engineering", "compliance"]);

      const expiresAt = new Date(h.clock.now().getTime() + 86_400_000).toISOString();
      const j = await run(
        admin,
        "--json",
        "tokens",
        "create",
        "ci",
        "--role",
        "viewer",
        "--expires-at",
        expiresAt,
      );
      assert.equal(j.code, 0, j.err);
      const t = JSON.parse(j.out);
      assert.match(t.token, /^mgv_/);
      assert.equal(t.name, "ci");
      assert.deepEqual(t.roles, ["viewer"]);
      assert.equal(t.expiresAt, expiresAt);
      assert.equal(t.createdBy, "dora");

      // -q: the secret alone, for TOKEN=$(modelgov tokens create … -q).
      const q = await run(admin, "tokens", "create", "bot", "--role", "viewer", "-q");
      assert.equal(q.code, 0, q.err);
      assert.match(q.out, /^mgv_\S+$/);
      assert.equal(JSON.parse((await run(q.out, "--json", "whoami")).out).name, "bot");
    });

    test("roles are a closed set: a misspelt role is refused naming the known ones; a policy can declare more", async () => {
      const typo = await run(admin, "tokens", "create", "frank", "--role", "complience");
      assert.equal(typo.code, 1);
      assert.match(
        typo.err,
        /body\.roles\.0: unknown role 'complience'; known roles: admin, agent, compliance, engineering, executive, operations, product, security, viewer/,
      );
      const before = await h.services.identity.list();
      assert.equal(
        before.some((t) => t.name === "frank"),
        false,
        "no token was made",
      );
      // A role an approval policy rule names becomes known.
      const policy = await h.services.approvals.getPolicy();
      await h.services.approvals.setPolicy(ctx("dora", ["admin"]), {
        rules: [
          ...policy.rules,
          {
            name: "legal-review",
            match: { models: ["contracts"] },
            roles: { legal: 1 },
            evidence: [],
            signoffTtlDays: 90,
            allowSameSignerForMultipleRoles: false,
          },
        ],
        gates: policy.gates,
      });
      const legal = await run(admin, "tokens", "create", "lena", "--role", "legal");
      assert.equal(legal.code, 0, legal.err);
      await h.services.approvals.setPolicy(ctx("dora", ["admin"]), policy);
    });

    test("tokens create: usage errors exit 2, bad input exits 1 naming the field", async () => {
      assert.equal((await run(admin, "tokens", "create", "nobody")).code, 2, "--role is required");
      assert.equal((await run(admin, "tokens", "create")).code, 2);
      const past = await run(
        admin,
        "tokens",
        "create",
        "x",
        "--role",
        "viewer",
        "--expires-at",
        "2020-01-01T00:00:00Z",
      );
      assert.equal(past.code, 1);
      assert.match(past.err, /body\.expiresAt: must be in the future/);
      const badRole = await run(admin, "tokens", "create", "x", "--role", "Not A Role");
      assert.equal(badRole.code, 1);
      assert.match(badRole.err, /body\.roles/);
    });

    test("tokens list shows every token and never a secret", async () => {
      const created = await run(admin, "--json", "tokens", "create", "listed", "--role", "viewer");
      const secret = JSON.parse(created.out).token as string;
      const table = await run(admin, "tokens", "list");
      assert.equal(table.code, 0, table.err);
      for (const col of ["id", "name", "roles", "prefix", "createdAt", "expiresAt", "revokedAt"])
        assert.match(table.out, new RegExp(`\\b${col}\\b`));
      assert.match(table.out, /listed/);
      assert.ok(!table.out.includes(secret));
      const j = await run(admin, "--json", "tokens", "list");
      const list = JSON.parse(j.out) as Record<string, unknown>[];
      assert.ok(list.some((t) => t.name === "listed"));
      assert.ok(list.every((t) => !("token" in t)));
      assert.ok(!j.out.includes(secret));
    });

    test("a viewer cannot create or list tokens: exit 1, the message names tokens:admin", async () => {
      const viewer = await h.tokenFor("vic", ["viewer"]);
      const r = await run(viewer, "tokens", "create", "sneaky", "--role", "admin");
      assert.equal(r.code, 1);
      assert.match(r.err, /tokens:admin/);
      assert.match(r.err, /HTTP 403/);
      assert.match(r.err, /your roles: viewer/);
      const l = await run(viewer, "tokens", "list");
      assert.equal(l.code, 1);
      assert.match(l.err, /tokens:admin/);
      const w = await run(viewer, "whoami");
      assert.equal(w.code, 0, w.err);
      assert.match(w.out, /name\s+vic/);
      assert.match(w.out, /roles\s+viewer/);
      assert.match(w.out, /registry:read/);
    });

    test("tokens revoke: the revoked token fails with exit 1 from then on", async () => {
      const created = JSON.parse(
        (await run(admin, "--json", "tokens", "create", "temp", "--role", "viewer")).out,
      );
      assert.equal((await run(created.token, "whoami")).code, 0);
      const r = await run(admin, "tokens", "revoke", created.id);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`revoked token ${created.id} \\(temp\\)`));
      assert.match(r.out, /revokedBy\s+dora/);
      const after = await run(created.token, "whoami");
      assert.equal(after.code, 1);
      assert.match(after.err, /unknown, revoked or expired \(HTTP 401\)/);
      assert.equal((await run(created.token, "models", "list")).code, 1);
      const again = await run(admin, "tokens", "revoke", created.id);
      assert.equal(again.code, 1);
      assert.match(again.err, /already revoked/);
      const listed = JSON.parse((await run(admin, "--json", "tokens", "list")).out) as {
        id: string;
        revokedAt: string;
      }[];
      assert.ok(listed.find((t) => t.id === created.id)?.revokedAt);
    });

    test("whoami --json gives name, roles and permissions", async () => {
      const r = await run(admin, "--json", "whoami");
      assert.equal(r.code, 0, r.err);
      const me = JSON.parse(r.out);
      assert.equal(me.name, "dora");
      assert.deepEqual(me.roles, ["admin"]);
      assert.ok(me.permissions.includes("tokens:admin"));
    });
  });
}
