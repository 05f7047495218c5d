import assert from "node:assert/strict";
import { describe, test } from "node:test";
import canonicalize from "canonicalize";
import {
  type ChainedEvent,
  type Checkpoint,
  computeHash,
  GENESIS_HASH,
  type HashInput,
  keyIdOf,
  verifyChain,
} from "./chain.ts";
import { generateSigningKey, signCheckpoint } from "./checkpoints.ts";
import { eventLine, parseExport } from "./export-format.ts";

/** A chain of `n` events linked exactly as sealEvents links them. */
function chainOf(n: number): ChainedEvent[] {
  const out: ChainedEvent[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const e: HashInput = {
      id: `aud_${i}`,
      position: i,
      at: new Date(Date.UTC(2026, 2, 1, 9, i)).toISOString(),
      actor: i % 2 ? "alice" : "bob",
      action: "model.updated",
      subjectType: "model",
      subjectId: "mdl_1",
      before: { description: `v${i - 1}` },
      after: { description: `v${i}`, score: i / 10 },
      reason: "",
      requestId: `req_${i}`,
    };
    const hash = computeHash(e, prev);
    out.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

const headOf = (events: ChainedEvent[]) => {
  const last = events[events.length - 1]!;
  return { position: last.position, hash: last.hash };
};

describe("audit hash chain (pure)", () => {
  test("genesis is sha256('modelgov-audit-genesis') (reference: coreutils sha256sum), as the migration seeds it", () => {
    assert.equal(GENESIS_HASH, "0ee63bb9b2887b03cb8b57564f206f18fb3f3739f153f999a0aa68b3558587ca");
  });

  test("the hashed payload is RFC 8785 JSON of the event fields and prevHash (reference: sha256sum over the hand-written canonical text)", () => {
    const e: HashInput = {
      id: "aud_1",
      position: 1,
      at: "2026-03-01T09:00:00.000Z",
      actor: "alice",
      action: "model.created",
      subjectType: "model",
      subjectId: "mdl_1",
      before: undefined,
      after: { tags: ["ü", "😀"], name: "chat", n: 0.1, big: 1e21, dropped: undefined },
      reason: "",
      requestId: "req_1",
    };
    // Keys sorted by UTF-16 code unit, 1e21 written as 1e+21, undefined fields gone (RFC 8785 §3.2).
    assert.equal(
      computeHash(e, GENESIS_HASH),
      "751f84c872dd4d6435c68a1469ace27f8bf1739a0aac3b11dfc1e578cd294ddc",
    );
    assert.equal(canonicalize({ a: 1e21, b: 1e-7, c: 0.000001 }), '{"a":1e+21,"b":1e-7,"c":0.000001}');
  });

  test("an intact chain verifies and ends at its head", () => {
    const events = chainOf(5);
    const r = verifyChain(events, { expectedHead: headOf(events) });
    assert.deepEqual(r, {
      ok: true,
      checked: 5,
      head: headOf(events),
      checkpoints: { checked: 0, latest: null },
    });
    assert.equal(verifyChain([]).ok, true);
  });

  test("names the first broken link: changed field, changed link, deleted and repeated positions", () => {
    const changed = chainOf(5);
    changed[2] = { ...changed[2]!, actor: "mallory" };
    assert.deepEqual(
      [verifyChain(changed).firstBroken?.position, verifyChain(changed).firstBroken?.reason],
      [3, "hash_mismatch"],
    );

    // Content and its own hash recomputed: the next event no longer links to it.
    const relinked = chainOf(5);
    const forged = { ...relinked[1]!, actor: "mallory" };
    relinked[1] = { ...forged, hash: computeHash(forged, forged.prevHash) };
    const r = verifyChain(relinked);
    assert.deepEqual(
      [r.firstBroken?.position, r.firstBroken?.reason, r.head.position],
      [3, "prev_hash_mismatch", 2],
    );

    const deleted = chainOf(5).filter((e) => e.position !== 4);
    const d = verifyChain(deleted);
    assert.deepEqual(
      [d.firstBroken?.position, d.firstBroken?.reason, d.firstBroken?.eventId],
      [4, "position_gap", "aud_5"],
    );

    const first = verifyChain(chainOf(3).slice(1));
    assert.deepEqual([first.firstBroken?.position, first.firstBroken?.reason], [1, "position_gap"]);

    const repeated = chainOf(3);
    repeated.splice(2, 0, repeated[1]!);
    assert.equal(verifyChain(repeated).firstBroken?.reason, "position_gap");
  });

  test("a recorded head that the events do not reach, or overshoot, is a head mismatch", () => {
    const events = chainOf(5);
    const short = verifyChain(events.slice(0, 3), { expectedHead: headOf(events) });
    assert.deepEqual([short.firstBroken?.position, short.firstBroken?.reason], [4, "head_mismatch"]);
    const long = verifyChain(events, { expectedHead: headOf(events.slice(0, 4)) });
    assert.deepEqual([long.firstBroken?.position, long.firstBroken?.reason], [5, "head_mismatch"]);
  });

  test("checkpoints: a dropped tail and a full rewrite pass the chain alone but not the checkpoints", () => {
    const key = generateSigningKey();
    const events = chainOf(6);
    const cp = signCheckpoint(key, headOf(events.slice(0, 5)), new Date("2026-03-01T10:00:00Z"));
    const ok = verifyChain(events, { checkpoints: [cp], publicKey: key.publicKeyPem });
    assert.deepEqual([ok.ok, ok.checkpoints], [true, { checked: 1, latest: 5 }]);

    const cut = events.slice(0, 3);
    assert.equal(verifyChain(cut, { expectedHead: headOf(cut) }).ok, true);
    const missing = verifyChain(cut, { checkpoints: [cp], publicKey: key.publicKey });
    assert.deepEqual([missing.firstBroken?.position, missing.firstBroken?.reason], [5, "checkpoint_missing"]);

    // Rewrite from position 2 on with every hash recomputed: a perfect chain, but not the one signed.
    const rewritten: ChainedEvent[] = [events[0]!];
    for (const e of events.slice(1)) {
      const prevHash = rewritten[rewritten.length - 1]!.hash;
      const body = { ...e, actor: "mallory" };
      rewritten.push({ ...body, prevHash, hash: computeHash(body, prevHash) });
    }
    assert.equal(verifyChain(rewritten).ok, true);
    const r = verifyChain(rewritten, { checkpoints: [cp], publicKey: key.publicKey });
    assert.deepEqual([r.firstBroken?.position, r.firstBroken?.reason], [5, "checkpoint_mismatch"]);
  });

  test("a checkpoint with a bad signature, an unknown key or missing fields is refused; several keys may be trusted", () => {
    const key = generateSigningKey();
    const other = generateSigningKey();
    const events = chainOf(3);
    const good = signCheckpoint(key, headOf(events), new Date("2026-03-01T10:00:00Z"));
    const flipped: Checkpoint = { ...good, position: 2, hash: events[1]!.hash };
    const bySomeoneElse = signCheckpoint(other, headOf(events), new Date("2026-03-01T10:00:00Z"));
    for (const [cp, match] of [
      [flipped, /signature does not match/],
      [bySomeoneElse, /not among the trusted public keys/],
      [{ ...good, position: "3" } as unknown as Checkpoint, /malformed/],
    ] as const) {
      const r = verifyChain(events, { checkpoints: [cp], publicKey: key.publicKey });
      assert.equal(r.firstBroken?.reason, "bad_signature");
      assert.match(r.firstBroken!.detail, match);
    }
    assert.match(verifyChain(events, { checkpoints: [good] }).firstBroken!.detail, /not among the trusted/);
    const both = verifyChain(events, {
      checkpoints: [good, bySomeoneElse],
      publicKey: [key.publicKeyPem, other.publicKeyPem],
    });
    assert.deepEqual([both.ok, both.checkpoints.checked], [true, 2]);
    assert.equal(keyIdOf(key.privateKey), key.keyId);
    assert.match(key.keyId, /^ed25519:[0-9a-f]{16}$/);
  });

  test("the first broken link is the lowest position across chain and checkpoint problems", () => {
    const key = generateSigningKey();
    const events = chainOf(6);
    const cp2 = signCheckpoint(key, { position: 2, hash: "0".repeat(64) }, new Date());
    events[4] = { ...events[4]!, reason: "edited" };
    const r = verifyChain(events, { checkpoints: [cp2], publicKey: key.publicKey });
    assert.deepEqual([r.firstBroken?.position, r.firstBroken?.reason], [2, "checkpoint_mismatch"]);
  });

  test("an event survives its JSONL line: values parse back to the same hash", () => {
    const [e] = chainOf(1);
    const parsed = parseExport(eventLine(e!));
    assert.deepEqual(parsed.events, [e]);
    assert.equal(verifyChain(parsed.events).ok, true);
    assert.deepEqual(parseExport('{"type":"event"\nnope\n[]\n{"type":"zzz"}\n').badLines, [
      { line: 1, reason: "not JSON" },
      { line: 2, reason: "not JSON" },
      { line: 3, reason: "not a JSON object" },
      { line: 4, reason: "unexpected line type 'zzz'" },
    ]);
  });
});
