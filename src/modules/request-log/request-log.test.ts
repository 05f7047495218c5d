import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { systemClock } from "../../lib/clock.ts";
import { createLogger } from "../../lib/logger.ts";
import { type CopyCapable, canCopy, type Db, openPostgres, type Queryable, type Tx } from "../../store/db.ts";
import { migrate } from "../../store/migrate.ts";
import { flakyDb, waitFor } from "../../test-support/flaky-db.ts";
import { allStoreTargets, POSTGRES_SKIP, testDatabaseUrl } from "../../test-support/stores.ts";
import type { GatewayLogEntry } from "../gateway/http/deps.ts";
import { createRequestLogWriter, type RequestLogEntry, requestLogRow } from "./index.ts";

// The gateway handler's log entry goes to record() as it is: this fails to compile if they drift.
const _fits = (e: GatewayLogEntry): RequestLogEntry => e;
void _fits;

const logger = createLogger("silent");
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(path.join(os.tmpdir(), "modelgov-spool-"));
  dirs.push(d);
  return d;
};
process.on("exit", () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// The resilience layer's step, with its extra fields: stored as given.
const SERVED = [
  { versionId: "ver_1", version: "1.2.0", outcome: "served", attempts: 1, durationMs: 9 },
] as const;
let seq = 0;
function entry(prefix: string, over: Partial<RequestLogEntry> = {}): RequestLogEntry {
  const i = seq++;
  return {
    id: `req_${prefix}_${i}`,
    at: new Date(Date.UTC(2026, 2, 1, 9, 0, 0, i)),
    tokenId: "tok_agent",
    client: "support-bot",
    model: "support-assistant",
    versionId: "ver_1",
    version: "1.2.0",
    routeReason: "alias:production",
    endpoint: "chat.completions",
    stream: false,
    status: 200,
    errorClass: null,
    totalMs: 12.5,
    upstreamMs: 10.25,
    tokensIn: 42,
    tokensOut: 7,
    costUsd: 0.000123,
    fallbackPath: SERVED,
    subject: "user-42",
    groups: { region: "eu" },
    ...over,
  };
}
const entries = (prefix: string, n: number) => Array.from({ length: n }, () => entry(prefix));

for (const target of allStoreTargets()) {
  describe(`request log writer on ${target.name}`, { skip: target.skip }, () => {
    let db: Db;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await target.openMigrated());
    });
    after(() => cleanup());

    const prefixOf = () => randomBytes(4).toString("hex");
    const ids = async (prefix: string) =>
      (
        await db.query<{ id: string }>("SELECT id FROM request_log WHERE id LIKE $1 ORDER BY id", [
          `req_${prefix}_%`,
        ])
      ).map((r) => r.id);
    const writer = (
      q: Queryable = flakyDb(db),
      o: Partial<Parameters<typeof createRequestLogWriter>[0]> = {},
    ) => createRequestLogWriter({ db: q, clock: systemClock, logger, spoolDir: tmp(), ...o });

    test("N records are written in ceil(N / batchSize) INSERT statements, every column kept", async () => {
      const q = flakyDb(db);
      const w = writer(q, { batchSize: 500 });
      const p = prefixOf();
      const batch = entries(p, 1234);
      for (const e of batch) w.record(e);
      await w.flush();
      assert.equal(q.inserts, 3);
      assert.equal((await ids(p)).length, 1234);
      assert.deepEqual(w.stats(), {
        buffered: 0,
        spooledFiles: 0,
        spooledEntries: 0,
        written: 1234,
        dropped: 0,
        rejected: 0,
        dbDown: false,
        lastError: null,
      });
      const [row] = await db.query<Record<string, unknown>>("SELECT * FROM request_log WHERE id = $1", [
        batch[0]!.id,
      ]);
      assert.equal((row!.at as Date).toISOString(), (batch[0]!.at as Date).toISOString());
      assert.deepEqual(row!.fallback_path, [
        { versionId: "ver_1", version: "1.2.0", outcome: "served", attempts: 1, durationMs: 9 },
      ]);
      // The subject itself is never stored.
      assert.equal(row!.subject_hash, `sha256:${createHash("sha256").update("user-42").digest("hex")}`);
      assert.ok(!JSON.stringify(row).includes("user-42"));
      assert.deepEqual(row!.groups, { region: "eu" });
      assert.equal(row!.total_ms, 12.5);
      assert.equal(row!.cost_usd, 0.000123);
      assert.equal(row!.stream, false);
      assert.equal(row!.sampled_body, null);
      await w.stop();
    });

    test("a batch reaching batchSize is flushed without waiting for the timer", async () => {
      const q = flakyDb(db);
      const w = writer(q, { batchSize: 100, flushIntervalMs: 60_000 });
      const p = prefixOf();
      for (const e of entries(p, 100)) w.record(e);
      await waitFor(async () => (await ids(p)).length === 100, 5000, "the full batch");
      assert.equal(q.inserts, 1);
      await w.stop();
    });

    test("the same request id twice is one row (replays are idempotent)", async () => {
      const w = writer();
      const p = prefixOf();
      const e = entry(p);
      w.record(e);
      await w.flush();
      w.record({ ...e, status: 500 });
      await w.flush();
      const rows = await db.query<{ status: number }>("SELECT status FROM request_log WHERE id = $1", [e.id]);
      assert.deepEqual(rows, [{ status: 200 }]);
      await w.stop();
    });

    test("a full buffer spills to the spool instead of dropping; the spool is replayed later", async () => {
      const q = flakyDb(db);
      // batchSize above maxBuffer: nothing flushes by itself, so the buffer must spill.
      const w = writer(q, { maxBuffer: 100, batchSize: 1000, flushIntervalMs: 60_000 });
      const p = prefixOf();
      for (const e of entries(p, 250)) w.record(e);
      assert.equal(w.stats().buffered, 250, "50 in memory, 200 on their way to disk");
      await waitFor(() => w.stats().spooledEntries === 200, 5000, "two spills");
      assert.equal(w.stats().buffered, 50);
      assert.equal(w.stats().dropped, 0);
      assert.equal(q.inserts, 0);
      await w.flush();
      assert.equal((await ids(p)).length, 50);
      const r = await w.replaySpool();
      assert.deepEqual(r, { replayed: 200, remainingFiles: 0 });
      assert.equal((await ids(p)).length, 250);
      assert.equal(w.stats().spooledEntries, 0);
      await w.stop();
    });

    test("with the database stopped the gateway keeps serving; the spooled log is written once it is back, nothing lost", async () => {
      const q = flakyDb(db);
      const spoolDir = tmp();
      const w = writer(q, { spoolDir, batchSize: 200, flushIntervalMs: 5, retryMinMs: 10, retryMaxMs: 50 });
      await w.start();
      const p = prefixOf();
      q.down = true;
      // The "gateway": keeps answering and recording while the store is down. record() never
      // waits on the store: it returns nothing to await and touches no connection itself.
      let attempts = 0;
      const query = q.query.bind(q);
      q.query = (sql, params) => {
        attempts++;
        return query(sql, params);
      };
      const sent: string[] = [];
      for (let round = 0; round < 10; round++) {
        const before = attempts;
        for (const e of entries(p, 120)) {
          assert.equal(w.record(e), undefined);
          sent.push(e.id);
        }
        assert.equal(attempts, before, "no store call on the recording path");
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(attempts > 0, "the writer itself kept trying the store in the background");
      await w.flush();
      const down = w.stats();
      assert.equal(down.dbDown, true);
      assert.equal(down.spooledEntries, 1200);
      assert.equal(down.buffered, 0);
      assert.equal(down.dropped, 0);
      assert.match(down.lastError!.message, /ECONNREFUSED/);
      assert.ok(readdirSync(spoolDir).some((f) => /^request_log\.\d{15}\.\d{6}\.jsonl$/.test(f)));
      assert.equal((await ids(p)).length, 0);

      q.down = false;
      await waitFor(
        () => w.stats().spooledFiles === 0 && !w.stats().dbDown,
        10_000,
        "the retry loop to replay",
      );
      const got = await ids(p);
      assert.equal(got.length, 1200);
      assert.deepEqual(new Set(got), new Set(sent));
      assert.equal(w.stats().dropped, 0);
      // New traffic goes straight to the store again.
      const later = entry(p);
      w.record(later);
      await w.flush();
      assert.ok((await ids(p)).includes(later.id));
      await w.stop();
    });

    test("a new process replays what the last one spooled: across a crash, each record exactly once", async () => {
      const spoolDir = tmp();
      const q = flakyDb(db);
      const a = writer(q, { spoolDir, batchSize: 100, maxSpoolFileBytes: 20_000 });
      const p = prefixOf();
      const sent = entries(p, 700);
      q.down = true;
      for (const e of sent) a.record(e);
      await a.flush();
      const files = readdirSync(spoolDir).filter((f) => f.endsWith(".jsonl"));
      assert.ok(files.length > 1, `rotated by size (${files.length} files)`);
      // The previous process had replayed part of the spool before dying...
      q.down = false;
      const already = sent.slice(0, 150);
      for (const e of already) {
        await db.query(
          "INSERT INTO request_log SELECT * FROM json_populate_record(NULL::request_log, $1::json)",
          [JSON.stringify(requestLogRow(e))],
        );
      }
      // ...and died in the middle of an append: the last line is cut short.
      const last = path.join(spoolDir, files.sort().at(-1)!);
      appendFileSync(last, '{"id":"req_cut","at":"2026-');
      // Process A is gone (never stopped); process B starts on the same spool folder.
      const b = writer(flakyDb(db), { spoolDir, retryMinMs: 10 });
      await b.start();
      assert.equal(b.stats().spooledEntries, 700, "the leftover spool is counted on start");
      await waitFor(() => b.stats().spooledFiles === 0, 10_000, "the replay on start");
      const got = await ids(p);
      assert.equal(got.length, 700);
      assert.deepEqual(new Set(got), new Set(sent.map((e) => e.id)));
      assert.deepEqual(await db.query("SELECT id FROM request_log WHERE id = 'req_cut'"), []);
      await b.stop();
      await a.stop();
    });

    test("a row the database refuses goes to the dead letter; the rest of its batch is written", async () => {
      const spoolDir = tmp();
      const w = writer(flakyDb(db), { spoolDir });
      const p = prefixOf();
      const good = entries(p, 9);
      // An endpoint the log has no place for (the check constraint refuses it).
      const bad = entry(p, { endpoint: "audio.speech" as RequestLogEntry["endpoint"] });
      for (const e of [...good.slice(0, 4), bad, ...good.slice(4)]) w.record(e);
      await w.flush();
      assert.deepEqual(new Set(await ids(p)), new Set(good.map((e) => e.id)));
      assert.equal(w.stats().rejected, 1);
      assert.equal(w.stats().dbDown, false);
      const dead = readFileSync(path.join(spoolDir, "request_log.rejected.jsonl"), "utf8").trim().split("\n");
      assert.equal(dead.length, 1);
      const line = JSON.parse(dead[0]!);
      assert.equal(line.row.id, bad.id);
      assert.match(line.reason, /check/i);
      await w.stop();
    });

    test("an insert that hangs past writeTimeoutMs is spooled; if it lands late the replay adds nothing", async () => {
      const q = flakyDb(db);
      // Long enough for the replay's transaction (rows and roll-ups) on a loaded machine.
      const w = writer(q, { writeTimeoutMs: 1000 });
      const p = prefixOf();
      q.hang();
      for (const e of entries(p, 30)) w.record(e);
      const flushing = w.flush();
      await new Promise((r) => setTimeout(r, 10));
      assert.equal(w.stats().buffered, 30, "entries in a hanging insert still count as queued");
      await flushing;
      assert.equal(w.stats().buffered, 0);
      assert.equal(w.stats().spooledEntries, 30);
      assert.equal(w.stats().dbDown, true);
      q.release();
      await waitFor(async () => (await ids(p)).length === 30, 5000, "the late insert");
      assert.deepEqual(await w.replaySpool(), { replayed: 30, remainingFiles: 0 });
      assert.equal((await ids(p)).length, 30);
      await w.stop();
    });

    test("stop() flushes; with the store down it leaves the entries in the spool", async () => {
      const q = flakyDb(db);
      const spoolDir = tmp();
      const w = writer(q, { spoolDir, flushIntervalMs: 60_000 });
      await w.start();
      const p = prefixOf();
      q.down = true;
      for (const e of entries(p, 10)) w.record(e);
      await w.stop();
      assert.equal(w.stats().spooledEntries, 10);
      const lines = readdirSync(spoolDir)
        .filter((f) => f.endsWith(".jsonl"))
        .flatMap((f) => readFileSync(path.join(spoolDir, f), "utf8").trim().split("\n"));
      assert.equal(lines.length, 10);
      assert.equal(JSON.parse(lines[0]!).route_reason, "alias:production", "a spool line is the table row");
    });

    test("when the spool cannot be written either, the loss is counted", async () => {
      const q = flakyDb(db);
      const file = path.join(tmp(), "not-a-folder");
      writeFileSync(file, "");
      const w = writer(q, { spoolDir: path.join(file, "spool") });
      q.down = true;
      for (const e of entries(prefixOf(), 5)) w.record(e);
      await w.flush();
      assert.equal(w.stats().dropped, 5);
    });

    test("a fresh batch on a store that bulk-loads goes in by COPY and stores what the INSERT stores", async () => {
      let copies = 0;
      const bulk = db as Db & Partial<CopyCapable>;
      const copying: Queryable & Pick<Db, "transaction"> = bulk.copyFrom
        ? {
            query: (sql, params) => db.query(sql, params),
            transaction: (fn) =>
              db.transaction((tx) =>
                fn({
                  ...tx,
                  copyFrom: (sql: string, data: string) => {
                    copies++;
                    return (tx as Tx & CopyCapable).copyFrom(sql, data);
                  },
                } as Tx),
              ),
          }
        : db;
      const tricky: Partial<RequestLogEntry>[] = [
        { client: 'say "hi", then\nleave', routeReason: "", groups: null, errorClass: "upstream_5xx" },
        { client: "naïve ✓ 日本", groups: { "age band": "65+", note: 'a,"b"' }, upstreamMs: null },
        { tokenId: null, client: null, versionId: null, version: null, status: 502, stream: true },
        // A path is stored as given, whatever its steps hold.
        {
          fallbackPath: [{ version: "1.0.0", outcome: "failed", reason: 'http 503 "x"' }] as never,
          costUsd: 1e-9,
        },
        {
          sampledBody: { request: { messages: [{ content: "a\\b\r\n" }] } },
          shadowOf: "req_x",
          agreement: false,
        },
        // What a client or an upstream sent, the store could not hold: kept as U+FFFD, not lost.
        {
          model: "bot\u0000",
          fallbackPath: [
            { version: "1.0.0", outcome: "failed", reason: "upstream said \u0000 and \uD800" },
          ] as never,
          sampledBody: { request: { messages: [{ role: "user", content: "nul \u0000" }] } },
        },
      ];
      const viaCopy = prefixOf();
      const viaInsert = prefixOf();
      const w1 = writer(copying);
      const w2 = writer(flakyDb(db)); // no copyFrom: the INSERT path
      for (const over of tricky) {
        w1.record(entry(viaCopy, over));
        w2.record(entry(viaInsert, over));
      }
      await w1.flush();
      await w2.flush();
      if (canCopy(db)) assert.equal(copies, 1);
      const rows = async (p: string) =>
        (
          await db.query<Record<string, unknown>>("SELECT * FROM request_log WHERE id LIKE $1 ORDER BY at", [
            `req_${p}_%`,
          ])
        ).map(({ id: _id, at: _at, ...rest }) => rest);
      const a = await rows(viaCopy);
      assert.equal(a.length, tricky.length);
      assert.deepEqual(a, await rows(viaInsert));
      assert.equal(a[0]!.client, 'say "hi", then\nleave');
      assert.equal(a[0]!.route_reason, "");
      assert.equal(a[2]!.token_id, null);
      assert.deepEqual(a[1]!.groups, { "age band": "65+", note: 'a,"b"' });
      assert.equal(a[5]!.model, "bot\uFFFD");
      assert.deepEqual(a[5]!.fallback_path, [
        { version: "1.0.0", outcome: "failed", reason: "upstream said \uFFFD and \uFFFD" },
      ]);
      assert.deepEqual(a[5]!.sampled_body, {
        request: { messages: [{ role: "user", content: "nul \uFFFD" }] },
      });
      assert.equal(w1.stats().written, tricky.length);
      await w1.stop();
      await w2.stop();
    });

    test("a fresh batch holding an id already stored loses none of the others", async () => {
      const p = prefixOf();
      const first = entry(p);
      const w = writer(db);
      w.record(first);
      await w.flush();
      const again = [entry(p), { ...first }, entry(p)];
      for (const e of again) w.record(e);
      await w.flush();
      assert.equal((await ids(p)).length, 3);
      assert.equal(w.stats().rejected, 0);
      assert.equal(w.stats().dropped, 0);
      await w.stop();
    });
  });
}

const pgUrl = testDatabaseUrl();
// Like every store-backed suite, the real-server case runs when CI provides the server.
describe("request log writer through a real PostgreSQL outage", { skip: POSTGRES_SKIP }, () => {
  // A throwaway database whose connections are refused and cut, then allowed again.
  const name = `modelgov_outage_${randomBytes(6).toString("hex")}`;
  let admin: Db;
  let db: Db;
  before(async () => {
    admin = openPostgres(pgUrl!, { max: 1 });
    await admin.exec(`CREATE DATABASE ${name}`);
    const u = new URL(pgUrl!);
    u.pathname = `/${name}`;
    db = openPostgres(u.toString(), { max: 3 });
    await migrate(db);
  });
  after(async () => {
    await db.close().catch(() => {});
    await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => {});
    await admin.exec(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  });

  test("refused and terminated connections: spooled, then written once the database accepts again", async () => {
    const spoolDir = tmp();
    const w = createRequestLogWriter({
      db,
      clock: systemClock,
      logger,
      spoolDir,
      batchSize: 100,
      flushIntervalMs: 10,
      retryMinMs: 20,
      retryMaxMs: 100,
    });
    await w.start();
    const warm = entries("pgwarm", 10);
    for (const e of warm) w.record(e);
    await w.flush();
    // ALLOW_CONNECTIONS false holds for superusers too (CONNECTION LIMIT 0 would not).
    await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [name]);
    const sent = entries("pgout", 500);
    for (const e of sent) w.record(e);
    await w.flush();
    assert.equal(w.stats().dbDown, true);
    assert.equal(w.stats().spooledEntries, 500);
    assert.match(w.stats().lastError!.message, /not currently accepting connections|terminat/);
    await new Promise((r) => setTimeout(r, 150)); // a few failed replays while it is still down
    assert.equal(w.stats().spooledEntries, 500);
    await admin.exec(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await waitFor(
      () => w.stats().spooledFiles === 0 && !w.stats().dbDown,
      10_000,
      "the replay after the outage",
    );
    const rows = await db.query<{ n: number; d: number }>(
      "SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM request_log WHERE id LIKE 'req_pgout_%'",
    );
    assert.deepEqual(rows, [{ n: 500, d: 500 }]);
    assert.equal(w.stats().dropped, 0);
    await w.stop();
  });
});
