import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import {
  apiOperations,
  loadOpenApiDocument,
  type OpenApiDocument,
  renderRolesDoc,
} from "../../scripts/roles-doc.ts";
import { hashToken } from "../modules/identity/index.ts";
import { allStoreTargets, type Harness, openHarness, readJson } from "../test-support/stores.ts";
import { BUILT_IN_ROLES, can, PERMISSIONS, type Permission } from "./permissions.ts";

const json = (body: unknown, method = "POST"): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** Every built-in role and one stakeholder role (any role an approval policy may name). */
const ROLES = [...BUILT_IN_ROLES, "compliance"];

/**
 * What the issue promises, written out by hand so a change to the role table is a
 * deliberate one: role → the representative permissions it has.
 */
const PROMISED: Record<string, Permission[]> = {
  admin: ["registry:read", "registry:write", "policy:admin", "tokens:admin"],
  engineering: ["registry:read", "registry:write"],
  viewer: ["registry:read"],
  agent: [],
  compliance: ["registry:read"],
};

/** Answers whose status means the permission check let the call through. */
const passedAuthz = (status: number) => status !== 401 && status !== 403;

async function assertForbidden(res: Response, permission: string, what: string) {
  assert.equal(res.status, 403, `${what}: expected 403, got ${res.status}`);
  assert.equal(res.headers.get("content-type"), "application/problem+json", what);
  const p = await readJson(res);
  assert.equal(p.code, "forbidden", what);
  assert.match(p.detail, new RegExp(`'${permission}'`), what);
  assert.deepEqual(p.errors, [{ field: "authorization", reason: `missing permission ${permission}` }], what);
}

async function assertUnauthenticated(res: Response, what: string) {
  assert.equal(res.status, 401, `${what}: expected 401, got ${res.status}`);
  assert.equal(res.headers.get("content-type"), "application/problem+json", what);
  assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer realm="modelgov"/, what);
  assert.equal((await readJson(res)).code, "unauthenticated", what);
}

for (const target of allStoreTargets()) {
  describe(`authentication and authorization on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let doc: OpenApiDocument;
    const tokens: Record<string, string> = {};
    /** A request with an exact Authorization header (or none), bypassing the harness's admin default. */
    const raw = (path: string, init: RequestInit = {}, authorization?: string) => {
      const headers = new Headers(init.headers);
      if (authorization !== undefined) headers.set("authorization", authorization);
      return h.app.request(path, { ...init, headers });
    };
    const as = (role: string, path: string, init: RequestInit = {}) => h.request(path, init, tokens[role]);

    before(async () => {
      h = await openHarness(target);
      for (const role of ROLES) tokens[role] = await h.tokenFor(`${role}-user`, [role]);
      doc = await readJson(await raw("/api/v1/openapi.json"));
    });
    after(async () => h.cleanup());

    test("every API operation declares a known permission and the bearer scheme", () => {
      const ops = apiOperations(doc).filter((o) => o.path !== "/api/v1/openapi.json");
      assert.ok(ops.length >= 20, `only ${ops.length} operations in the document`);
      const unguarded = ops.filter(
        (o) => !(PERMISSIONS as readonly string[]).includes(o.permission as string),
      );
      assert.deepEqual(
        unguarded.map((o) => `${o.method} ${o.path}: ${String(o.permission)}`),
        [],
        "operations without a known x-permission (declare one with apiRoute({ permission }))",
      );
      for (const [path, item] of Object.entries(doc.paths ?? {}))
        for (const [method, op] of Object.entries(item as Record<string, { security?: unknown }>))
          assert.deepEqual(
            op.security,
            // The gateway's /v1 takes the token Anthropic's way too (x-api-key).
            path.startsWith("/v1/") ? [{ bearerAuth: [] }, { apiKeyAuth: [] }] : [{ bearerAuth: [] }],
            `${method} ${path}`,
          );
    });

    test("the OpenAPI document itself is public", async () => {
      const res = await raw("/api/v1/openapi.json");
      assert.equal(res.status, 200);
    });

    test("no token: 401 problem+json with WWW-Authenticate", async () => {
      const sample: [string, RequestInit][] = [
        ["/api/v1/models", {}],
        ["/api/v1/whoami", {}],
        ["/api/v1/tokens", {}],
        ["/api/v1/tokens", json({ name: "x", roles: ["admin"] })],
        ["/api/v1/registry/policy", json({}, "PUT")],
        ["/api/v1/models", json({ name: "m", owner: "o", riskTier: "low" })],
      ];
      for (const [path, init] of sample) {
        const res = await raw(path, init);
        await assertUnauthenticated(res, `${init.method ?? "GET"} ${path}`);
      }
      const p = await readJson(await raw("/api/v1/models"));
      assert.deepEqual(p.errors, [{ field: "authorization", reason: "missing bearer token" }]);
      // Nothing was written by the refused calls.
      assert.equal((await readJson(await h.request("/api/v1/models"))).items.length, 0);
    });

    test("a garbage or malformed token: 401", async () => {
      for (const header of [
        "Bearer garbage",
        "Bearer mgv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        `Bearer ${hashToken(h.adminToken)}`,
        `Basic ${Buffer.from("admin:admin").toString("base64")}`,
        "Bearer",
        h.adminToken,
      ]) {
        await assertUnauthenticated(await raw("/api/v1/models", {}, header), header.slice(0, 20));
      }
      const p = await readJson(await raw("/api/v1/models", {}, "Bearer garbage"));
      assert.match(p.detail, /unknown, revoked or expired/);
    });

    test("a revoked token is refused; revoking twice is a 409", async () => {
      const created = await readJson(
        await h.request("/api/v1/tokens", json({ name: "short-lived", roles: ["engineering"] })),
      );
      const who = await raw("/api/v1/whoami", {}, `Bearer ${created.token}`);
      assert.equal(who.status, 200);
      assert.equal((await readJson(who)).name, "short-lived");
      const revoked = await h.request(`/api/v1/tokens/${created.id}/revoke`, { method: "POST" });
      assert.equal(revoked.status, 200);
      const body = await readJson(revoked);
      assert.equal(body.revokedBy, "admin");
      assert.equal(body.token, undefined);
      await assertUnauthenticated(await raw("/api/v1/whoami", {}, `Bearer ${created.token}`), "revoked");
      await assertUnauthenticated(
        await raw(
          "/api/v1/models",
          json({ name: "late", owner: "o", riskTier: "low" }),
          `Bearer ${created.token}`,
        ),
        "revoked write",
      );
      const again = await h.request(`/api/v1/tokens/${created.id}/revoke`, { method: "POST" });
      assert.equal(again.status, 409);
      assert.equal((await h.request("/api/v1/tokens/tok_nope/revoke", { method: "POST" })).status, 404);
    });

    test("an expired token is refused; an expiry in the past is refused at creation", async () => {
      const expiresAt = new Date(h.clock.now().getTime() + 60 * 60_000).toISOString();
      const res = await h.request(
        "/api/v1/tokens",
        json({ name: "contractor", roles: ["viewer"], expiresAt }),
      );
      assert.equal(res.status, 201);
      const created = await readJson(res);
      assert.equal(created.expiresAt, expiresAt);
      assert.equal((await raw("/api/v1/models", {}, `Bearer ${created.token}`)).status, 200);
      h.clock.advance(60 * 60_000 + 1);
      await assertUnauthenticated(await raw("/api/v1/models", {}, `Bearer ${created.token}`), "expired");
      const past = await h.request(
        "/api/v1/tokens",
        json({ name: "too-late", roles: ["viewer"], expiresAt: "2020-01-01T00:00:00Z" }),
      );
      assert.equal(past.status, 400);
      assert.equal((await readJson(past)).errors[0].field, "body.expiresAt");
    });

    test("role matrix: one representative call per permission, allowed or exactly 403", async () => {
      const policy = await readJson(await h.request("/api/v1/registry/policy"));
      const calls: {
        permission: Permission;
        method: string;
        path: string;
        call: (role: string) => RequestInit;
      }[] = [
        { permission: "registry:read", method: "GET", path: "/api/v1/models", call: () => ({}) },
        {
          permission: "registry:write",
          method: "POST",
          path: "/api/v1/models",
          call: (role) => json({ name: `made-by-${role}`, owner: "team", riskTier: "low" }),
        },
        {
          permission: "policy:admin",
          method: "PUT",
          path: "/api/v1/registry/policy",
          call: () => json(policy, "PUT"),
        },
        {
          permission: "tokens:admin",
          method: "POST",
          path: "/api/v1/tokens",
          call: (role) => json({ name: `issued-by-${role}`, roles: ["viewer"] }),
        },
        { permission: "tokens:admin", method: "GET", path: "/api/v1/tokens", call: () => ({}) },
      ];
      const declared = new Map(apiOperations(doc).map((o) => [`${o.method} ${o.path}`, o.permission]));
      for (const c of calls)
        assert.equal(
          declared.get(`${c.method} ${c.path}`),
          c.permission,
          `${c.method} ${c.path} x-permission`,
        );

      for (const role of ROLES) {
        for (const c of calls) {
          const what = `${role}: ${c.method} ${c.path}`;
          const res = await as(role, c.path, c.call(role));
          const promised = PROMISED[role]!.includes(c.permission);
          assert.equal(can([role], c.permission), promised, `${what}: role table disagrees with the issue`);
          if (promised) assert.ok(res.status >= 200 && res.status < 300, `${what}: got ${res.status}`);
          else await assertForbidden(res, c.permission, what);
        }
      }
      // Permissions whose routes are not covered above (approvals, audit, webhooks, gateway as
      // they land): the first operation that declares each one, called with placeholder input.
      const covered = new Set(calls.map((c) => c.permission));
      for (const p of PERMISSIONS.filter((x) => !covered.has(x))) {
        const op = apiOperations(doc).find((o) => o.permission === p);
        if (!op) continue;
        for (const role of ROLES) {
          const res = await as(role, placeholderPath(op.path), placeholderInit(op.method));
          const what = `${role}: ${op.method} ${op.path}`;
          if (can([role], p)) assert.ok(passedAuthz(res.status), `${what}: got ${res.status}`);
          else await assertForbidden(res, p, what);
        }
      }
    });

    test("agent tokens get 403 on every /api/v1 read; a token with several roles has the union", async () => {
      for (const path of ["/api/v1/models", "/api/v1/versions", "/api/v1/registry/policy", "/api/v1/whoami"])
        await assertForbidden(await as("agent", path), "registry:read", `agent GET ${path}`);
      const both = await h.tokenFor("agent-and-viewer", ["agent", "viewer"]);
      const me = await readJson(await h.request("/api/v1/whoami", {}, both));
      assert.deepEqual(me.roles, ["agent", "viewer"]);
      assert.ok(me.permissions.includes("gateway:use") && me.permissions.includes("registry:read"));
      assert.equal((await h.request("/api/v1/models", {}, both)).status, 200);
    });

    test("whoami names the caller, its roles and permissions", async () => {
      const me = await readJson(await as("compliance", "/api/v1/whoami"));
      assert.equal(me.name, "compliance-user");
      assert.deepEqual(me.roles, ["compliance"]);
      assert.deepEqual(me.permissions, [...PERMISSIONS].filter((p) => can(["compliance"], p)).sort());
      assert.deepEqual(me.builtInRoles, BUILT_IN_ROLES);
    });

    test("the secret is never in the audit log nor in the token list", async () => {
      const res = await h.request("/api/v1/tokens", json({ name: "ci-bot", roles: ["engineering"] }));
      assert.equal(res.status, 201);
      const created = await readJson(res);
      assert.match(created.token, /^mgv_/);
      await h.request(`/api/v1/tokens/${created.id}/revoke`, { method: "POST" });
      const secrets = [created.token, hashToken(created.token), h.adminToken, hashToken(h.adminToken)];

      const rows = await h.db.query<{ after: unknown }>(
        "SELECT after FROM audit_events WHERE action = 'token.created'",
      );
      const afters = rows.map((r) => (typeof r.after === "string" ? JSON.parse(r.after) : r.after));
      const mine = afters.find((a) => a.id === created.id);
      assert.ok(mine, "the token.created event of the new token");
      assert.equal(mine.name, "ci-bot");
      assert.equal(mine.createdBy, "admin");
      for (const a of afters) {
        assert.equal(a.token, undefined);
        assert.equal(a.token_hash, undefined);
        assert.equal(a.tokenHash, undefined);
      }
      const all = JSON.stringify(await h.db.query("SELECT * FROM audit_events WHERE action LIKE 'token.%'"));
      assert.match(all, /token\.revoked/);
      for (const s of secrets) assert.ok(!all.includes(s), "a secret or its hash is in the audit log");

      const list = await h.request("/api/v1/tokens");
      assert.equal(list.status, 200);
      const text = await list.text();
      for (const s of secrets) assert.ok(!text.includes(s), "a secret or its hash is in the token list");
      assert.ok(JSON.parse(text).every((t: object) => !("token" in t)));
    });

    test("every operation refuses, with 403, each role that lacks its permission", async () => {
      // Placeholder ids and bodies: a caller the permission check lets through gets some other
      // answer (400, 404, ...); one it stops gets exactly 403, before any input is looked at.
      for (const op of apiOperations(doc).filter((o) => o.path !== "/api/v1/openapi.json")) {
        const p = op.permission as Permission;
        for (const role of ROLES) {
          const res = await as(role, placeholderPath(op.path), placeholderInit(op.method));
          const what = `${role}: ${op.method} ${op.path}`;
          if (can([role], p)) assert.ok(passedAuthz(res.status), `${what}: got ${res.status}`);
          else await assertForbidden(res, p, what);
        }
      }
    });
  });
}

const placeholderPath = (path: string) => path.replace(/\{[^}]+\}/g, "authz-placeholder");
const placeholderInit = (method: string): RequestInit =>
  method === "GET" || method === "HEAD" ? { method } : json({}, method);

describe("docs/roles.md", () => {
  test("is current (npm run gen:roles regenerates it)", async () => {
    // A copy of the migrated store (an initdb and every migration cost about 8 s here).
    const store = await allStoreTargets()[0]!.openMigrated();
    const expected = renderRolesDoc(await loadOpenApiDocument(store.db).finally(() => store.cleanup()));
    const actual = readFileSync(new URL("../../docs/roles.md", import.meta.url), "utf8");
    assert.equal(actual, expected, "docs/roles.md is stale: run `npm run gen:roles`");
  });
});
