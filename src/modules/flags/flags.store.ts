// SQL for flags and their append-only revisions. A flag's definition is stored as JSON (key
// order kept); the revision row repeats the whole flag as the change left it, so "as of T" is
// one row.

import type { Queryable } from "../../store/db.ts";
import type { Flag, FlagInput, FlagRevision } from "./flags.schemas.ts";

type Body = Pick<Flag, "variants" | "defaultVariant" | "enabled" | "rules" | "schedule">;
export type FlagChange = FlagRevision["change"];

interface Row {
  key: string;
  type: Flag["type"];
  description: string;
  definition: Body | string;
  revision: number;
  updated_at: Date | string;
  updated_by: string;
}

const iso = (t: Date | string) => (t instanceof Date ? t : new Date(t)).toISOString();
const json = <T>(v: T | string): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);

function toFlag(r: Row): Flag {
  const d = json<Body>(r.definition);
  return {
    key: r.key,
    type: r.type,
    description: r.description,
    variants: d.variants,
    defaultVariant: d.defaultVariant,
    enabled: d.enabled,
    rules: d.rules,
    ...(d.schedule ? { schedule: d.schedule } : {}),
    revision: r.revision,
    updatedAt: iso(r.updated_at),
    updatedBy: r.updated_by,
  };
}

function bodyOf(f: FlagInput): Body {
  return {
    variants: f.variants,
    defaultVariant: f.defaultVariant,
    enabled: f.enabled,
    rules: f.rules,
    ...(f.schedule ? { schedule: f.schedule } : {}),
  };
}

const COLUMNS = "key, type, description, definition, revision, updated_at, updated_by";

export async function listFlags(q: Queryable): Promise<Flag[]> {
  return (await q.query<Row>(`SELECT ${COLUMNS} FROM flags ORDER BY key`)).map(toFlag);
}

export async function findFlag(q: Queryable, key: string, forUpdate = false): Promise<Flag | null> {
  const rows = await q.query<Row>(
    `SELECT ${COLUMNS} FROM flags WHERE key = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [key],
  );
  return rows[0] ? toFlag(rows[0]) : null;
}

/** The next revision number of a key: its revisions survive a delete, so a re-created flag continues them. */
async function nextRevision(q: Queryable, key: string): Promise<number> {
  const rows = await q.query<{ n: number | string | null }>(
    "SELECT max(revision) AS n FROM flag_revisions WHERE key = $1",
    [key],
  );
  return Number(rows[0]?.n ?? 0) + 1;
}

/** Writes the flag (an insert when created, else an update of the row the caller locked) and its revision. */
export async function writeFlag(
  q: Queryable,
  f: FlagInput,
  change: Exclude<FlagChange, "deleted">,
  actor: string,
  at: Date,
): Promise<Flag> {
  const revision = await nextRevision(q, f.key);
  const definition = JSON.stringify(bodyOf(f));
  // A create is a plain INSERT: two creates racing on one key (neither saw the other's row)
  // meet at the primary key, and the loser gets a 409 instead of overwriting the winner.
  await q.query(
    change === "created"
      ? `INSERT INTO flags (key, type, description, definition, revision, created_at, created_by, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7)`
      : `UPDATE flags SET type = $2, description = $3, definition = $4, revision = $5, updated_at = $6, updated_by = $7
         WHERE key = $1`,
    [f.key, f.type, f.description, definition, revision, at.toISOString(), actor],
  );
  await q.query(
    `INSERT INTO flag_revisions (key, revision, change, type, description, definition, actor, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [f.key, revision, change, f.type, f.description, definition, actor, at.toISOString()],
  );
  return (await findFlag(q, f.key))!;
}

export async function deleteFlag(q: Queryable, key: string, actor: string, at: Date): Promise<number> {
  const revision = await nextRevision(q, key);
  await q.query("DELETE FROM flags WHERE key = $1", [key]);
  await q.query(
    `INSERT INTO flag_revisions (key, revision, change, actor, at) VALUES ($1, $2, 'deleted', $3, $4)`,
    [key, revision, actor, at.toISOString()],
  );
  return revision;
}

interface RevisionRow {
  key: string;
  revision: number;
  change: FlagChange;
  type: Flag["type"] | null;
  description: string | null;
  definition: Body | string | null;
  actor: string;
  at: Date | string;
}

function toRevision(r: RevisionRow): FlagRevision {
  const at = iso(r.at);
  return {
    key: r.key,
    revision: r.revision,
    change: r.change,
    actor: r.actor,
    at,
    flag:
      r.definition === null
        ? null
        : toFlag({
            key: r.key,
            type: r.type!,
            description: r.description ?? "",
            definition: r.definition,
            revision: r.revision,
            updated_at: at,
            updated_by: r.actor,
          }),
  };
}

/** Every change to a key, newest first. */
export async function flagRevisions(q: Queryable, key: string): Promise<FlagRevision[]> {
  return (
    await q.query<RevisionRow>(
      "SELECT key, revision, change, type, description, definition, actor, at FROM flag_revisions WHERE key = $1 ORDER BY revision DESC",
      [key],
    )
  ).map(toRevision);
}

/** The flag as it was at `at` (its last revision then); null when it did not exist then. */
export async function flagAsOf(q: Queryable, key: string, at: string): Promise<Flag | null> {
  const rows = await q.query<RevisionRow>(
    `SELECT key, revision, change, type, description, definition, actor, at FROM flag_revisions
     WHERE key = $1 AND at <= $2 ORDER BY revision DESC LIMIT 1`,
    [key, at],
  );
  return rows[0] ? toRevision(rows[0]).flag : null;
}

/** Where the flags' history stands: moves with every change to any flag. */
export async function flagsPosition(q: Queryable): Promise<number> {
  const rows = await q.query<{ n: number | string | null }>("SELECT max(seq) AS n FROM flag_revisions");
  return Number(rows[0]?.n ?? 0);
}
