import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { manualClock } from "../lib/clock.ts";
import { createLogger } from "../lib/logger.ts";
import { createHttpApp, createServices } from "../services.ts";
import {
  allStoreTargets,
  type Harness,
  openHarness,
  readJson,
  storeTargets,
} from "../test-support/stores.ts";

const json = (body: unknown, method = "POST") => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

for (const target of allStoreTargets()) {
  describe(`HTTP API on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
    });
    after(async () => h.cleanup());

    test("health and readiness", async () => {
      const live = await h.request("/healthz");
      assert.equal(live.status, 200);
      const ready = await h.request("/readyz");
      assert.deepEqual(await readJson(ready), { status: "ready", store: h.db.kind });
      // Shutting down: readiness answers 503 at once, so no new work is routed here.
      let draining = false;
      const app = createHttpApp(h.services, createLogger("silent"), { draining: () => draining });
      assert.equal((await app.request("/readyz")).status, 200);
      draining = true;
      const drained = await app.request("/readyz");
      assert.equal(drained.status, 503);
      assert.deepEqual(await readJson(drained), { status: "draining", store: h.db.kind });
    });

    test("bad input is a problem+json naming the field and the reason, and writes nothing", async () => {
      const res = await h.request(
        "/api/v1/models",
        json({ name: "Bad Name", owner: "", riskTier: "extreme" }),
      );
      assert.equal(res.status, 400);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      const p = await readJson(res);
      assert.equal(p.code, "invalid_input");
      const fields = p.errors.map((e: { field: string }) => e.field).sort();
      assert.deepEqual(fields, ["body.name", "body.owner", "body.riskTier"]);
      assert.ok(p.errors.every((e: { reason: string }) => e.reason.length > 0));
      assert.match(p.requestId, /^req_/);
      const list = await readJson(await h.request("/api/v1/models"));
      assert.equal(list.items.length, 0);
    });

    test("a NUL or a lone surrogate in a body field, the query or the path is a 400 naming it, and writes nothing", async () => {
      const cases: [Promise<Response>, string, RegExp][] = [
        [
          h.request("/api/v1/models", json({ name: "nul", owner: "a\u0000b", riskTier: "low" })),
          "body.owner",
          /NUL/,
        ],
        [
          h.request(
            "/api/v1/models",
            json({ name: "sur", owner: "o", riskTier: "low", tags: ["x", "\udc00"] }),
          ),
          "body.tags.1",
          /lone surrogate/,
        ],
        [h.request("/api/v1/models?q=%00"), "query.q", /NUL/],
        [h.request("/api/v1/models/a%00b"), "path", /NUL/],
        [h.request("/api/v1/models/%E0%A4%A"), "path", /percent-encoding/],
      ];
      for (const [pending, field, reason] of cases) {
        const res = await pending;
        assert.equal(res.status, 400, field);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        const p = await readJson(res);
        assert.equal(p.errors[0].field, field);
        assert.match(p.errors[0].reason, reason);
      }
      // A well-formed pair (an emoji) and ordinary escapes are fine.
      const ok = await h.request(
        "/api/v1/models",
        json({ name: "emoji", owner: "team \ud83d\ude80", riskTier: "low" }),
      );
      assert.equal(ok.status, 201);
      const names = (await readJson(await h.request("/api/v1/models"))).items.map(
        (m: { name: string }) => m.name,
      );
      assert.deepEqual(
        names.filter((n: string) => ["nul", "sur"].includes(n)),
        [],
      );
    });

    test("a number that overflows a double (1e400 reads as Infinity) is a 400 naming it, where any JSON is taken", async () => {
      await h.request("/api/v1/models", json({ name: "huge", owner: "o", riskTier: "low" }));
      const text = (body: string, method = "POST") => ({
        method,
        headers: { "content-type": "application/json" },
        body,
      });
      const cases: [Promise<Response>, string][] = [
        [
          h.request(
            "/api/v1/models/huge/versions",
            text('{"version":"1.0.0","provider":"openai","providerModelId":"x","parameters":{"t":1e400}}'),
          ),
          "body.parameters.t",
        ],
        [
          h.request("/api/v1/models/huge", text(`{"description":"d","x":-${"9".repeat(400)}}`, "PATCH")),
          "body.x",
        ],
      ];
      for (const [pending, field] of cases) {
        const res = await pending;
        assert.equal(res.status, 400, field);
        const p = await readJson(res);
        assert.equal(p.errors[0].field, field);
        assert.match(p.errors[0].reason, /finite number/);
      }
      // Nesting past 200 levels is refused before the content hash recurses (depth 5,000 overflowed
      // its stack, and an overflowing number below depth 200 went unseen): both were 500s.
      for (const [inner, reason] of [
        ["1", /nested deeper than 200/],
        ["1e400", /nested deeper than 200/],
      ] as const)
        for (const depth of [250, 5_000]) {
          const res = await h.request(
            "/api/v1/models/huge/versions",
            text(
              `{"version":"9.0.${depth}","provider":"openai","providerModelId":"x","parameters":{"t":${"[".repeat(depth)}${inner}${"]".repeat(depth)}}}`,
            ),
          );
          assert.equal(res.status, 400, `${inner} at depth ${depth}`);
          assert.match((await readJson(res)).errors[0].reason, reason);
        }
      // 1e308 is a double: it gets through.
      const ok = await h.request(
        "/api/v1/models/huge/versions",
        text('{"version":"1.0.0","provider":"openai","providerModelId":"x","parameters":{"t":1e308}}'),
      );
      assert.equal(ok.status, 201, await ok.text());
    });

    test("an upstream endpoint that is not http(s), or carries credentials, is refused at registration", async () => {
      assert.equal(
        (await h.request("/api/v1/models", json({ name: "ep", owner: "o", riskTier: "low" }))).status,
        201,
      );
      for (const endpoint of [
        "file:///etc/passwd",
        "gopher://127.0.0.1:25/",
        "ftp://files.example/x",
        "http://user:pw@api.example/v1",
      ]) {
        const res = await h.request(
          "/api/v1/models/ep/versions",
          json({ version: "1.0.0", provider: "openai-compatible", providerModelId: "m", endpoint }),
        );
        assert.equal(res.status, 400, endpoint);
        const p = await readJson(res);
        assert.equal(p.errors[0].field, "body.endpoint", endpoint);
      }
    });

    test("malformed JSON and unknown fields are refused with 400", async () => {
      const res = await h.request("/api/v1/models", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{nope",
      });
      assert.equal(res.status, 400);
      assert.equal((await readJson(res)).code, "invalid_input");
      const extra = await h.request(
        "/api/v1/models",
        json({ name: "a", owner: "o", riskTier: "low", colour: "red" }),
      );
      assert.equal(extra.status, 400);
      assert.match(JSON.stringify(await readJson(extra)), /colour/);
    });

    test("create, 409 on duplicate, 404 on unknown, with request ids echoed", async () => {
      const carol = await h.tokenFor("carol", ["engineering"]);
      const res = await h.request(
        "/api/v1/models",
        {
          ...json({ name: "chat", owner: "team", riskTier: "low", useCases: ["support"] }),
          headers: { "content-type": "application/json", "x-request-id": "abc-123" },
        },
        carol,
      );
      assert.equal(res.status, 201);
      assert.equal(res.headers.get("x-request-id"), "abc-123");
      assert.equal((await readJson(res)).createdBy, "carol");
      const dup = await h.request("/api/v1/models", json({ name: "chat", owner: "team", riskTier: "low" }));
      assert.equal(dup.status, 409);
      assert.equal((await readJson(dup)).errors[0].field, "name");
      const missing = await h.request("/api/v1/models/ghost/versions/1.0.0");
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get("content-type"), "application/problem+json");
      const noRoute = await h.request("/api/v1/nothing-here");
      assert.equal(noRoute.status, 404);
    });

    test("a version path refuses a non-semver version with the field named", async () => {
      const res = await h.request(
        "/api/v1/models/chat/versions",
        json({ version: "v1.0", provider: "simulator", providerModelId: "x" }),
      );
      assert.equal(res.status, 400);
      const p = await readJson(res);
      assert.equal(p.errors[0].field, "body.version");
      assert.match(p.errors[0].reason, /semantic version/);
      const ok = await h.request(
        "/api/v1/models/chat/versions",
        json({ version: "1.0.0-rc.1+b5", provider: "simulator", providerModelId: "x" }),
      );
      assert.equal(ok.status, 201);
      const got = await h.request(`/api/v1/models/chat/versions/${encodeURIComponent("1.0.0-rc.1+b5")}`);
      assert.equal((await readJson(got)).version, "1.0.0-rc.1+b5");
    });

    test("an illegal transition is a 409 listing the allowed ones", async () => {
      const res = await h.request(
        `/api/v1/models/chat/versions/${encodeURIComponent("1.0.0-rc.1+b5")}/status`,
        json({ status: "deprecated" }),
      );
      assert.equal(res.status, 409);
      const p = await readJson(res);
      assert.deepEqual(p.allowed, ["canary", "production", "retired"]);
    });

    test("the OpenAPI 3.1 document is generated from the validating schemas", async () => {
      const doc = await readJson(await h.request("/api/v1/openapi.json"));
      assert.equal(doc.openapi, "3.1.0");
      for (const p of [
        "/api/v1/models",
        "/api/v1/models/{model}/versions/{version}",
        "/api/v1/recommend",
        "/api/v1/apply",
        "/api/v1/models/{model}/versions/{version}/card/import",
      ])
        assert.ok(doc.paths[p], `missing ${p}`);
      const create = doc.components.schemas.ModelCreate;
      assert.deepEqual(create.properties.riskTier.enum, ["low", "medium", "high", "critical"]);
      assert.ok(doc.components.schemas.Problem);
      assert.ok(doc.paths["/api/v1/models"].post.responses["400"]);
    });
  });
}

test("the log lines written about a request carry its request id", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).trim().split("\n"));
      cb();
    },
  });
  const target = storeTargets()[0]!;
  const { db, cleanup } = await target.openMigrated();
  try {
    const app = createHttpApp(createServices({ db, clock: manualClock() }), createLogger("info", sink));
    await app.request("/api/v1/models", { headers: { "x-request-id": "trace-me" } });
    await app.request("/api/v1/models/ghost");
    const parsed = lines.map((l) => JSON.parse(l));
    assert.equal(parsed.length, 2);
    assert.equal(parsed[0].requestId, "trace-me");
    assert.match(parsed[1].requestId, /^req_/);
    assert.equal(parsed[1].status, 401);
  } finally {
    await cleanup();
  }
});
