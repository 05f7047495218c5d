import type { Queryable } from "../store/db.ts";
import { type BatchSink, isDataError } from "./batch-sink.ts";
import type { Clock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { createSpool, type SpoolRow } from "./spool.ts";

export interface BatchWriterOptions<T> {
  db: Queryable;
  clock: Clock;
  logger: Logger;
  /** Where batches wait while the database is unreachable; one folder per process. */
  spoolDir: string;
  sink: BatchSink<T>;
  batchSize?: number;
  flushIntervalMs?: number;
  /**
   * Entries held in memory; past this the buffer is spilled to the spool as a whole. At most
   * two more buffers' worth may be on their way to disk: memory stays under 3 × maxBuffer.
   */
  maxBuffer?: number;
  maxSpoolFileBytes?: number;
  /** A batch insert slower than this is spooled too (if it lands after all, the replay is a no-op). */
  writeTimeoutMs?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface WriterStats {
  /** Entries in memory, not yet in the database or the spool. */
  buffered: number;
  spooledFiles: number;
  /** Entries waiting in spool files. */
  spooledEntries: number;
  /** Entries the database acknowledged (a replayed duplicate counts once more). */
  written: number;
  /** Entries lost: the database and the disk both failed (or the disk fell two buffers behind). */
  dropped: number;
  /** Entries the database refused as invalid; kept in the spool's dead-letter file. */
  rejected: number;
  /** The last write failed for a reason other than bad data; batches go to the spool until a replay succeeds. */
  dbDown: boolean;
  lastError: { at: string; message: string } | null;
}

export interface BatchWriter<T> {
  /** Queues an entry: synchronous, O(1), never waits on the database and never throws. */
  record(entry: T): void;
  /** Queues an entry and resolves once it is in the database or fsync'd in the spool. */
  recordDurable(entry: T): Promise<void>;
  /** Writes everything queued so far (to the database, else to the spool). */
  flush(): Promise<void>;
  /** Replays spool files oldest first, deleting each once it is in the database. */
  replaySpool(): Promise<{ replayed: number; remainingFiles: number }>;
  /** Counts what a previous run left in the spool, starts the flush timer and the replay. */
  start(): Promise<void>;
  /** Stops the timers and flushes; what the database cannot take stays in the spool for the next start. */
  stop(): Promise<void>;
  stats(): WriterStats;
}

interface Ack {
  resolve(): void;
  reject(err: Error): void;
}
interface Item<T> {
  entry: T;
  ack?: Ack;
}

class WriteTimeout extends Error {
  constructor(ms: number) {
    super(`batch insert took longer than ${ms} ms`);
    this.name = "WriteTimeout";
  }
}

/**
 * Batches entries into one INSERT per `batchSize`, off the hot path. Nothing queued is lost
 * while the database is away: a batch that fails (or is too slow) is appended to the local
 * spool and fsync'd, and a retry loop with backoff replays the spool once the database answers.
 */
export function createBatchWriter<T>(opts: BatchWriterOptions<T>): BatchWriter<T> {
  const { db, clock, logger, sink } = opts;
  const batchSize = opts.batchSize ?? 200;
  const flushIntervalMs = opts.flushIntervalMs ?? 50;
  const maxBuffer = opts.maxBuffer ?? 50_000;
  const writeTimeoutMs = opts.writeTimeoutMs ?? 10_000;
  const retryMinMs = opts.retryMinMs ?? 500;
  const retryMaxMs = opts.retryMaxMs ?? 30_000;
  const spool = createSpool({
    dir: opts.spoolDir,
    name: sink.name,
    ...(opts.maxSpoolFileBytes ? { maxFileBytes: opts.maxSpoolFileBytes } : {}),
  });
  const log = logger.child({ component: "batch-writer", table: sink.name });

  let buffer: Item<T>[] = [];
  let spilling = 0;
  /** Taken from the buffer by the running flush, not yet in the database or the spool. */
  let inFlight = 0;
  const spills = new Set<Promise<void>>();
  let flushLoop: Promise<void> | null = null;
  let flushAgain = false;
  let flushSoon = false;
  let replaying: Promise<{ replayed: number; remainingFiles: number }> | null = null;
  let interval: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMinMs;
  let started = false;
  let dbDown = false;
  let written = 0;
  let dropped = 0;
  let rejected = 0;
  let lastError: WriterStats["lastError"] = null;

  const noteError = (err: unknown) => {
    lastError = { at: clock.now().toISOString(), message: (err as Error)?.message ?? String(err) };
  };
  const settle = (items: Item<T>[], err?: Error) => {
    for (const it of items) if (it.ack) err ? it.ack.reject(err) : it.ack.resolve();
  };

  /** Converts entries to rows; an entry that cannot be converted is a bug upstream, not an outage. */
  function toRows(items: Item<T>[]): { items: Item<T>[]; rows: SpoolRow[] } {
    const good: Item<T>[] = [];
    const rows: SpoolRow[] = [];
    for (const it of items) {
      try {
        rows.push(sink.toRow(it.entry));
        good.push(it);
      } catch (err) {
        rejected++;
        noteError(err);
        log.error({ err }, "entry could not be converted to a row; dropped");
        it.ack?.reject(err as Error);
      }
    }
    return { items: good, rows };
  }

  async function insert(rows: SpoolRow[], fresh = false): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const write = sink.insert(db, rows, fresh);
    write.catch(() => {}); // a late failure after the timeout must not go unhandled
    try {
      await Promise.race([
        write,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new WriteTimeout(writeTimeoutMs)), writeTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  function markDown(err: unknown) {
    noteError(err);
    if (!dbDown) log.warn({ err }, "database write failed; spooling to disk until it is back");
    dbDown = true;
    scheduleRetry();
  }

  async function toSpool(items: Item<T>[], rows: SpoolRow[]) {
    try {
      await spool.append(rows);
      settle(items);
      scheduleRetry();
    } catch (err) {
      dropped += rows.length;
      noteError(err);
      log.error({ err, entries: rows.length }, "spool write failed too; entries lost");
      settle(
        items,
        new Error(`not recorded: the database and the spool both failed (${(err as Error).message})`),
      );
    }
  }

  /**
   * A batch with a bad row: find it by writing one row at a time, dead-letter it, keep the
   * rest. Returns the index where the database went away, or -1 when every row was handled.
   */
  async function oneByOne(items: Item<T>[], rows: SpoolRow[]): Promise<number> {
    for (let i = 0; i < rows.length; i++) {
      try {
        await insert([rows[i]!]);
        written++;
        if (items[i]) settle([items[i]!]);
      } catch (err) {
        if (!isDataError(err)) {
          markDown(err);
          return i;
        }
        rejected++;
        noteError(err);
        log.error({ err, id: rows[i]!.id }, "row refused by the database; kept in the dead-letter file");
        await spool.reject([rows[i]!], (err as Error).message).catch(() => {});
        if (items[i]) settle([items[i]!], new Error(`refused by the database: ${(err as Error).message}`));
      }
    }
    return -1;
  }

  async function writeBatch(batch: Item<T>[]) {
    const { items, rows } = toRows(batch);
    if (!rows.length) return;
    if (!dbDown) {
      try {
        await insert(rows, true);
        written += rows.length;
        settle(items);
        return;
      } catch (err) {
        if (isDataError(err)) {
          const down = await oneByOne(items, rows);
          if (down >= 0) await toSpool(items.slice(down), rows.slice(down));
          return;
        }
        markDown(err);
      }
    }
    await toSpool(items, rows);
  }

  async function flushOnce() {
    const items = buffer;
    buffer = [];
    inFlight = items.length;
    for (let i = 0; i < items.length; i += batchSize) {
      await writeBatch(items.slice(i, i + batchSize));
      inFlight = Math.max(0, items.length - i - batchSize);
    }
  }

  function flush(): Promise<void> {
    flushAgain = true;
    flushLoop ??= (async () => {
      try {
        while (flushAgain) {
          flushAgain = false;
          await flushOnce();
        }
      } finally {
        flushLoop = null;
      }
    })();
    return flushLoop;
  }

  function scheduleFlush() {
    if (flushSoon) return;
    flushSoon = true;
    setImmediate(() => {
      flushSoon = false;
      void flush();
    });
  }

  /** The buffer is full (the database is slow or away): move it to disk as a whole. */
  function spill() {
    const items = buffer;
    buffer = [];
    if (spilling + items.length > 2 * maxBuffer) {
      // The disk has fallen two whole buffers behind: memory stays bounded, this is the loss.
      dropped += items.length;
      log.error({ entries: items.length }, "log buffer and spool both behind; entries lost");
      settle(items, new Error("not recorded: the log buffer and the spool are both full"));
      return;
    }
    spilling += items.length;
    const p = (async () => {
      const { items: good, rows } = toRows(items);
      await toSpool(good, rows);
    })().finally(() => {
      spilling -= items.length;
      spills.delete(p);
    });
    spills.add(p);
  }

  function enqueue(item: Item<T>) {
    if (buffer.length >= maxBuffer) spill();
    buffer.push(item);
    if (buffer.length >= batchSize || item.ack) scheduleFlush();
  }

  async function replayFiles(): Promise<{ replayed: number; remainingFiles: number }> {
    await spool.seal();
    const files = await spool.files();
    let replayed = 0;
    if (!files.length && dbDown) {
      // Everything in the outage was lost or nothing was queued: a probe says whether it is over.
      try {
        await db.query("SELECT 1");
        dbDown = false;
      } catch (err) {
        noteError(err);
      }
      return { replayed, remainingFiles: 0 };
    }
    for (let f = 0; f < files.length; f++) {
      const file = files[f]!;
      const { rows, corrupt } = await spool.read(file);
      if (corrupt) log.warn({ file, corrupt }, "spool lines that do not parse (a write cut short) skipped");
      for (let i = 0; i < rows.length; i += batchSize) {
        const batch = rows.slice(i, i + batchSize);
        try {
          await insert(batch);
          written += batch.length;
        } catch (err) {
          if (isDataError(err)) {
            if ((await oneByOne([], batch)) >= 0) return { replayed, remainingFiles: files.length - f };
            replayed += batch.length;
            continue;
          }
          markDown(err);
          // The whole file is replayed again next time; rows already in are ignored by id.
          return { replayed, remainingFiles: files.length - f };
        }
        replayed += batch.length;
      }
      await spool.remove(file);
      if (dbDown) {
        dbDown = false;
        log.info("database is back; spooled entries are being replayed");
      }
    }
    if (files.length) log.info({ files: files.length, replayed }, "spool replayed");
    return { replayed, remainingFiles: 0 };
  }

  function replaySpool() {
    replaying ??= replayFiles().finally(() => {
      replaying = null;
    });
    return replaying;
  }

  function scheduleRetry() {
    if (!started || retryTimer) return;
    retryTimer = setTimeout(async () => {
      try {
        const r = await replaySpool();
        retryDelay = r.remainingFiles || dbDown ? Math.min(retryDelay * 2, retryMaxMs) : retryMinMs;
      } catch (err) {
        noteError(err);
        log.error({ err }, "spool replay failed");
        retryDelay = Math.min(retryDelay * 2, retryMaxMs);
      } finally {
        retryTimer = undefined;
      }
      // Batches spooled while this replay ran (or left over by it) need another pass.
      if (dbDown || spool.stats().files > 0) scheduleRetry();
    }, retryDelay);
    retryTimer.unref();
  }

  return {
    record(entry) {
      enqueue({ entry });
    },

    recordDurable(entry) {
      return new Promise<void>((resolve, reject) => enqueue({ entry, ack: { resolve, reject } }));
    },

    async flush() {
      await flush();
      await Promise.all([...spills]);
    },
    replaySpool,

    async start() {
      if (started) return;
      await spool.init();
      started = true;
      interval = setInterval(() => {
        if (buffer.length) void flush();
      }, flushIntervalMs);
      interval.unref();
      if (spool.stats().files > 0) {
        log.info(spool.stats(), "replaying the spool left by a previous run");
        retryDelay = 0;
        scheduleRetry();
        retryDelay = retryMinMs;
      }
    },

    async stop() {
      started = false;
      clearInterval(interval);
      clearTimeout(retryTimer);
      retryTimer = undefined;
      await flush();
      await Promise.all([...spills]);
      await replaying?.catch(() => {});
      await Promise.all([...spills]);
      await spool.close();
    },

    stats: () => {
      const s = spool.stats();
      return {
        buffered: buffer.length + inFlight + spilling,
        spooledFiles: s.files,
        spooledEntries: s.entries,
        written,
        dropped,
        rejected,
        dbDown,
        lastError,
      };
    },
  };
}
