import Table from "cli-table3";

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Redraws one status line in place (a terminal); absent, progress goes to `err` now and then. */
  progress?(text: string | null): void;
}

/** Readable tables for people, JSON for scripts (`--json`). */
export function printRows(io: Io, json: boolean, data: unknown, rows: object[], columns: string[]) {
  if (json) return io.out(JSON.stringify(data, null, 2));
  if (rows.length === 0) return io.out("(none)");
  const table = new Table({ head: columns, style: { head: [], border: [] } });
  for (const r of rows) table.push(columns.map((c) => fmt((r as Record<string, unknown>)[c])));
  io.out(table.toString());
}

export function printRecord(io: Io, json: boolean, record: object, fields?: string[]) {
  if (json) return io.out(JSON.stringify(record, null, 2));
  const data = record as Record<string, unknown>;
  const keys = fields ?? Object.keys(data);
  const width = Math.max(...keys.map((k) => k.length));
  for (const k of keys) io.out(`${k.padEnd(width)}  ${fmt(data[k])}`);
}

export function fmt(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (Array.isArray(v)) return v.map(fmt).join(", ");
  if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length
      ? entries.map(([k, x]) => `${k}=${typeof x === "object" ? JSON.stringify(x) : x}`).join(" ")
      : "-";
  }
  return String(v);
}
