import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
// Set before the CLI module loads: it runs itself when imported as a program.
import { runCliAs } from "../../test-support/cli.ts";
import { ctx, type Harness, openHarness, storeTargets } from "../../test-support/stores.ts";
import { readChainPage } from "./audit.store.ts";
import { generateSigningKey } from "./checkpoints.ts";
import { checkpointLine } from "./export-format.ts";

describe("modelgov audit (CLI)", () => {
  let h: Harness;
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-audit-cli-"));
  const file = (name: string) => path.join(dir, name);
  const run = (...argv: string[]) => runCliAs(h.fetch, h.adminToken, argv);

  before(async () => {
    h = await openHarness(storeTargets()[0]!);
    for (const name of ["alpha", "beta", "gamma"])
      await h.services.registry.createModel(ctx("erin"), {
        name,
        owner: "o",
        description: "ß ✓",
        useCases: [],
        riskTier: "low",
        tags: [],
      });
  });
  after(async () => {
    await h.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("log filters and prints a table or JSON", async () => {
    const t = await run("audit", "log", "--actor", "erin", "--action", "model.*");
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /model\.created/);
    const j = await run("--json", "audit", "log", "--subject-type", "model", "--limit", "2", "--all");
    assert.equal(j.code, 0, j.err);
    assert.deepEqual(
      JSON.parse(j.out).items.map((e: { action: string }) => e.action),
      ["model.created", "model.created", "model.created"],
    );
    assert.equal((await run("audit", "log", "--limit", "x")).code, 2);
  });

  test("verify against the server exits 0 on an intact chain", async () => {
    const r = await run("audit", "verify");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^ok: 4 events, chain intact up to position 4/);
  });

  test("export -o, then verify --file offline: 0 when intact, 1 naming the first broken link when edited", async () => {
    const exported = file("audit.jsonl");
    const e = await run("audit", "export", "-o", exported);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, /wrote 4 events and 0 checkpoints/);
    const ok = await run("audit", "verify", "--file", exported);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.err, /public key inside/);

    const lines = readFileSync(exported, "utf8").split("\n");
    const edited = file("edited.jsonl");
    writeFileSync(edited, lines.map((l) => l.replace('"actor":"erin"', '"actor":"mallory"')).join("\n"));
    const broken = await run("audit", "verify", "--file", edited);
    assert.equal(broken.code, 1);
    assert.match(broken.out, /BROKEN at position 2: hash_mismatch \(event aud_/);
    assert.match(broken.out, /links correctly up to position 1/);

    const garbled = file("garbled.jsonl");
    writeFileSync(garbled, `${lines.join("\n")}\nnot json\n`);
    const g = await run("audit", "verify", "--file", garbled);
    assert.equal(g.code, 1);
    assert.match(g.err, /line \d+: not JSON/);

    const j = await run("--json", "audit", "verify", "--file", edited);
    assert.equal(JSON.parse(j.out).firstBroken.reason, "hash_mismatch");
    assert.equal((await run("audit", "verify", "--file", file("missing.jsonl"))).code, 1);
  });

  test("verify --checkpoints proves a dropped tail that the chain alone cannot see; a foreign key's checkpoint is refused", async () => {
    const forced = await run("--json", "audit", "checkpoint");
    assert.equal(forced.code, 0, forced.err);
    const cps = file("kept-elsewhere.jsonl");
    writeFileSync(cps, checkpointLine(JSON.parse(forced.out).checkpoint));
    const pem = file("server.pem");
    const pk = await run("audit", "public-key");
    writeFileSync(pem, `${pk.out}\n`);
    const held = await run("audit", "verify", "--checkpoints", cps, "--public-key", pem);
    assert.equal(held.code, 0, held.out + held.err);
    assert.match(held.out, /1 checkpoint\(s\) hold, the latest at position 4/);

    // The attacker removes the last event and moves the head back to match.
    const events = await readChainPage(h.db, null, Number.MAX_SAFE_INTEGER, 100);
    const keep = events[events.length - 2]!;
    await h.db.transaction(async (tx) => {
      // As the tables' owner: the app's role can neither disable the triggers nor move the head back.
      await tx.exec(
        "ALTER TABLE audit_events DISABLE TRIGGER ALL; ALTER TABLE audit_chain_head DISABLE TRIGGER ALL",
      );
      await tx.query("DELETE FROM audit_events WHERE position > $1", [keep.position]);
      await tx.query("UPDATE audit_chain_head SET seq = $1, hash = $2, event_id = $3", [
        keep.position,
        keep.hash,
        keep.id,
      ]);
      await tx.exec(
        "ALTER TABLE audit_events ENABLE TRIGGER ALL; ALTER TABLE audit_chain_head ENABLE TRIGGER ALL",
      );
    });
    assert.equal((await run("audit", "verify")).code, 0, "the chain alone cannot see a careful cut");
    const cut = await run("audit", "verify", "--checkpoints", cps, "--public-key", pem);
    assert.equal(cut.code, 1);
    assert.match(cut.out, /BROKEN at position 4: checkpoint_missing/);

    const other = file("other.pem");
    writeFileSync(other, generateSigningKey().publicKeyPem);
    const foreign = await run("audit", "verify", "--checkpoints", cps, "--public-key", other);
    assert.equal(foreign.code, 1);
    assert.match(foreign.out, /bad_signature/);
    assert.equal((await run("audit", "verify", "--bogus")).code, 2);
  });

  test("verify --checkpoints reads an http(s) URL too (JSON lines or a JSON array): a loopback store of shipped checkpoints", async () => {
    // Served the way a log store or a webhook receiver might: the stdout lines among log lines, or an array.
    const forced = JSON.parse((await run("--json", "audit", "checkpoint")).out).checkpoint;
    const line = checkpointLine(forced);
    const bodies: Record<string, string> = {
      "/shipped.log": `{"level":30,"msg":"modelgov listening"}\n${line}{"level":30,"msg":"store ready"}\n`,
      "/received.json": JSON.stringify([JSON.parse(line)]),
    };
    const server = createServer((req, res) => {
      const body = bodies[req.url ?? ""];
      res.writeHead(body ? 200 : 404).end(body ?? "");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const pem = file("server-url.pem");
      writeFileSync(pem, `${(await run("audit", "public-key")).out}\n`);
      for (const p of ["/shipped.log", "/received.json"]) {
        const r = await run("audit", "verify", "--checkpoints", `${base}${p}`, "--public-key", pem);
        assert.equal(r.code, 0, r.out + r.err);
        assert.match(
          r.out,
          new RegExp(`1 checkpoint\\(s\\) hold, the latest at position ${forced.position}`),
        );
      }
      assert.match(
        (await run("audit", "verify", "--checkpoints", `${base}/shipped.log`, "--public-key", pem)).err,
        /2 JSON value\(s\) that are not checkpoints skipped/,
      );
      const missing = await run("audit", "verify", "--checkpoints", `${base}/nothing`, "--public-key", pem);
      assert.equal(missing.code, 1);
      assert.match(missing.err, /--checkpoints http:\/\/127\.0\.0\.1:\d+\/nothing: HTTP 404/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
