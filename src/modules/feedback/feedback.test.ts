import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { manualClock } from "../../lib/clock.ts";
import { createLogger } from "../../lib/logger.ts";
import type { Db } from "../../store/db.ts";
import { type FlakyDb, flakyDb } from "../../test-support/flaky-db.ts";
import { allStoreTargets } from "../../test-support/stores.ts";
import type { Principal } from "../identity/index.ts";
import { createFeedbackService, createFeedbackWriter } from "./index.ts";

const agent: Principal = { tokenId: "tok_agent1", name: "support-bot", roles: ["agent"] };
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "modelgov-feedback-"));
  dirs.push(d);
  return d;
};
process.on("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
type Body = any;

for (const target of allStoreTargets()) {
  describe(`feedback on ${target.name}`, { skip: target.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await target.openMigrated());
    });
    after(() => cleanup());

    const clock = manualClock(new Date("2026-03-01T09:00:00Z"));
    const open = (q: FlakyDb = flakyDb(db), spoolDir = tmp()) => {
      const writer = createFeedbackWriter({ db: q, clock, logger: createLogger("silent"), spoolDir });
      return { q, spoolDir, writer, svc: createFeedbackService({ writer, clock }) };
    };
    const rows = (requestId: string) =>
      db.query<Record<string, unknown>>("SELECT * FROM feedback WHERE request_id = $1 ORDER BY at, id", [
        requestId,
      ]);

    test("202 once the row is in the database; every field stored, who gave it recorded", async () => {
      const { svc, writer } = open();
      const r = await svc.handleFeedback(agent, {
        requestId: "req_fb_1",
        success: true,
        score: 4.5,
        labels: ["helpful", "tone:formal"],
        groups: { age_band: "65+", region: "eu", language: "de" },
        comment: "solved it",
        correction: "Your invoice is under Billing → History.",
      });
      assert.equal(r.status, 202);
      assert.equal(r.headers["content-type"], "application/json");
      const body = r.body as Body;
      assert.equal(body.accepted, true);
      assert.equal(body.requestId, "req_fb_1");
      assert.match(body.feedbackId, /^fbk_[0-9a-f]{32}$/);
      // Acknowledged means durable: the row is there the moment the answer is.
      const [row] = await rows("req_fb_1");
      assert.ok(row);
      assert.equal(row.id, body.feedbackId);
      assert.equal(row.success, true);
      assert.equal(row.score, 4.5);
      assert.deepEqual(row.labels, ["helpful", "tone:formal"]);
      assert.deepEqual(row.groups, { age_band: "65+", region: "eu", language: "de" });
      assert.equal(row.comment, "solved it");
      assert.equal(row.correction, "Your invoice is under Billing → History.");
      assert.equal(row.token_id, "tok_agent1");
      assert.equal(row.client, "support-bot");
      assert.equal((row.at as Date).toISOString(), "2026-03-01T09:00:00.000Z");
      await writer.stop();
    });

    test("feedback may precede its log row; the same feedback twice is one row, new feedback appends", async () => {
      const { svc, writer } = open();
      const a = await svc.handleFeedback(agent, { requestId: "req_fb_2", success: false });
      const again = await svc.handleFeedback(agent, { requestId: "req_fb_2", success: false });
      assert.equal(again.status, 202);
      assert.equal((again.body as Body).feedbackId, (a.body as Body).feedbackId);
      clock.advance(60_000);
      const later = await svc.handleFeedback(agent, {
        requestId: "req_fb_2",
        score: 2,
        labels: ["reviewed"],
      });
      assert.notEqual((later.body as Body).feedbackId, (a.body as Body).feedbackId);
      const got = await rows("req_fb_2");
      assert.deepEqual(
        got.map((r) => [r.success, r.score, r.correction]),
        [
          [false, null, null],
          [null, 2, null],
        ],
      );
      await writer.stop();
    });

    test("invalid feedback is a 400 problem naming each field", async () => {
      const { svc, writer } = open();
      const cases: [unknown, string][] = [
        [{ success: true }, "body.requestId"],
        [{ requestId: "req_x" }, "body.success"],
        [{ requestId: "req_x", success: "yes" }, "body.success"],
        [{ requestId: "req_x", score: "high" }, "body.score"],
        [{ requestId: "req_x", success: true, labels: "a" }, "body.labels"],
        [{ requestId: "req_x", success: false, correction: "" }, "body.correction"],
        [{ requestId: "req_x", success: true, groups: { "Age Band": "x" } }, "body.groups.Age Band"],
        [{ requestId: "req_x", success: true, groups: { region: 1 } }, "body.groups.region"],
        [{ requestId: "req x", success: true }, "body.requestId"],
        [{ requestId: "req_x", success: true, sucess: true }, "body"],
        // Text the store cannot hold: a retry would never succeed, so it is a 400, not a 500.
        [{ requestId: "req_x", success: true, comment: "bad\u0000byte" }, "body.comment"],
        [{ requestId: "req_x", success: true, labels: ["ok", "\ud800"] }, "body.labels.1"],
        [[1, 2], "body"],
        [null, "body"],
      ];
      for (const [input, field] of cases) {
        const r = await svc.handleFeedback(agent, input, { requestId: "req_post" });
        const p = r.body as Body;
        assert.equal(r.status, 400, JSON.stringify(input));
        assert.equal(r.headers["content-type"], "application/problem+json");
        assert.equal(p.code, "invalid_input");
        assert.equal(p.type, "https://modelgov.dev/problems/invalid-input");
        assert.equal(p.requestId, "req_post");
        assert.ok(
          p.errors.some((e: { field: string }) => e.field === field),
          `${JSON.stringify(input)} → ${JSON.stringify(p.errors)}`,
        );
      }
      assert.equal(writer.stats().written, 0);
      await writer.stop();
    });

    test("a token without gateway:use gets 403", async () => {
      const { svc, writer } = open();
      const r = await svc.handleFeedback(
        { tokenId: "tok_v", name: "viewer", roles: ["viewer"] },
        { requestId: "req_fb_3", success: true },
      );
      assert.equal(r.status, 403);
      assert.equal((r.body as Body).code, "forbidden");
      assert.deepEqual(await rows("req_fb_3"), []);
      await writer.stop();
    });

    test("with the database down, 202 comes once the feedback is fsync'd in the spool; it is in the table after", async () => {
      const { svc, writer, q, spoolDir } = open();
      q.down = true;
      const r = await svc.handleFeedback(agent, {
        requestId: "req_fb_4",
        success: true,
        groups: { region: "us" },
      });
      assert.equal(r.status, 202);
      const spooled = readdirSync(spoolDir)
        .filter((f) => /^feedback\..*\.jsonl$/.test(f))
        .map((f) => readFileSync(path.join(spoolDir, f), "utf8"))
        .join("");
      assert.match(spooled, /"request_id":"req_fb_4"/, "on disk before the answer");
      assert.deepEqual(await rows("req_fb_4"), []);
      q.down = false;
      assert.equal((await writer.replaySpool()).replayed, 1);
      const [row] = await rows("req_fb_4");
      assert.equal(row?.id, (r.body as Body).feedbackId);
      await writer.stop();
    });

    test("with the database down and the spool unwritable, nothing is acknowledged", async () => {
      const file = path.join(tmp(), "file");
      writeFileSync(file, "");
      const { svc, writer, q } = open(flakyDb(db), path.join(file, "spool"));
      q.down = true;
      const r = await svc.handleFeedback(
        agent,
        { requestId: "req_fb_5", success: true },
        { requestId: "req_p" },
      );
      assert.equal(r.status, 500);
      assert.equal((r.body as Body).code, "internal");
      assert.match((r.body as Body).detail, /not recorded.*send it again/);
      assert.equal(writer.stats().dropped, 1);
    });

    test("feedback arriving together is written together (one INSERT for the group)", async () => {
      const { svc, writer, q } = open();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          svc.handleFeedback(agent, { requestId: `req_fb_g${i}`, score: i }),
        ),
      );
      assert.ok(results.every((r) => r.status === 202));
      assert.equal(q.inserts, 1);
      const [n] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM feedback WHERE request_id LIKE 'req_fb_g%'",
      );
      assert.equal(n!.n, 40);
      await writer.stop();
    });
  });
}
