import { createHash, createPublicKey, type KeyObject, verify } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The audit hash chain, as pure functions: no database, no files. The server, the CLI
 * and anyone holding an export run this same code, so a verdict never depends on
 * trusting the server that wrote the log.
 */

/** Hash "before" position 1: sha256("modelgov-audit-genesis"), also seeded by the migration. */
export const GENESIS_HASH = createHash("sha256").update("modelgov-audit-genesis").digest("hex");

export interface ChainedEvent {
  id: string;
  /** 1, 2, 3, ... without gaps: a deleted row shows as a missing position. */
  position: number;
  at: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  before: unknown;
  after: unknown;
  reason: string;
  requestId: string | null;
  prevHash: string;
  hash: string;
}

export type HashInput = Omit<ChainedEvent, "hash" | "prevHash">;

/** A signed statement "the chain had this hash at this position, at this time". */
export interface Checkpoint {
  position: number;
  hash: string;
  at: string;
  /** base64 Ed25519 signature over checkpointPayload(position, hash, at). */
  signature: string;
  keyId: string;
}

export type BrokenReason =
  | "position_gap"
  | "prev_hash_mismatch"
  | "hash_mismatch"
  | "head_mismatch"
  | "checkpoint_missing"
  | "checkpoint_mismatch"
  | "bad_signature";

export interface BrokenLink {
  position: number;
  eventId: string | null;
  reason: BrokenReason;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Events read. */
  checked: number;
  /** The last event that still links correctly (position 0 = genesis). */
  head: { position: number; hash: string };
  checkpoints: { checked: number; latest: number | null };
  firstBroken?: BrokenLink;
}

/**
 * JSONB keeps what JSON.stringify writes, not the JavaScript value (undefined fields
 * vanish, dates become strings): hashing the JSON round trip makes the hash computed at
 * write time equal to the one recomputed from the stored row.
 */
export function toStoredJson(v: unknown): unknown {
  if (v === undefined) return null;
  const text = JSON.stringify(v);
  return text === undefined ? null : JSON.parse(text);
}

/** SHA-256 (hex) over the RFC 8785 canonical JSON of the event and the previous hash. */
export function computeHash(e: HashInput, prevHash: string): string {
  const payload = {
    id: e.id,
    position: e.position,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subjectType: e.subjectType,
    subjectId: e.subjectId,
    before: toStoredJson(e.before),
    after: toStoredJson(e.after),
    reason: e.reason,
    requestId: e.requestId,
    prevHash,
  };
  return createHash("sha256").update(canonicalize(payload)!).digest("hex");
}

/** The bytes a checkpoint signature covers. */
export function checkpointPayload(c: Pick<Checkpoint, "position" | "hash" | "at">): Buffer {
  return Buffer.from(canonicalize({ position: c.position, hash: c.hash, at: c.at })!);
}

/** The public key of a PEM or key object; from a private key, its public half. */
function publicKeyOf(key: KeyObject | string): KeyObject {
  return typeof key !== "string" && key.type === "public" ? key : createPublicKey(key);
}

/** Names a public key: the first 16 hex digits of the SHA-256 of its SPKI encoding. */
export function keyIdOf(key: KeyObject | string): string {
  const der = publicKeyOf(key).export({ type: "spki", format: "der" });
  return `ed25519:${createHash("sha256").update(der).digest("hex").slice(0, 16)}`;
}

export type PublicKeys = KeyObject | string | readonly (KeyObject | string)[];

/** Why a checkpoint is not acceptable, or null when its signature holds under a known key. */
export function checkpointProblem(c: Checkpoint, keys: Map<string, KeyObject>): string | null {
  if (
    !Number.isSafeInteger(c?.position) ||
    c.position < 1 ||
    typeof c.hash !== "string" ||
    typeof c.at !== "string" ||
    typeof c.signature !== "string"
  )
    return "malformed checkpoint";
  const key = keys.get(c.keyId);
  if (!key) return `signed by key ${c.keyId}, which is not among the trusted public keys`;
  const ok = verify(null, checkpointPayload(c), key, Buffer.from(c.signature, "base64"));
  return ok ? null : "the signature does not match the checkpoint";
}

function keyMap(keys: PublicKeys | undefined): Map<string, KeyObject> {
  const list: readonly (KeyObject | string)[] =
    keys === undefined ? [] : Array.isArray(keys) ? keys : [keys as KeyObject | string];
  const out = new Map<string, KeyObject>();
  for (const k of list) {
    const pub = publicKeyOf(k);
    out.set(keyIdOf(pub), pub);
  }
  return out;
}

/**
 * Checks events one at a time, in position order, so a long log is verified page by page
 * without holding it in memory. Checkpoints are checked against the events as they pass.
 */
export function createChainVerifier(
  opts: { checkpoints?: readonly Checkpoint[]; publicKey?: PublicKeys } = {},
) {
  const keys = keyMap(opts.publicKey);
  const problems: BrokenLink[] = [];
  const byPosition = new Map<number, Checkpoint[]>();
  let goodCheckpoints = 0;
  let latest: number | null = null;
  for (const c of opts.checkpoints ?? []) {
    const problem = checkpointProblem(c, keys);
    if (problem) {
      const position = Number.isSafeInteger(c?.position) ? c.position : 0;
      problems.push({ position, eventId: null, reason: "bad_signature", detail: problem });
      continue;
    }
    byPosition.set(c.position, [...(byPosition.get(c.position) ?? []), c]);
  }

  let head = { position: 0, hash: GENESIS_HASH };
  let checked = 0;
  let broken: BrokenLink | null = null;

  function push(e: ChainedEvent): void {
    checked++;
    if (broken) return;
    const expected = head.position + 1;
    if (e.position !== expected)
      broken = {
        position: expected,
        eventId: e.id,
        reason: "position_gap",
        detail:
          e.position > expected
            ? `position ${expected} is missing: the next event (${e.id}) claims position ${e.position}`
            : `expected position ${expected}, found ${e.id} claiming position ${e.position} again`,
      };
    else if (e.prevHash !== head.hash)
      broken = {
        position: e.position,
        eventId: e.id,
        reason: "prev_hash_mismatch",
        detail: `prevHash ${e.prevHash} is not the hash of position ${head.position} (${head.hash})`,
      };
    else if (computeHash(e, e.prevHash) !== e.hash)
      broken = {
        position: e.position,
        eventId: e.id,
        reason: "hash_mismatch",
        detail: "the stored hash does not match the event's content: the event was changed",
      };
    if (broken) return;
    for (const c of byPosition.get(e.position) ?? []) {
      if (c.hash === e.hash) {
        goodCheckpoints++;
        latest = Math.max(latest ?? 0, c.position);
      } else
        problems.push({
          position: e.position,
          eventId: e.id,
          reason: "checkpoint_mismatch",
          detail: `the checkpoint signed at ${c.at} has hash ${c.hash} here, the log has ${e.hash}: the log was rewritten`,
        });
    }
    head = { position: e.position, hash: e.hash };
  }

  /** `expectedHead`: the head the store records, which the last event must match. */
  function finish(expectedHead?: { position: number; hash: string }): VerifyResult {
    const found = [...problems];
    if (broken) found.push(broken);
    else {
      for (const [position, cps] of byPosition)
        if (position > head.position)
          found.push({
            position,
            eventId: null,
            reason: "checkpoint_missing",
            detail: `the log ends at position ${head.position}, but the checkpoint signed at ${cps[0]!.at} covers position ${position}: events were removed from the end`,
          });
      if (expectedHead && (expectedHead.position !== head.position || expectedHead.hash !== head.hash))
        found.push({
          // Events beyond the recorded head: the first of them; events missing before it: the first missing.
          position:
            expectedHead.position === head.position
              ? head.position
              : Math.min(expectedHead.position, head.position) + 1,
          eventId: null,
          reason: "head_mismatch",
          detail: `the recorded chain head is position ${expectedHead.position} (${expectedHead.hash}), the events end at ${head.position} (${head.hash})`,
        });
    }
    // The lowest position is the first broken link; at equal positions a chain break explains more.
    const rank = (b: BrokenLink) => (b === broken ? 0 : 1);
    found.sort((a, b) => a.position - b.position || rank(a) - rank(b));
    const firstBroken = found[0];
    return {
      ok: !firstBroken,
      checked,
      head,
      checkpoints: { checked: goodCheckpoints, latest },
      ...(firstBroken ? { firstBroken } : {}),
    };
  }

  return { push, finish };
}

export function verifyChain(
  events: Iterable<ChainedEvent>,
  opts: {
    checkpoints?: readonly Checkpoint[];
    publicKey?: PublicKeys;
    expectedHead?: { position: number; hash: string };
  } = {},
): VerifyResult {
  const v = createChainVerifier(opts);
  for (const e of events) v.push(e);
  return v.finish(opts.expectedHead);
}
