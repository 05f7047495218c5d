import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Queryable, Tx } from "../store/db.ts";
import type { Logger } from "./logger.ts";

/** A holder name for this process: host, pid and a random tag, so two processes never share one. */
export function processHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

/**
 * Thrown at COMMIT by a transaction fenced at an epoch its holder no longer holds: the work
 * rolls back. What a leader paused past its TTL (a GC pause, SIGSTOP, a VM migration) meets
 * when it resumes mid-work while another replica leads.
 */
export class LeaseLost extends Error {
  constructor(
    readonly lease: string,
    readonly epoch: number,
  ) {
    super(`lease ${lease} lost: work at epoch ${epoch} refused`);
    this.name = "LeaseLost";
  }
}

/**
 * One holder across replicas for a singleton job (the rollout controller): a lease row in
 * PostgreSQL with an expiry and an epoch. A holder renews before expiry; another replica
 * takes over only once it has expired, and the epoch then goes up, so work stamped with an
 * old epoch can be refused (fencing). Times are the database's own (now()), so replicas'
 * clocks do not matter. No session advisory locks: they break behind connection poolers.
 */
export interface Lease {
  /** Takes or renews the lease; the epoch is set when held. */
  acquire(): Promise<{ held: boolean; epoch: number | null; holder: string }>;
  /** True when this holder still holds the lease with this epoch, by the database's clock at this moment. */
  stillHeld(q: Queryable, epoch: number): Promise<boolean>;
  /**
   * Fences the transaction `tx` at `epoch`: false at once when the lease is no longer held
   * (skip the work), else true, and checked again just before COMMIT with the lease row
   * locked (FOR SHARE), throwing LeaseLost when it was lost meanwhile. A check at the start
   * alone would let a holder paused mid-transaction commit next to its successor; the lock
   * makes a takeover wait for the few statements between that check and COMMIT, never for
   * the work itself.
   */
  guard(tx: Tx, epoch: number): Promise<boolean>;
  release(): Promise<void>;
  /** Takes or renews the lease: a fence for the work done under it (guard at this epoch), or null when another holds it. */
  fence(): Promise<((tx: Tx) => Promise<boolean>) | null>;
}

export function createLease(opts: {
  db: Queryable;
  name: string;
  holder: string;
  ttlMs: number;
  /** When set, taking the lease and losing it (stepping down) are logged. */
  logger?: Logger;
}): Lease {
  const { db, name, holder, ttlMs, logger } = opts;
  const ttl = `${Math.max(1, Math.round(ttlMs))} milliseconds`;
  let leading: number | null = null;
  const note = (epoch: number | null, current: string) => {
    if (epoch === leading) return;
    if (epoch !== null) logger?.info({ lease: name, epoch, holder }, "leader lease taken");
    else logger?.warn({ lease: name, epoch: leading, holder: current }, "leader lease lost; stepping down");
    leading = epoch;
  };
  const check = async (q: Queryable, epoch: number, lock: boolean) =>
    (
      await q.query(
        // clock_timestamp(), not now(): now() is when the transaction began, perhaps before a pause.
        `SELECT 1 FROM controller_leases
          WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > clock_timestamp()${lock ? " FOR SHARE" : ""}`,
        [name, holder, epoch],
      )
    ).length > 0;
  return {
    async acquire() {
      const l = await take();
      note(l.epoch, l.holder);
      return l;
    },
    stillHeld: (q, epoch) => check(q, epoch, false),
    async guard(tx, epoch) {
      if (!(await check(tx, epoch, false))) return false;
      tx.beforeCommit(`lease:${name}:${epoch}`, async (q) => {
        if (!(await check(q, epoch, true))) throw new LeaseLost(name, epoch);
      });
      return true;
    },
    async fence() {
      const l = await this.acquire();
      const epoch = l.epoch;
      return l.held && epoch !== null ? (tx: Tx) => this.guard(tx, epoch) : null;
    },
    async release() {
      await db.query(
        "UPDATE controller_leases SET expires_at = now() - interval '1 second' WHERE name = $1 AND holder = $2",
        [name, holder],
      );
      leading = null;
    },
  };

  async function take(): Promise<{ held: boolean; epoch: number | null; holder: string }> {
    const rows = await db.query<{ holder: string; epoch: string | number }>(
      `INSERT INTO controller_leases (name, holder, epoch, expires_at)
         VALUES ($1, $2, 1, now() + $3::interval)
         ON CONFLICT (name) DO UPDATE
            SET holder = EXCLUDED.holder,
                epoch = controller_leases.epoch + CASE WHEN controller_leases.holder = EXCLUDED.holder THEN 0 ELSE 1 END,
                expires_at = EXCLUDED.expires_at
          WHERE controller_leases.holder = EXCLUDED.holder OR controller_leases.expires_at < now()
         RETURNING holder, epoch`,
      [name, holder, ttl],
    );
    if (rows[0]) return { held: true, epoch: Number(rows[0].epoch), holder };
    const cur = await db.query<{ holder: string }>("SELECT holder FROM controller_leases WHERE name = $1", [
      name,
    ]);
    return { held: false, epoch: null, holder: cur[0]?.holder ?? "" };
  }
}
