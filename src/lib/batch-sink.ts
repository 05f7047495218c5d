import { canCopy, type Queryable } from "../store/db.ts";
import type { SpoolRow } from "./spool.ts";

/*
 * The store side of a batch writer: what a table hands the writer (its rows and one
 * statement per batch) and how the writer tells bad data from an outage.
 */

/** What one table needs from the writer: its rows, and ONE idempotent statement per batch. */
export interface BatchSink<T> {
  /** The table; also the spool files' prefix. */
  name: string;
  /** Runs at flush time, off the hot path. */
  toRow(entry: T): SpoolRow;
  /**
   * Inserts the rows in one statement, ignoring ids already present (a replay is idempotent).
   * `fresh`: the rows come straight from the buffer, never written before (not a replay, a
   * retry or a spilled batch), so a store may take a faster path without the duplicate check.
   */
  insert(q: Queryable, rows: SpoolRow[], fresh?: boolean): Promise<void>;
}

/** PostgreSQL refused the data itself (classes 22 data exception, 23 integrity): retrying cannot help. */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && /^2[23]/.test(code);
}

/**
 * One statement per batch: the rows travel as a single JSON parameter and
 * `json_to_recordset` turns them into typed columns, so a whole batch costs one round trip
 * and no parameter limit applies. Rows whose key (`conflict`, by default the id) is already
 * present are skipped, which makes a replay of the spool idempotent; `returning` names the
 * columns of the rows actually inserted.
 */
export function jsonInsertSql(
  table: string,
  columns: readonly (readonly [string, string])[],
  opts: { conflict?: readonly string[]; returning?: string } = {},
): string {
  const names = columns.map(([n]) => n).join(", ");
  const types = columns.map(([n, t]) => `${n} ${t}`).join(", ");
  return `INSERT INTO ${table} (${names})
    SELECT ${names} FROM json_to_recordset($1::json) AS r(${types})
    ON CONFLICT (${(opts.conflict ?? ["id"]).join(", ")}) DO NOTHING${opts.returning ? ` RETURNING ${opts.returning}` : ""}`;
}

/** `jsonInsertSql` as a batch sink's insert. */
export function jsonBatchInsert(table: string, columns: readonly (readonly [string, string])[]) {
  const sql = jsonInsertSql(table, columns);
  return async (q: Queryable, rows: SpoolRow[]) => {
    await q.query(sql, [JSON.stringify(rows)]);
  };
}

/** One CSV field: NULL is an empty unquoted field, every string is quoted (so "" is the empty string). */
function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "";
  if (typeof v === "boolean") return v ? "t" : "f";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return `"${s.includes('"') ? s.replaceAll('"', '""') : s}"`;
}

/** The rows as CSV, one line per row, fields in `names` order (for `COPY … FROM`). */
export function csvOf(rows: readonly SpoolRow[], names: readonly string[]): string {
  let out = "";
  for (const r of rows) {
    let line = "";
    for (let i = 0; i < names.length; i++) {
      if (i) line += ",";
      line += csvField(r[names[i]!]);
    }
    out += `${line}\n`;
  }
  return out;
}

/**
 * `jsonInsertSql`, plus a bulk path: a fresh batch on a store that can bulk-load goes in by
 * `COPY … FROM` as CSV (on the embedded store a fifth cheaper per row than the INSERT).
 * Replays, retries and other stores keep the idempotent INSERT. A fresh batch cannot hold an
 * id already stored (ids are unique per process and a batch leaves the buffer once); if one
 * ever did, the unique violation is a data error and the writer retries row by row, through
 * the idempotent path. Array columns have no CSV form here: such a table uses jsonBatchInsert.
 * Resolves to the ids inserted (`"all"` after a COPY, which inserts every row or none).
 */
export function batchInsert(
  table: string,
  columns: readonly (readonly [string, string])[],
  opts: { conflict?: readonly string[] } = {},
) {
  if (columns.some(([, t]) => t.endsWith("[]")))
    throw new Error(`${table}: array columns cannot be bulk-loaded as CSV; use jsonBatchInsert`);
  const names = columns.map(([n]) => n);
  const copySql = `COPY ${table} (${names.join(", ")}) FROM '/dev/blob' WITH (FORMAT csv)`;
  const insertSql = jsonInsertSql(table, columns, { ...opts, returning: "id" });
  return async (q: Queryable, rows: SpoolRow[], fresh?: boolean): Promise<Set<string> | "all"> => {
    if (fresh && canCopy(q)) {
      await q.copyFrom(copySql, csvOf(rows, names));
      return "all";
    }
    const got = await q.query<{ id: string }>(insertSql, [JSON.stringify(rows)]);
    return new Set(got.map((r) => r.id));
  };
}
