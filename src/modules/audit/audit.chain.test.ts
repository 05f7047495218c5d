import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { createLogger } from "../../lib/logger.ts";
import type { Queryable, Tx } from "../../store/db.ts";
import {
  allStoreTargets,
  ctx,
  type Harness,
  openHarness,
  readJson,
  SIM_PARAMS,
} from "../../test-support/stores.ts";
import { type AuditService, createAuditService } from "./audit.service.ts";
import { readChainPage, readHead, recordAudit } from "./audit.store.ts";
import { type ChainedEvent, computeHash, verifyChain } from "./chain.ts";
import { createCheckpointer, generateSigningKey, readCheckpointFile, signCheckpoint } from "./checkpoints.ts";
import { checkpointLine, parseCheckpoints, parseExport } from "./export-format.ts";

const ALL = Number.MAX_SAFE_INTEGER;
const chain = (q: Queryable) => readChainPage(q, null, ALL, 100_000);

/**
 * Plays the attacker who owns the tables (or is a superuser): the append-only trigger, the
 * outbox foreign keys and the chain-head guard (all triggers of both tables) are off for this
 * one transaction only. The app's own role cannot do this (db-grants.pg.test.ts).
 */
async function asAttacker(h: Harness, fn: (tx: Tx) => Promise<void>) {
  await h.db.transaction(async (tx) => {
    await tx.exec(
      "ALTER TABLE audit_events DISABLE TRIGGER ALL; ALTER TABLE audit_chain_head DISABLE TRIGGER ALL",
    );
    await fn(tx);
    await tx.exec(
      "ALTER TABLE audit_events ENABLE TRIGGER ALL; ALTER TABLE audit_chain_head ENABLE TRIGGER ALL",
    );
  });
}

/** Rewrites one stored event as the attacker would, keeping every other column. */
const rewriteRow = (tx: Tx, e: ChainedEvent) =>
  tx.query("UPDATE audit_events SET actor = $2, reason = $3, prev_hash = $4, hash = $5 WHERE id = $1", [
    e.id,
    e.actor,
    e.reason,
    e.prevHash,
    e.hash,
  ]);

const setHead = (tx: Tx, e: ChainedEvent) =>
  tx.query("UPDATE audit_chain_head SET seq = $1, hash = $2, event_id = $3 WHERE id = 'head'", [
    e.position,
    e.hash,
    e.id,
  ]);

/** Values whose JSON (and JSONB) round trip is easy to get wrong. */
const AWKWARD = {
  nested: { deeper: [1, "two", { three: 3, list: [[], {}, [null]] }] },
  n: 0.1,
  sum: 0.1 + 0.2,
  big: 1e21,
  tiny: 1e-7,
  precise: 123456789.12345679,
  negZero: -0,
  unicode: 'ünïcödé 😀 中文 \u2028 "quoted" \\ back',
  nul: null,
  gone: undefined,
  when: new Date("2026-03-01T09:00:00.123Z"),
  zkeys: { b: 1, a: 2, aa: 3, é: 4, Z: 5 },
};

for (const target of allStoreTargets()) {
  describe(`audit chain on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let audit: AuditService;
    let plain: AuditService;
    const dir = mkdtempSync(path.join(tmpdir(), "modelgov-audit-"));
    const checkpointFile = path.join(dir, "checkpoints.jsonl");
    const key = generateSigningKey();

    before(async () => {
      h = await openHarness(target);
      // One service that keeps checkpoints in a file, one that has none: the chain check alone.
      audit = createAuditService({ db: h.db, clock: h.clock, key, checkpointFile });
      plain = createAuditService({ db: h.db, clock: h.clock, key });
      const reg = h.services.registry;
      for (const name of ["chat", "summarizer", "router"])
        await reg.createModel(ctx(), {
          name,
          owner: "team-a",
          description: `the ${name} ü`,
          useCases: ["support"],
          riskTier: "low",
          tags: [],
        });
      await reg.registerVersion(ctx("bob"), "chat", {
        version: "1.0.0",
        provider: "simulator",
        providerModelId: "sim-1",
        parameters: SIM_PARAMS,
        changelog: "",
        metrics: { success_rate: 0.1, big: 1e21 },
        limitations: [],
        tags: [],
      });
      await reg.updateModel(ctx("carol"), "chat", { description: "changed", tags: ["x"] });
      await h.db.transaction(async (tx) => {
        await recordAudit(tx, ctx("dora"), h.clock.now(), {
          action: "test.values",
          subjectType: "test",
          subjectId: "t1",
          before: AWKWARD,
          after: [0.1, 1e21, null, "x", [[]], {}, AWKWARD.nested],
          reason: "awkward values ✓",
        });
        await recordAudit(tx, ctx("dora"), h.clock.now(), {
          action: "test.scalars",
          subjectType: "test",
          subjectId: "t2",
          before: null,
          after: "plain string",
        });
      });
      await h.db.exec(`DROP TABLE IF EXISTS audit_backup; CREATE TABLE audit_backup AS SELECT * FROM audit_events;
        DROP TABLE IF EXISTS head_backup; CREATE TABLE head_backup AS SELECT * FROM audit_chain_head;`);
    });
    afterEach(async () => {
      // Each tampering is undone, so every test starts from the same honest chain.
      await asAttacker(h, (tx) =>
        tx.exec(`DELETE FROM audit_events; INSERT INTO audit_events SELECT * FROM audit_backup;
          DELETE FROM audit_chain_head; INSERT INTO audit_chain_head SELECT * FROM head_backup;`),
      );
      rmSync(checkpointFile, { force: true });
    });
    after(async () => {
      await h.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test("the untouched chain verifies, awkward JSON values included, and ends at the recorded head", async () => {
      const events = await chain(h.db);
      assert.ok(events.length >= 8, `only ${events.length} events`);
      assert.deepEqual(
        events.map((e) => e.position),
        events.map((_, i) => i + 1),
      );
      const r = await audit.verify();
      assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
      assert.equal(r.checked, events.length);
      const head = await readHead(h.db);
      assert.deepEqual(r.head, { position: head.position, hash: head.hash });
      const awkward = events.find((e) => e.action === "test.values")!;
      assert.deepEqual((awkward.before as typeof AWKWARD).zkeys, AWKWARD.zkeys);
      assert.equal((awkward.before as Record<string, unknown>).big, 1e21);
      assert.equal("gone" in (awkward.before as object), false);
    });

    test("a changed field is a hash mismatch at its position", async () => {
      const events = await chain(h.db);
      const victim = events[2]!;
      await asAttacker(h, async (tx) => {
        await tx.query("UPDATE audit_events SET actor = 'mallory' WHERE id = $1", [victim.id]);
      });
      const r = await audit.verify();
      assert.deepEqual(
        [r.ok, r.firstBroken?.position, r.firstBroken?.reason, r.firstBroken?.eventId],
        [false, 3, "hash_mismatch", victim.id],
      );
      assert.equal(r.head.position, 2);
    });

    test("a changed JSONB value (a number in before) is a hash mismatch", async () => {
      const victim = (await chain(h.db)).find((e) => e.action === "test.values")!;
      await asAttacker(h, async (tx) => {
        await tx.query(`UPDATE audit_events SET before = jsonb_set(before, '{n}', '0.2') WHERE id = $1`, [
          victim.id,
        ]);
      });
      const r = await plain.verify();
      assert.deepEqual([r.firstBroken?.position, r.firstBroken?.reason], [victim.position, "hash_mismatch"]);
    });

    test("a deleted middle row is a gap at its position", async () => {
      const events = await chain(h.db);
      await asAttacker(h, async (tx) => {
        await tx.query("DELETE FROM audit_events WHERE id = $1", [events[3]!.id]);
      });
      const r = await audit.verify();
      assert.deepEqual(
        [r.firstBroken?.position, r.firstBroken?.reason, r.firstBroken?.eventId],
        [4, "position_gap", events[4]!.id],
      );
    });

    test("two events swapped (a reorder, contents and hashes intact) break the link at the first of them", async () => {
      const events = await chain(h.db);
      const [a, b] = [events[2]!, events[3]!];
      await asAttacker(h, async (tx) => {
        await tx.query("UPDATE audit_events SET position = -1 WHERE id = $1", [a.id]);
        await tx.query("UPDATE audit_events SET position = $2 WHERE id = $1", [b.id, a.position]);
        await tx.query("UPDATE audit_events SET position = $2 WHERE id = $1", [a.id, b.position]);
      });
      const r = await plain.verify();
      assert.deepEqual(
        [r.ok, r.firstBroken?.position, r.firstBroken?.reason, r.firstBroken?.eventId],
        [false, a.position, "prev_hash_mismatch", b.id],
      );
    });

    test("a forged row with a plausible hash, slipped in by renumbering, breaks the next link", async () => {
      const events = await chain(h.db);
      const k = 3;
      const prev = events[k - 1]!;
      const forged = {
        ...prev,
        id: "aud_forged",
        position: k + 1,
        actor: "mallory",
        action: "model.created",
        reason: "nothing to see",
      };
      const hash = computeHash(forged, prev.hash);
      await asAttacker(h, async (tx) => {
        // Two steps: the unique position index is checked row by row.
        await tx.query("UPDATE audit_events SET position = position + 1000000 WHERE position > $1", [k]);
        await tx.query("UPDATE audit_events SET position = position - 1000000 + 1 WHERE position > 1000000");
        await tx.query(
          `INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, before, after, reason, request_id, position, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            forged.id,
            forged.at,
            forged.actor,
            forged.action,
            forged.subjectType,
            forged.subjectId,
            JSON.stringify(forged.before),
            JSON.stringify(forged.after),
            forged.reason,
            forged.requestId,
            forged.position,
            prev.hash,
            hash,
          ],
        );
      });
      const r = await audit.verify();
      assert.deepEqual(
        [r.firstBroken?.position, r.firstBroken?.reason, r.firstBroken?.eventId],
        [k + 2, "prev_hash_mismatch", events[k]!.id],
      );
    });

    test("a forged row appended after the head, correctly linked, is caught against the recorded head", async () => {
      const events = await chain(h.db);
      const last = events[events.length - 1]!;
      const forged = {
        ...last,
        id: "aud_forged",
        position: last.position + 1,
        actor: "mallory",
        before: null,
        after: null,
        requestId: null,
      };
      await asAttacker(h, async (tx) => {
        await tx.query(
          `INSERT INTO audit_events (id, at, actor, action, subject_type, subject_id, reason, position, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            forged.id,
            forged.at,
            forged.actor,
            forged.action,
            forged.subjectType,
            forged.subjectId,
            forged.reason,
            forged.position,
            last.hash,
            computeHash(forged, last.hash),
          ],
        );
      });
      const r = await plain.verify();
      assert.deepEqual([r.firstBroken?.position, r.firstBroken?.reason], [forged.position, "head_mismatch"]);
    });

    test("a dropped tail passes the chain check alone but not the checkpoints", async () => {
      const written = await audit.checkpointer.checkpointNow();
      assert.equal(written.file, "written");
      const events = await chain(h.db);
      const keep = events.slice(0, -2);
      await asAttacker(h, async (tx) => {
        await tx.query("DELETE FROM audit_events WHERE position > $1", [keep.length]);
        await setHead(tx, keep[keep.length - 1]!);
      });
      const alone = await plain.verify();
      assert.equal(alone.ok, true, "a careful cut is invisible to the chain alone");
      const r = await audit.verify();
      assert.deepEqual(
        [r.ok, r.firstBroken?.position, r.firstBroken?.reason],
        [false, events.length, "checkpoint_missing"],
      );
    });

    test("a dropped tail is caught once the next checkpoint is out (every 2 events, off the host); before it, by design, it is not", async () => {
      const offHost = path.join(dir, "shipped.jsonl");
      const lines: string[] = [];
      const cp = createCheckpointer({
        db: h.db,
        clock: h.clock,
        key,
        file: offHost,
        stdout: (l) => lines.push(l),
        intervalMs: 3_600_000,
        everyEvents: 2,
        logger: createLogger("silent"),
      });
      const shipped = createAuditService({ db: h.db, clock: h.clock, key, checkpointFile: offHost });
      const append = (n: number) =>
        h.db.transaction(async (tx) => {
          for (let i = 0; i < n; i++)
            await recordAudit(tx, ctx("erin"), h.clock.now(), {
              action: "test.tail",
              subjectType: "test",
              subjectId: `t${i}`,
            });
        });
      const start = (await readHead(h.db)).position;
      await cp.checkpointNow();
      await cp.start();
      try {
        await append(1);
        await append(1);
        const covered = await readHead(h.db);
        assert.equal(covered.position, start + 2);
        const deadline = Date.now() + 5_000;
        while (
          readCheckpointFile(offHost).checkpoints.at(-1)?.position !== covered.position &&
          Date.now() < deadline
        )
          await new Promise((r) => setTimeout(r, 10));
        assert.equal(
          readCheckpointFile(offHost).checkpoints.at(-1)?.position,
          covered.position,
          "the checkpoint went out",
        );
        await append(1);
        const events = await chain(h.db);
        // Cut the last event, after the checkpoint: inside the window, invisible.
        const cutTo = async (keep: number) =>
          asAttacker(h, async (tx) => {
            await tx.query("DELETE FROM audit_events WHERE position > $1", [keep]);
            await setHead(tx, events[keep - 1]!);
          });
        await cutTo(covered.position);
        assert.equal(
          (await shipped.verify()).ok,
          true,
          "events after the last checkpoint can go unnoticed: the window",
        );
        // Cut into what the checkpoint covers: caught, from the file and from the stdout copy alike.
        await cutTo(covered.position - 1);
        const r = await shipped.verify();
        assert.deepEqual(
          [r.ok, r.firstBroken?.reason, r.firstBroken?.position],
          [false, "checkpoint_missing", covered.position],
        );
        const fromStdout = verifyChain(await chain(h.db), {
          checkpoints: parseCheckpoints(lines.join("")).checkpoints,
          publicKey: key.publicKey,
        });
        assert.equal(fromStdout.firstBroken?.reason, "checkpoint_missing");
      } finally {
        await cp.stop();
      }
    });

    test("a full rewrite with every hash recomputed passes the chain check but fails against the checkpoints", async () => {
      await audit.checkpointer.checkpointNow();
      const events = await chain(h.db);
      await asAttacker(h, async (tx) => {
        let prevHash = events[0]!.hash;
        for (const e of events.slice(1)) {
          const body = { ...e, actor: e.actor === "bob" ? "mallory" : e.actor, reason: "rewritten" };
          const forged = { ...body, prevHash, hash: computeHash(body, prevHash) };
          await rewriteRow(tx, forged);
          prevHash = forged.hash;
          if (e === events[events.length - 1]) await setHead(tx, forged);
        }
      });
      const alone = await plain.verify();
      assert.equal(alone.ok, true, JSON.stringify(alone.firstBroken));
      const r = await audit.verify();
      assert.deepEqual(
        [r.firstBroken?.position, r.firstBroken?.reason],
        [events.length, "checkpoint_mismatch"],
      );
    });

    test("a checkpoint with a bad signature is refused", async () => {
      const head = await readHead(h.db);
      const good = signCheckpoint(key, head, h.clock.now());
      const forged = signCheckpoint(generateSigningKey(), head, h.clock.now());
      writeFileSync(
        checkpointFile,
        checkpointLine({ ...good, at: "2030-01-01T00:00:00.000Z" }) + checkpointLine(forged),
      );
      const r = await audit.verify();
      assert.equal(r.firstBroken?.reason, "bad_signature");
      writeFileSync(checkpointFile, checkpointLine(good));
      assert.deepEqual((await audit.verify()).checkpoints, { checked: 1, latest: head.position });
    });

    test("the JSONL export verifies offline, and an edited or dropped line is detected", async () => {
      await audit.checkpointer.checkpointNow();
      const res = await h.request("/api/v1/audit/export");
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^application\/jsonl/);
      // The harness's service signs with its own key; export through ours to include our checkpoint.
      let text = "";
      for await (const line of audit.exportLines()) text += line;
      const parsed = parseExport(text);
      assert.equal(parsed.badLines.length, 0);
      assert.equal(parsed.checkpoints.length, 1);
      const offline = (t: string) => {
        const p = parseExport(t);
        return verifyChain(p.events, {
          checkpoints: p.checkpoints,
          publicKey: p.header!.publicKey,
          expectedHead: p.header!.head,
        });
      };
      assert.equal(offline(text).ok, true);
      assert.equal(parseExport(await res.text()).events.length, parsed.events.length);

      const lines = text.split("\n");
      const i = lines.findIndex((l) => l.includes('"test.values"'));
      const edited = [...lines];
      edited[i] = edited[i]!.replace('"n":0.1', '"n":0.2');
      const r = offline(edited.join("\n"));
      assert.deepEqual(
        [r.firstBroken?.position, r.firstBroken?.reason],
        [parsed.events[i - 1]!.position, "hash_mismatch"],
      );
      const lastEvent = lines.findLastIndex((l) => l.startsWith('{"type":"event"'));
      const dropped = offline(lines.filter((_, j) => j !== lastEvent).join("\n"));
      assert.equal(dropped.firstBroken?.reason, "checkpoint_missing");
    });

    test("HTTP: events filter by subject, actor, action and time and page by cursor; reading needs audit:read", async () => {
      const q = async (qs: string, token?: string) => {
        const res = await h.request(`/api/v1/audit/events?${qs}`, {}, token);
        return { status: res.status, body: await readJson(res) };
      };
      const models = await q("subjectType=model&action=model.*");
      assert.ok(models.body.items.length >= 4);
      assert.ok(
        models.body.items.every(
          (e: ChainedEvent) => e.subjectType === "model" && e.action.startsWith("model."),
        ),
      );
      assert.deepEqual(
        (await q("actor=carol")).body.items.map((e: ChainedEvent) => e.action),
        ["model.updated"],
      );
      assert.equal((await q("since=2030-01-01T00:00:00Z")).body.items.length, 0);
      assert.ok((await q("until=2030-01-01T00:00:00Z")).body.items.length > 0);
      const p1 = await q("limit=2");
      const p2 = await q(`limit=2&cursor=${p1.body.nextCursor}`);
      assert.deepEqual(
        [...p1.body.items, ...p2.body.items].map((e: ChainedEvent) => e.position),
        [1, 2, 3, 4],
      );
      const desc = await q("order=desc&limit=1");
      assert.equal(desc.body.items[0].position, (await readHead(h.db)).position);
      assert.equal((await q("since=yesterday")).status, 400);

      const viewer = await h.tokenFor("vera", ["viewer"]);
      assert.equal((await q("limit=1", viewer)).status, 200);
      const verify = await h.request("/api/v1/audit/verify", {}, viewer);
      assert.equal((await readJson(verify)).ok, true);
      const pk = await readJson(await h.request("/api/v1/audit/public-key", {}, viewer));
      assert.match(pk.publicKey, /BEGIN PUBLIC KEY/);
      assert.equal((await h.request("/api/v1/audit/checkpoints", { method: "POST" }, viewer)).status, 403);
      const forced = await readJson(await h.request("/api/v1/audit/checkpoints", { method: "POST" }));
      assert.equal(forced.checkpoint.keyId, pk.keyId);
      assert.equal(forced.file, "off");
    });
  });

  describe(`audit chain under concurrent writers on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    before(async () => {
      h = await openHarness(target);
    });
    after(async () => h.cleanup());

    test("20 parallel createModel calls give one gapless chain with no repeated position; verify meanwhile sees no break", async () => {
      const before = (await readHead(h.db)).position;
      // Verifications racing the writers read one snapshot each: never a false alarm.
      const verifying = Promise.all([1, 2, 3].map(() => h.services.audit.verify()));
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          h.services.registry.createModel(ctx(`u${i}`), {
            name: `m-${i}`,
            owner: "team",
            description: "",
            useCases: [],
            riskTier: "low",
            tags: [],
          }),
        ),
      );
      assert.deepEqual(
        results.filter((r) => r.status === "rejected"),
        [],
      );
      for (const v of await verifying) assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
      const events = await chain(h.db);
      assert.equal(events.length, before + 20);
      assert.equal(new Set(events.map((e) => e.position)).size, events.length);
      const r = await h.services.audit.verify();
      assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
      assert.equal(r.head.position, events.length);
    });
  });
}
