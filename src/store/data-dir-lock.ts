import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";

/** Who holds an embedded data folder: written to `<data folder>.lock` by the process that opened it. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The kernel's boot id: a lock from before a reboot names a process that no longer exists. */
  boot: string;
  since: string;
}

export class DataDirInUse extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      `the embedded database in ${dataDir} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}). ` +
        "The embedded store serves one process: stop that one first, or run several replicas on PostgreSQL " +
        `(DATABASE_URL; docs/replicas.md). If that process is gone and the folder is on another host's disk, remove ${dataDir}.lock.`,
    );
    this.name = "DataDirInUse";
  }
}

const bootId = (): string => {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "";
  }
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Whether the recorded holder is certainly gone: on this host, and either from an earlier boot,
 * this very process (a container restarted as pid 1 again), or no process of that pid. A holder
 * on another host (a shared network disk) cannot be checked, so it stands.
 */
function stale(h: LockHolder): boolean {
  if (h.host !== hostname()) return false;
  const boot = bootId();
  if (boot && h.boot && h.boot !== boot) return true;
  return h.pid === process.pid || !alive(h.pid);
}

/**
 * Takes the embedded data folder for this process, or throws DataDirInUse naming the folder and
 * its holder. PGlite is PostgreSQL inside one process: two processes on one folder would each
 * write its files as if alone and corrupt it, so a second `modelgov serve` must refuse to start.
 * The lock file is created exclusively; a stale one (its process gone) is taken over. Returns the
 * release, which removes the file if it is still this process's.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = `${dataDir}.lock`;
  const mine: LockHolder = {
    pid: process.pid,
    host: hostname(),
    boot: bootId(),
    since: new Date().toISOString(),
  };
  const text = `${JSON.stringify(mine)}\n`;
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, text, { flag: "wx", mode: 0o644 });
      return () => {
        try {
          if (readFileSync(file, "utf8") === text) unlinkSync(file);
        } catch {}
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    let raw: string;
    try {
      raw = readFileSync(file, "utf8");
    } catch {
      continue; // released meanwhile
    }
    let holder: LockHolder | null = null;
    try {
      holder = JSON.parse(raw) as LockHolder;
    } catch {}
    // An unreadable lock is one whose writer died between creating and writing it.
    if (holder && !stale(holder)) throw new DataDirInUse(dataDir, holder);
    try {
      // Only the stale content is removed: a process that took it over meanwhile keeps its lock.
      if (readFileSync(file, "utf8") === raw) unlinkSync(file);
    } catch {}
  }
  throw new Error(`could not take the lock ${file}: it keeps changing (another process starting at once?)`);
}
