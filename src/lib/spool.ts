import { mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";

/** One spooled row: the JSON object the batch insert takes (the table's column names). */
export type SpoolRow = Record<string, unknown>;

export interface SpoolStats {
  files: number;
  entries: number;
}

/**
 * Append-only JSON Lines files that hold rows the database could not take yet.
 *
 * Layout in `dir`: `<name>.<15-digit ms>.<6-digit seq>.jsonl`, oldest first by name, one
 * row per line, each append fsync'd before it resolves (and the folder fsync'd when a file
 * is created), files rotated past `maxFileBytes`. `<name>.rejected.jsonl` keeps rows the
 * database refused as invalid (a dead letter for a person to look at), never replayed.
 * One spool folder belongs to one process: replicas each have their own.
 */
export interface Spool {
  /** Appends the rows and fsyncs; resolves only once they are on disk. */
  append(rows: readonly SpoolRow[]): Promise<void>;
  /** Closes the file being appended to, so every spooled row sits in a sealed file. */
  seal(): Promise<void>;
  /** Spool files, oldest first (the dead letter excluded). */
  files(): Promise<string[]>;
  /** A file's rows; a line cut short by a crash, or otherwise unparsable, is skipped and counted. */
  read(file: string): Promise<{ rows: SpoolRow[]; corrupt: number }>;
  /** Deletes a replayed file. */
  remove(file: string): Promise<void>;
  /** Appends rows the database refused as invalid to the dead letter, with the reason. */
  reject(rows: readonly SpoolRow[], reason: string): Promise<void>;
  /** Counts the rows left by a previous run. */
  init(): Promise<void>;
  stats(): SpoolStats;
  close(): Promise<void>;
}

type Handle = Awaited<ReturnType<typeof open>>;

export function createSpool({
  dir,
  name,
  maxFileBytes = 16 * 1024 * 1024,
}: {
  dir: string;
  name: string;
  maxFileBytes?: number;
}): Spool {
  const pattern = new RegExp(`^${name.replace(/[^A-Za-z0-9_]/g, "")}\\.\\d{15}\\.\\d{6}\\.jsonl$`);
  const deadLetter = path.join(dir, `${name}.rejected.jsonl`);
  /** Entries per file, so stats() needs no disk access. */
  const counts = new Map<string, number>();
  let current: { file: string; handle: Handle; bytes: number } | null = null;
  let seq = 0;
  let dirReady = false;
  // Every operation on the folder runs one after the other: no append races a seal or a delete.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = chain.then(fn);
    chain = p.catch(() => {});
    return p;
  };

  async function ensureDir() {
    if (dirReady) return;
    await mkdir(dir, { recursive: true });
    dirReady = true;
  }

  /** A new file's name must survive a crash too: fsync the folder that lists it. */
  async function syncDir() {
    const d = await open(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  async function closeCurrent() {
    const c = current;
    current = null;
    if (c) await c.handle.close().catch(() => {});
  }

  async function openNew(): Promise<NonNullable<typeof current>> {
    await ensureDir();
    seq = (seq + 1) % 1_000_000;
    const file = path.join(
      dir,
      `${name}.${String(Date.now()).padStart(15, "0")}.${String(seq).padStart(6, "0")}.jsonl`,
    );
    const handle = await open(file, "a");
    await syncDir();
    counts.set(file, 0);
    current = { file, handle, bytes: 0 };
    return current;
  }

  const encode = (rows: readonly SpoolRow[]) =>
    Buffer.from(rows.map((r) => `${JSON.stringify(r)}\n`).join(""));

  return {
    append: (rows) =>
      serial(async () => {
        if (rows.length === 0) return;
        const data = encode(rows);
        let c = current;
        if (c && c.bytes > 0 && c.bytes + data.length > maxFileBytes) {
          await closeCurrent();
          c = null;
        }
        c ??= await openNew();
        try {
          await c.handle.write(data);
          await c.handle.sync();
        } catch (err) {
          // A partial line may now end the file: seal it, so the next append starts a clean
          // file instead of gluing its first row onto the fragment.
          await closeCurrent();
          throw err;
        }
        c.bytes += data.length;
        counts.set(c.file, (counts.get(c.file) ?? 0) + rows.length);
      }),

    seal: () => serial(closeCurrent),

    files: () =>
      serial(async () => {
        await ensureDir();
        return (await readdir(dir))
          .filter((f) => pattern.test(f))
          .sort()
          .map((f) => path.join(dir, f));
      }),

    async read(file) {
      const text = await readFile(file, "utf8");
      const rows: SpoolRow[] = [];
      let corrupt = 0;
      for (const line of text.split("\n")) {
        if (!line) continue;
        try {
          const row = JSON.parse(line);
          if (row && typeof row === "object" && !Array.isArray(row)) rows.push(row as SpoolRow);
          else corrupt++;
        } catch {
          corrupt++;
        }
      }
      return { rows, corrupt };
    },

    remove: (file) =>
      serial(async () => {
        if (current?.file === file) await closeCurrent();
        await rm(file, { force: true });
        counts.delete(file);
      }),

    reject: (rows, reason) =>
      serial(async () => {
        await ensureDir();
        const at = new Date().toISOString();
        const h = await open(deadLetter, "a");
        try {
          await h.write(Buffer.from(rows.map((row) => `${JSON.stringify({ at, reason, row })}\n`).join("")));
          await h.sync();
        } finally {
          await h.close();
        }
      }),

    init: () =>
      serial(async () => {
        await ensureDir();
        for (const f of await readdir(dir)) {
          if (!pattern.test(f)) continue;
          const file = path.join(dir, f);
          if (counts.has(file)) continue;
          // Complete lines only: a line cut short by a crash has no newline and is skipped on replay.
          const data = await readFile(file);
          let n = 0;
          for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) n++;
          counts.set(file, n);
        }
      }),

    stats() {
      let entries = 0;
      for (const n of counts.values()) entries += n;
      return { files: counts.size, entries };
    },

    close: () => serial(closeCurrent),
  };
}
