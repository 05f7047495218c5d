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
import type { Db, Queryable } from "../../store/db.ts";
import { readHead, STATE_CHANNEL } from "./audit.store.ts";
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
 * The key given as PEM (MODELGOV_AUDIT_SIGNING_KEY: replicas must share one), else read from
 * `keyFile` (MODELGOV_AUDIT_SIGNING_KEY_FILE: a secret mount, another volume; it must exist, so
 * a mount that failed is an error, not a new key), else the one in `file` (the data folder),
 * else a new one written there readable by this user only. `wx` makes a second replica
 * starting on the same folder read the winner's key instead of overwriting it.
 */
export function loadSigningKey(opts: {
  pem?: string | undefined;
  keyFile?: string | undefined;
  file: string;
}): {
  key: SigningKey;
  source: "env" | "key-file" | "file" | "generated";
} {
  if (opts.pem) return { key: signingKeyFrom(createPrivateKey(opts.pem)), source: "env" };
  if (opts.keyFile) {
    let pem: string;
    try {
      pem = readFileSync(opts.keyFile, "utf8");
    } catch (err) {
      throw new Error(
        `MODELGOV_AUDIT_SIGNING_KEY_FILE: cannot read ${opts.keyFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      );
    }
    return { key: signingKeyFrom(createPrivateKey(pem)), source: "key-file" };
  }
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
  stdout: Delivery;
}

type SinkName = "file" | "webhook" | "stdout";

/** Somewhere a checkpoint goes to leave the host. */
interface Sink {
  name: SinkName;
  /** Whether it already holds the checkpoint of this head ("position:hash"). */
  holds(head: string): boolean;
  deliver(c: Checkpoint): Promise<"written" | "failed">;
}

export interface CheckpointerDeps {
  /** `listen` is used when `everyEvents` is set: each commit's new head position arrives by notification. */
  db: Queryable & Partial<Pick<Db, "listen">>;
  clock: Clock;
  key: SigningKey;
  file?: string | undefined;
  webhookUrl?: string | undefined;
  /** Writes one checkpoint line (main.ts: to stdout, for a log shipper); unset: no such sink. */
  stdout?: ((line: string) => void) | undefined;
  /** How often the head is looked at; a checkpoint is signed when it moved. */
  intervalMs: number;
  /** Also one as soon as this many events were appended since the last checkpoint; 0 or unset: off. */
  everyEvents?: number | undefined;
  logger: Logger;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

const headKey = (c: { position: number; hash: string }) => `${c.position}:${c.hash}`;

function fileSink(file: string, logger: Logger): Sink {
  // What the file ends with; undefined until read. After a restart, the checkpoint the file
  // already ends with is not repeated; a file moved away (rotated, archived) starts again.
  let last: string | null | undefined;
  const refresh = () => {
    if (last === undefined || !existsSync(file)) {
      const c = lastCheckpointIn(file);
      last = c ? headKey(c) : null;
    }
  };
  return {
    name: "file",
    holds(head) {
      refresh();
      return last === head;
    },
    async deliver(c) {
      try {
        await appendLine(file, checkpointLine(c));
        last = headKey(c);
        return "written";
      } catch (err) {
        logger.error(
          { err, file },
          "audit checkpoint: cannot write the checkpoint file; retrying next interval",
        );
        return "failed";
      }
    },
  };
}

function webhookSink(url: string, logger: Logger, doFetch: NonNullable<CheckpointerDeps["fetch"]>): Sink {
  // A failed delivery keeps the old value: the next tick sends the then-current head (a newer
  // checkpoint covers everything an older one did).
  let last: string | null = null;
  return {
    name: "webhook",
    holds: (head) => last === head,
    async deliver(c) {
      try {
        const res = await doFetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": "modelgov-audit-checkpoint" },
          body: checkpointLine(c).trimEnd(),
          signal: AbortSignal.timeout(10_000),
        });
        // The body is not needed; reading it frees the connection.
        await res.arrayBuffer().catch(() => {});
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        last = headKey(c);
        return "written";
      } catch (err) {
        logger.warn({ err: String(err), url }, "audit checkpoint: webhook failed; retrying next interval");
        return "failed";
      }
    },
  };
}

/** The same line as the file's, so what a log shipper collects is itself a checkpoint file. */
function stdoutSink(write: (line: string) => void): Sink {
  let last: string | null = null;
  return {
    name: "stdout",
    holds: (head) => last === head,
    async deliver(c) {
      write(checkpointLine(c));
      last = headKey(c);
      return "written";
    },
  };
}

export function createCheckpointer(deps: CheckpointerDeps) {
  const { db, clock, key, logger } = deps;
  const doFetch = deps.fetch ?? ((url: string, init: RequestInit) => fetch(url, init));
  const sinks: Sink[] = [
    ...(deps.file ? [fileSink(deps.file, logger)] : []),
    ...(deps.webhookUrl ? [webhookSink(deps.webhookUrl, logger, doFetch)] : []),
    ...(deps.stdout ? [stdoutSink(deps.stdout)] : []),
  ];
  const everyEvents = deps.everyEvents ?? 0;
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let running: Promise<unknown> = Promise.resolve();
  /** The position of the last checkpoint signed here (the event count trigger measures from it). */
  let lastSigned = 0;

  function outcome(
    checkpoint: Checkpoint | null,
    got: Partial<Record<SinkName, Delivery>>,
  ): CheckpointOutcome {
    const of = (name: SinkName): Delivery =>
      got[name] ?? (sinks.some((s) => s.name === name) ? "unchanged" : "off");
    return { checkpoint, file: of("file"), webhook: of("webhook"), stdout: of("stdout") };
  }

  async function run(force: boolean): Promise<CheckpointOutcome> {
    const head = await readHead(db);
    if (head.position === 0) return outcome(null, {});
    const current = headKey(head);
    const due = sinks.filter((s) => !s.holds(current));
    if (!force && !due.length) return outcome(null, {});
    const checkpoint = signCheckpoint(key, head, clock.now());
    lastSigned = Math.max(lastSigned, checkpoint.position);
    const got = Object.fromEntries(
      await Promise.all(due.map(async (s) => [s.name, await s.deliver(checkpoint)] as const)),
    );
    if (Object.values(got).includes("written"))
      // Debug: with a 1 s interval an info line per checkpoint would flood the log.
      logger.debug({ position: checkpoint.position, ...got }, "audit checkpoint");
    return outcome(checkpoint, got);
  }

  /** One at a time: a slow webhook never lets two runs interleave their writes. */
  function serialised(force: boolean): Promise<CheckpointOutcome> {
    const next = running.then(() => run(force));
    running = next.catch(() => {});
    return next;
  }

  // The timer and the event count both ask for a run; while one is going, at most one more
  // waits (a webhook slower than the interval skips ticks instead of queueing them up).
  let busy = false;
  let again = false;
  function kick(): void {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    serialised(false)
      .catch((err) => logger.error({ err }, "audit checkpoint failed"))
      .finally(() => {
        busy = false;
        if (again) {
          again = false;
          kick();
        }
      });
  }

  return {
    /**
     * Signs the current head and delivers it where it has not been delivered yet; returns
     * the signed checkpoint even when every target already had it (callers may keep it).
     */
    checkpointNow: () => serialised(true),
    /** What the timer runs: nothing unless the head moved since a target last got it. */
    tick: () => serialised(false),
    async start() {
      if (timer || !sinks.length) return;
      timer = setInterval(kick, deps.intervalMs);
      timer.unref();
      if (everyEvents > 0 && db.listen)
        unlisten = await db.listen(STATE_CHANNEL, (payload) => {
          const position = Number(payload);
          if (Number.isSafeInteger(position) && position - lastSigned >= everyEvents) kick();
        });
    },
    /** Stops the timer and checkpoints the final head, so the last events before shutdown are covered. */
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await unlisten?.().catch(() => {});
      unlisten = undefined;
      if (!sinks.length) return;
      await serialised(false).catch((err) => logger.error({ err }, "audit checkpoint at shutdown failed"));
    },
  };
}

export type Checkpointer = ReturnType<typeof createCheckpointer>;
