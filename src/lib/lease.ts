import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Queryable } from "../store/db.ts";

/** A holder name for this process: host, pid and a random tag, so two processes never share one. */
export function processHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
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
  /** True when this holder still holds the lease with this epoch (check inside a transaction). */
  stillHeld(q: Queryable, epoch: number): Promise<boolean>;
  release(): Promise<void>;
  /** Takes or renews the lease: a fence for the work done under it (stillHeld at this epoch), or null when another holds it. */
  fence(): Promise<((q: Queryable) => Promise<boolean>) | null>;
}

export function createLease(opts: { db: Queryable; name: string; holder: string; ttlMs: number }): Lease {
  const { db, name, holder, ttlMs } = opts;
  const ttl = `${Math.max(1, Math.round(ttlMs))} milliseconds`;
  return {
    async acquire() {
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
    },
    async stillHeld(q, epoch) {
      const rows = await q.query(
        `SELECT 1 FROM controller_leases
          WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > now()`,
        [name, holder, epoch],
      );
      return rows.length > 0;
    },
    async fence() {
      const l = await this.acquire();
      const epoch = l.epoch;
      return l.held && epoch !== null ? (q: Queryable) => this.stillHeld(q, epoch) : null;
    },
    async release() {
      await db.query(
        "UPDATE controller_leases SET expires_at = now() - interval '1 second' WHERE name = $1 AND holder = $2",
        [name, holder],
      );
    },
  };
}
