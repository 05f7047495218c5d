import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../config.ts";
import { createLogger } from "../../lib/logger.ts";
import { allStoreTargets, ctx, type Harness, openHarness } from "../../test-support/stores.ts";
import { readChainPage, readHead } from "./audit.store.ts";
import { type Checkpoint, verifyChain } from "./chain.ts";
import {
  createCheckpointer,
  generateSigningKey,
  loadSigningKey,
  readCheckpointFile,
  type SigningKey,
} from "./checkpoints.ts";
import { parseCheckpoints } from "./export-format.ts";

/** A loopback receiver that answers with the next status in `statuses` (then 200). */
function receiver(statuses: number[] = []) {
  const bodies: Checkpoint[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const status = statuses.shift() ?? 200;
      if (status === 200) bodies.push(JSON.parse(body));
      res.writeHead(status).end();
    });
  });
  return {
    bodies,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    url: () =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/cp`),
        ),
      ),
  };
}

const logger = createLogger("silent");

for (const target of allStoreTargets()) {
  describe(`audit checkpointer on ${target.name}`, { skip: target.skip }, () => {
    let h: Harness;
    let key: SigningKey;
    const dir = mkdtempSync(path.join(tmpdir(), "modelgov-checkpoints-"));
    const newModel = (name: string) =>
      h.services.registry.createModel(ctx(), {
        name,
        owner: "o",
        description: "",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
    before(async () => {
      h = await openHarness(target);
      key = generateSigningKey();
    });
    after(async () => {
      await h.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    test("writes signed checkpoints to a file and a loopback webhook, only when the head moved", async () => {
      const file = path.join(dir, "a", "checkpoints.jsonl");
      const rx = receiver();
      const cp = createCheckpointer({
        db: h.db,
        clock: h.clock,
        key,
        file,
        webhookUrl: await rx.url(),
        intervalMs: 60_000,
        logger,
      });
      try {
        const first = await cp.tick();
        assert.deepEqual([first.file, first.webhook], ["written", "written"]);
        const head = await readHead(h.db);
        assert.deepEqual([first.checkpoint?.position, first.checkpoint?.hash], [head.position, head.hash]);
        assert.deepEqual(rx.bodies[0], { type: "checkpoint", ...first.checkpoint });

        const idle = await cp.tick();
        assert.deepEqual(idle, { checkpoint: null, file: "unchanged", webhook: "unchanged", stdout: "off" });

        await newModel("cp-a");
        h.clock.advance(60_000);
        const moved = await cp.tick();
        assert.deepEqual([moved.file, moved.webhook], ["written", "written"]);

        const { checkpoints, badLines } = readCheckpointFile(file);
        assert.equal(badLines, 0);
        assert.equal(checkpoints.length, 2);
        assert.deepEqual(
          rx.bodies.map((b) => b.position),
          checkpoints.map((c) => c.position),
        );
        // Anyone holding the public key can check them against the log.
        const events = await readChainPage(h.db, null, Number.MAX_SAFE_INTEGER, 10_000);
        const r = verifyChain(events, {
          checkpoints: [...checkpoints, ...rx.bodies],
          publicKey: key.publicKeyPem,
        });
        assert.deepEqual([r.ok, r.checkpoints.checked], [true, 4]);
      } finally {
        await rx.close();
      }
    });

    test("a failing webhook is logged and retried with the newest head at the next interval; the file is not held back", async () => {
      const file = path.join(dir, "b.jsonl");
      const rx = receiver([500]);
      const cp = createCheckpointer({
        db: h.db,
        clock: h.clock,
        key,
        file,
        webhookUrl: await rx.url(),
        intervalMs: 60_000,
        logger,
      });
      try {
        const failed = await cp.tick();
        assert.deepEqual([failed.file, failed.webhook], ["written", "failed"]);
        await newModel("cp-b");
        const retried = await cp.tick();
        assert.deepEqual([retried.file, retried.webhook], ["written", "written"]);
        assert.equal(rx.bodies.length, 1);
        assert.equal(rx.bodies[0]!.position, (await readHead(h.db)).position);

        // Nobody listening at all: still no throw.
        const gone = createCheckpointer({
          db: h.db,
          clock: h.clock,
          key,
          webhookUrl: "http://127.0.0.1:9/unreachable",
          intervalMs: 60_000,
          logger,
        });
        assert.equal((await gone.tick()).webhook, "failed");
      } finally {
        await rx.close();
      }
    });

    test("after a restart the file's last checkpoint is not repeated, and a torn last line does not swallow the next", async () => {
      const file = path.join(dir, "c.jsonl");
      const make = () =>
        createCheckpointer({ db: h.db, clock: h.clock, key, file, intervalMs: 60_000, logger });
      assert.equal((await make().tick()).file, "written");
      assert.equal((await make().tick()).file, "unchanged");
      appendFileSync(file, '{"type":"checkpoint","posi');
      await newModel("cp-c");
      assert.equal((await make().tick()).file, "written");
      const { checkpoints, badLines } = readCheckpointFile(file);
      assert.deepEqual([checkpoints.length, badLines], [2, 1]);
      assert.equal(checkpoints[1]!.position, (await readHead(h.db)).position);
    });

    test("start() checkpoints on its interval and stop() covers the final head", async () => {
      const file = path.join(dir, "d.jsonl");
      const cp = createCheckpointer({ db: h.db, clock: h.clock, key, file, intervalMs: 20, logger });
      cp.start();
      const deadline = Date.now() + 5_000;
      while (readCheckpointFile(file).checkpoints.length === 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      await newModel("cp-d");
      await cp.stop();
      const last = readCheckpointFile(file).checkpoints.at(-1);
      assert.equal(last?.position, (await readHead(h.db)).position);
    });

    test("with everyEvents = 3, the third event appended since the last checkpoint is checkpointed at once, not at the interval", {
      timeout: 60_000, // a hang guard: a trigger that never fires fails here instead of hanging
    }, async () => {
      const file = path.join(dir, "e.jsonl");
      const lines: string[] = [];
      // Taps on what the checkpointer hears and says, so the test waits on events, not the clock:
      // each notification's position once the checkpointer's own handler has run, and each line
      // its stdout sink writes.
      const heard: number[] = [];
      let onEvent = () => {};
      const db = Object.create(h.db) as typeof h.db;
      db.listen = (channel, onNotify) =>
        h.db.listen(channel, (payload) => {
          onNotify(payload);
          heard.push(Number(payload));
          onEvent();
        });
      const until = (done: () => boolean) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (done()) resolve();
            else onEvent = check;
          };
          check();
        });
      const cp = createCheckpointer({
        db,
        clock: h.clock,
        key,
        file,
        stdout: (line) => {
          lines.push(line);
          onEvent();
        },
        intervalMs: 3_600_000,
        everyEvents: 3,
        logger,
      });
      const first = await cp.checkpointNow();
      await cp.start();
      try {
        await newModel("cp-e1");
        await newModel("cp-e2");
        // Both notifications handled: a checkpoint they (wrongly) asked for has read the head
        // (at e2) before e3 is appended, and would show below as a position between.
        const two = (await readHead(h.db)).position;
        await until(() => heard.includes(two));
        assert.equal(readCheckpointFile(file).checkpoints.length, 1, "two events: no checkpoint yet");
        await newModel("cp-e3");
        const head = await readHead(h.db);
        assert.equal(head.position, first.checkpoint!.position + 3);
        // The next checkpoint after the first, whichever it is: the positions below say whether
        // it came at the third event and none came before.
        await until(() => parseCheckpoints(lines.join("")).checkpoints.length > 1);
        // The sinks are written side by side: a tick queues behind that run (and writes nothing
        // new, every sink holding the head), so the file is complete once it returns.
        await cp.tick();
        const written = readCheckpointFile(file).checkpoints;
        assert.deepEqual(
          written.map((c) => c.position),
          [first.checkpoint!.position, head.position],
        );
        // The stdout sink got the very same lines: a shipper's copy is a checkpoint file.
        assert.deepEqual(
          parseCheckpoints(lines.join("")).checkpoints,
          written.map((c) => ({ ...c })),
        );
      } finally {
        await cp.stop();
      }
    });

    test("the stdout sink writes one checkpoint JSON line each, and its lines are found among the server's log lines", async () => {
      const lines: string[] = [];
      const cp = createCheckpointer({
        db: h.db,
        clock: h.clock,
        key,
        stdout: (l) => lines.push(l),
        intervalMs: 60_000,
        logger,
      });
      const r = await cp.tick();
      assert.deepEqual([r.file, r.webhook, r.stdout], ["off", "off", "written"]);
      assert.equal((await cp.tick()).stdout, "unchanged");
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /^\{"type":"checkpoint","position":\d+,"hash":"[0-9a-f]{64}",.*\}\n$/);
      const shipped = [
        '{"level":30,"time":"2026-03-01T09:00:00.000Z","pid":1,"name":"modelgov","msg":"modelgov listening"}\n',
        lines[0]!,
        "a line from another program\n",
      ].join("");
      const parsed = parseCheckpoints(shipped);
      assert.deepEqual([parsed.checkpoints.length, parsed.ignored, parsed.badLines.length], [1, 1, 1]);
      assert.equal(parsed.checkpoints[0]!.signature, r.checkpoint!.signature);
      // The same checkpoints as a JSON array (what a webhook receiver may serve).
      assert.equal(parseCheckpoints(JSON.stringify([JSON.parse(lines[0]!)])).checkpoints.length, 1);
    });
  });
}

describe("audit signing key", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-key-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("is generated once into the data folder, readable by its owner only, and reused", () => {
    const file = path.join(dir, "sub", "audit-signing-key.pem");
    const first = loadSigningKey({ file });
    assert.equal(first.source, "generated");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = loadSigningKey({ file });
    assert.deepEqual([again.source, again.key.keyId], ["file", first.key.keyId]);
  });

  test("a PEM from the environment wins; a key that is not Ed25519 is refused", () => {
    const pem = readFileSync(path.join(dir, "sub", "audit-signing-key.pem"), "utf8");
    const fromEnv = loadSigningKey({ pem, file: path.join(dir, "unused.pem") });
    assert.equal(fromEnv.source, "env");
    assert.equal(
      fromEnv.key.keyId,
      loadSigningKey({ file: path.join(dir, "sub", "audit-signing-key.pem") }).key.keyId,
    );
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    assert.throws(() => loadSigningKey({ pem: ec.toString(), file: "unused" }), /Ed25519/);
  });

  test("a key file outside the data folder (MODELGOV_AUDIT_SIGNING_KEY_FILE) is read, never generated; PEM and file together are refused", () => {
    const elsewhere = path.join(dir, "secrets", "audit.pem");
    mkdirSync(path.dirname(elsewhere), { recursive: true });
    const made = generateSigningKey();
    writeFileSync(elsewhere, made.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), {
      mode: 0o600,
    });
    const dataDirKey = path.join(dir, "data", "audit-signing-key.pem");
    const loaded = loadSigningKey({ keyFile: elsewhere, file: dataDirKey });
    assert.deepEqual([loaded.source, loaded.key.keyId], ["key-file", made.keyId]);
    assert.equal(existsSync(dataDirKey), false, "nothing written to the data folder");
    assert.throws(
      () => loadSigningKey({ keyFile: path.join(dir, "not-mounted.pem"), file: dataDirKey }),
      /MODELGOV_AUDIT_SIGNING_KEY_FILE: cannot read .*not-mounted\.pem \(ENOENT\)/,
    );
    assert.equal(existsSync(dataDirKey), false, "a missing key file is an error, not a new key");
    const config = loadConfig({}, { MODELGOV_AUDIT_SIGNING_KEY_FILE: elsewhere });
    assert.equal(config.auditSigningKeyFile, elsewhere);
    assert.throws(
      () => loadConfig({}, { MODELGOV_AUDIT_SIGNING_KEY_FILE: elsewhere, MODELGOV_AUDIT_SIGNING_KEY: "x" }),
      /auditSigningKeyFile: set MODELGOV_AUDIT_SIGNING_KEY or MODELGOV_AUDIT_SIGNING_KEY_FILE, not both/,
    );
  });

  test("checkpoint settings: every second and no event count by default, both configurable, stdout on by flag", () => {
    const d = loadConfig({}, {});
    assert.deepEqual(
      [d.auditCheckpointIntervalMs, d.auditCheckpointEveryEvents, d.auditCheckpointStdout],
      [1_000, 0, false],
    );
    const c = loadConfig(
      {},
      {
        MODELGOV_AUDIT_CHECKPOINT_INTERVAL_MS: "250",
        MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS: "100",
        MODELGOV_AUDIT_CHECKPOINT_STDOUT: "1",
      },
    );
    assert.deepEqual(
      [c.auditCheckpointIntervalMs, c.auditCheckpointEveryEvents, c.auditCheckpointStdout],
      [250, 100, true],
    );
    assert.throws(
      () => loadConfig({}, { MODELGOV_AUDIT_CHECKPOINT_EVERY_EVENTS: "-1" }),
      /auditCheckpointEveryEvents/,
    );
  });
});
