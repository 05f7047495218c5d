import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
} from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../../lib/clock.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Queryable } from "../../store/db.ts";
import { readHead } from "./audit.store.ts";
import { type Checkpoint, checkpointPayload, keyIdOf } from "./chain.ts";
import { checkpointLine, parseExport } from "./export-format.ts";

/**
 * A hash chain cannot show a cut-off tail, nor a rewrite by someone who can write to the
 * database and recompute every hash. Signed checkpoints of the chain head, kept outside
 * the database (a file, a webhook), can: the log must still contain every checkpointed
 * head, and only the holder of the private key can make a new checkpoint.
 */

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
  publicKeyPem: string;
}

export function signingKeyFrom(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== "ed25519")
    throw new Error("the audit signing key must be an Ed25519 key");
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

export const generateSigningKey = (): SigningKey => signingKeyFrom(generateKeyPairSync("ed25519").privateKey);

/**
 * The key given as PEM (MODELGOV_AUDIT_SIGNING_KEY: replicas must share one), else the one
 * in `file`, else a new one written there readable by this user only. `wx` makes a second
 * replica starting on the same folder read the winner's key instead of overwriting it.
 */
export function loadSigningKey(opts: { pem?: string | undefined; file: string }): {
  key: SigningKey;
  source: "env" | "file" | "generated";
} {
  if (opts.pem) return { key: signingKeyFrom(createPrivateKey(opts.pem)), source: "env" };
  if (existsSync(opts.file))
    return { key: signingKeyFrom(createPrivateKey(readFileSync(opts.file, "utf8"))), source: "file" };
  const key = generateSigningKey();
  mkdirSync(path.dirname(opts.file), { recursive: true });
  try {
    writeFileSync(opts.file, key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), {
      mode: 0o600,
      flag: "wx",
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadSigningKey(opts);
    throw err;
  }
  return { key, source: "generated" };
}

export function signCheckpoint(
  key: SigningKey,
  head: { position: number; hash: string },
  at: Date,
): Checkpoint {
  const c = { position: head.position, hash: head.hash, at: at.toISOString() };
  return {
    ...c,
    signature: sign(null, checkpointPayload(c), key.privateKey).toString("base64"),
    keyId: key.keyId,
  };
}

/** Checkpoints in a file; lines that do not parse (a write torn by a crash) are counted, not fatal. */
export function readCheckpointFile(file: string): { checkpoints: Checkpoint[]; badLines: number } {
  if (!existsSync(file)) return { checkpoints: [], badLines: 0 };
  const parsed = parseExport(readFileSync(file, "utf8"));
  return { checkpoints: parsed.checkpoints, badLines: parsed.badLines.length };
}

/** The last checkpoint in a file, reading only its tail (the file grows for years). */
function lastCheckpointIn(file: string): Checkpoint | null {
  if (!existsSync(file)) return null;
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, size - length);
    const cps = parseExport(buf.toString("utf8")).checkpoints;
    return cps[cps.length - 1] ?? null;
  } finally {
    closeSync(fd);
  }
}

/** Appends one line durably; starts on a fresh line when a crash left the last one torn. */
async function appendLine(file: string, line: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const fh = await open(file, "a+");
  try {
    const { size } = await fh.stat();
    let prefix = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      await fh.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    await fh.appendFile(prefix + line);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

export type Delivery = "written" | "unchanged" | "failed" | "off";

export interface CheckpointOutcome {
  /** Null when the chain is still empty: there is no head to sign. */
  checkpoint: Checkpoint | null;
  file: Delivery;
  webhook: Delivery;
}

export interface CheckpointerDeps {
  db: Queryable;
  clock: Clock;
  key: SigningKey;
  file?: string | undefined;
  webhookUrl?: string | undefined;
  intervalMs: number;
  logger: Logger;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export function createCheckpointer(deps: CheckpointerDeps) {
  const { db, clock, key, file, webhookUrl, logger } = deps;
  const doFetch = deps.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  // What each target last received; a failed target keeps its old value and gets the
  // then-current head at the next tick (a newer checkpoint covers everything an older one did).
  let fileHead: string | null | undefined;
  let hookHead: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const headKey = (c: { position: number; hash: string }) => `${c.position}:${c.hash}`;

  function lastInFile(): string | null {
    const last = file ? lastCheckpointIn(file) : null;
    return last ? headKey(last) : null;
  }

  async function toFile(c: Checkpoint): Promise<Delivery> {
    if (!file) return "off";
    // After a restart, do not repeat the checkpoint the file already ends with; a file
    // moved away (rotated, archived) starts again with the current head.
    if (fileHead === undefined || !existsSync(file)) fileHead = lastInFile();
    if (fileHead === headKey(c)) return "unchanged";
    try {
      await appendLine(file, checkpointLine(c));
      fileHead = headKey(c);
      return "written";
    } catch (err) {
      logger.error(
        { err, file },
        "audit checkpoint: cannot write the checkpoint file; retrying next interval",
      );
      return "failed";
    }
  }

  async function toWebhook(c: Checkpoint): Promise<Delivery> {
    if (!webhookUrl) return "off";
    if (hookHead === headKey(c)) return "unchanged";
    try {
      const res = await doFetch(webhookUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "modelgov-audit-checkpoint" },
        body: checkpointLine(c).trimEnd(),
        signal: AbortSignal.timeout(10_000),
      });
      // The body is not needed; reading it frees the connection.
      await res.arrayBuffer().catch(() => {});
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      hookHead = headKey(c);
      return "written";
    } catch (err) {
      logger.warn(
        { err: String(err), url: webhookUrl },
        "audit checkpoint: webhook failed; retrying next interval",
      );
      return "failed";
    }
  }

  async function run(force: boolean): Promise<CheckpointOutcome> {
    const head = await readHead(db);
    if (head.position === 0)
      return {
        checkpoint: null,
        file: file ? "unchanged" : "off",
        webhook: webhookUrl ? "unchanged" : "off",
      };
    if (!force && file && (fileHead === undefined || !existsSync(file))) fileHead = lastInFile();
    const current = headKey(head);
    if (!force && (!file || fileHead === current) && (!webhookUrl || hookHead === current))
      return {
        checkpoint: null,
        file: file ? "unchanged" : "off",
        webhook: webhookUrl ? "unchanged" : "off",
      };
    const checkpoint = signCheckpoint(key, head, clock.now());
    const [f, w] = await Promise.all([toFile(checkpoint), toWebhook(checkpoint)]);
    if (f === "written" || w === "written")
      logger.info({ position: checkpoint.position, file: f, webhook: w }, "audit checkpoint");
    return { checkpoint, file: f, webhook: w };
  }

  /** One at a time: a slow webhook never lets two ticks interleave their writes. */
  function serialised(force: boolean): Promise<CheckpointOutcome> {
    const next = running.then(() => run(force));
    running = next.catch(() => {});
    return next;
  }

  return {
    /**
     * Signs the current head and delivers it where it has not been delivered yet; returns
     * the signed checkpoint even when every target already had it (callers may keep it).
     */
    checkpointNow: () => serialised(true),
    /** What the timer runs: nothing unless the head moved since a target last got it. */
    tick: () => serialised(false),
    start() {
      if (timer || (!file && !webhookUrl)) return;
      let busy = false;
      timer = setInterval(() => {
        // A webhook slower than the interval skips ticks instead of queueing them up.
        if (busy) return;
        busy = true;
        serialised(false)
          .catch((err) => logger.error({ err }, "audit checkpoint failed"))
          .finally(() => {
            busy = false;
          });
      }, deps.intervalMs);
      timer.unref();
    },
    /** Stops the timer and checkpoints the final head, so the last events before shutdown are covered. */
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (!file && !webhookUrl) return;
      await serialised(false).catch((err) => logger.error({ err }, "audit checkpoint at shutdown failed"));
    },
  };
}

export type Checkpointer = ReturnType<typeof createCheckpointer>;
