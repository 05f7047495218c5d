import { newId } from "../../lib/ids.ts";
import type { Queryable } from "../../store/db.ts";
import type { KillSwitch } from "./kill-switches.schemas.ts";

type Row = Record<string, unknown>;

const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

function view(r: Row): KillSwitch {
  return {
    id: r.id as string,
    scope: r.scope as KillSwitch["scope"],
    target: r.label as string,
    versionId: (r.version_id as string | null) ?? null,
    state: r.released_at == null ? "engaged" : "released",
    reason: r.reason as string,
    engagedBy: r.engaged_by as string,
    engagedAt: iso(r.engaged_at)!,
    releasedBy: (r.released_by as string | null) ?? null,
    releasedAt: iso(r.released_at),
    releaseReason: (r.release_reason as string | null) ?? null,
  };
}

/** The engaged switch on (scope, target), if any: `target` is a version id or a provider name. */
export async function engagedOn(q: Queryable, scope: string, target: string): Promise<KillSwitch | null> {
  const rows = await q.query<Row>(
    "SELECT * FROM kill_switches WHERE scope = $1 AND target = $2 AND released_at IS NULL",
    [scope, target],
  );
  return rows[0] ? view(rows[0]) : null;
}

/** Every engaged switch: what the gateway's routing snapshot and the evaluation invoker read. */
export async function engagedSwitches(q: Queryable): Promise<(KillSwitch & { key: string })[]> {
  const rows = await q.query<Row>(
    "SELECT * FROM kill_switches WHERE released_at IS NULL ORDER BY engaged_at",
  );
  return rows.map((r) => ({ ...view(r), key: r.target as string }));
}

export async function insertSwitch(
  q: Queryable,
  s: {
    scope: string;
    target: string;
    versionId: string | null;
    label: string;
    reason: string;
    actor: string;
    at: Date;
  },
): Promise<KillSwitch> {
  const rows = await q.query<Row>(
    `INSERT INTO kill_switches (id, scope, target, version_id, label, reason, engaged_by, engaged_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [newId("ksw"), s.scope, s.target, s.versionId, s.label, s.reason, s.actor, s.at.toISOString()],
  );
  return view(rows[0]!);
}

/** Locks the switch's row for its release; null when there is no such switch. */
export async function lockSwitch(q: Queryable, id: string): Promise<KillSwitch | null> {
  const rows = await q.query<Row>("SELECT * FROM kill_switches WHERE id = $1 FOR UPDATE", [id]);
  return rows[0] ? view(rows[0]) : null;
}

export async function releaseSwitch(
  q: Queryable,
  id: string,
  r: { reason: string; actor: string; at: Date },
): Promise<KillSwitch> {
  const rows = await q.query<Row>(
    `UPDATE kill_switches SET released_by = $2, released_at = $3, release_reason = $4 WHERE id = $1 RETURNING *`,
    [id, r.actor, r.at.toISOString(), r.reason],
  );
  return view(rows[0]!);
}

export async function listSwitches(
  q: Queryable,
  o: { state: "engaged" | "released" | "all"; limit: number },
): Promise<KillSwitch[]> {
  const where =
    o.state === "engaged"
      ? "WHERE released_at IS NULL"
      : o.state === "released"
        ? "WHERE released_at IS NOT NULL"
        : "";
  const rows = await q.query<Row>(
    `SELECT * FROM kill_switches ${where} ORDER BY engaged_at DESC, id DESC LIMIT $1`,
    [o.limit],
  );
  return rows.map(view);
}

/**
 * The engaged switch covering each of these versions: its own version switch if there is
 * one, else its provider's (the order the gateway's 503 names them in). Versions no switch
 * covers are absent.
 */
export async function switchesCovering(q: Queryable, versionIds: string[]): Promise<Map<string, KillSwitch>> {
  const out = new Map<string, KillSwitch>();
  if (!versionIds.length) return out;
  const rows = await q.query<Row>(
    `SELECT v.id AS covered, k.* FROM model_versions v
       JOIN kill_switches k ON k.released_at IS NULL
        AND ((k.scope = 'version' AND k.target = v.id) OR (k.scope = 'provider' AND k.target = v.provider))
      WHERE v.id = ANY($1)
      ORDER BY (k.scope = 'version') DESC, k.engaged_at`,
    [versionIds],
  );
  for (const r of rows) if (!out.has(r.covered as string)) out.set(r.covered as string, view(r));
  return out;
}
