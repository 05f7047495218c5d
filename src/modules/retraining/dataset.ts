/**
 * A retraining task's failing slice as a file: OpenAI chat fine-tuning lines, or a modelgov
 * evaluation suite. Pure: rows in, lines out; the service reads the rows page by page and
 * the route streams the lines, so the slice is never held whole.
 */
import { type ChatMessage, type SliceRow, sampledMessages } from "../request-log/index.ts";
import type { DatasetFormat } from "./retraining.schemas.ts";
import type { EvidenceRow } from "./retraining.store.ts";

/** A time range of one version that the export reads. */
export interface Range {
  versionId: string;
  from: Date;
  to: Date;
}

/**
 * The ranges of the evidence: each entry's breached windows (all its windows when it flags
 * none, so a monitor that leaves the flag out still bounds the slice), per version, with
 * overlapping and touching ranges merged.
 */
export function rangesOf(evidence: Iterable<Pick<EvidenceRow, "versionId" | "evidence">>): Range[] {
  const byVersion = new Map<string, { from: number; to: number }[]>();
  for (const e of evidence) {
    const windows = (e.evidence.windows ?? []) as { from: string; to: string; breached?: boolean }[];
    const breached = windows.filter((w) => w.breached === true);
    for (const w of breached.length ? breached : windows) {
      const list = byVersion.get(e.versionId) ?? [];
      list.push({ from: Date.parse(w.from), to: Date.parse(w.to) });
      byVersion.set(e.versionId, list);
    }
  }
  const out: Range[] = [];
  for (const [versionId, list] of byVersion) {
    list.sort((a, b) => a.from - b.from);
    let cur: { from: number; to: number } | undefined;
    for (const r of list) {
      if (cur && r.from <= cur.to) cur.to = Math.max(cur.to, r.to);
      else {
        if (cur) out.push({ versionId, from: new Date(cur.from), to: new Date(cur.to) });
        cur = { ...r };
      }
    }
    if (cur) out.push({ versionId, from: new Date(cur.from), to: new Date(cur.to) });
  }
  return out;
}

type Msg = ChatMessage;

/** The request's chat messages as the gateway kept them (OpenAI-shaped), or null. */
const requestMessages = (row: SliceRow): Msg[] | null => sampledMessages(row.sampledBody);

/** One OpenAI fine-tuning line: the request's messages, with the correction as the assistant turn. */
export function openAiLine(row: SliceRow): string | null {
  const messages = requestMessages(row);
  if (!messages) return null;
  const kept = messages.map((m) => {
    const out: Record<string, unknown> = { role: m.role, content: m.content ?? null };
    for (const k of ["name", "tool_calls", "tool_call_id"]) if (m[k] !== undefined) out[k] = m[k];
    return out;
  });
  if (row.correction !== null) kept.push({ role: "assistant", content: row.correction });
  return JSON.stringify({ messages: kept });
}

/** Text of a message: a string, or the text parts of a content array; null when it has none. */
function textOf(content: unknown): string | null {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return null;
  const parts = content
    .filter((p): p is { type: "text"; text: string } => p?.type === "text" && typeof p.text === "string")
    .map((p) => p.text);
  return parts.length ? parts.join("\n") : null;
}

/** A suite case id: the request id where it fits the format, else a stable stand-in. */
const caseId = (id: string) =>
  /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? id : `req-${id.replace(/[^A-Za-z0-9._:-]/g, "_").slice(0, 120)}`;

/**
 * One suite case: the request's system/user/assistant turns as text, the correction as the
 * expected answer, the request's groups as the case's attributes. Null when the request holds
 * a turn a suite cannot (a tool call or result, a turn without text) or has no correction.
 */
export function suiteCase(row: SliceRow): Record<string, unknown> | null {
  const messages = requestMessages(row);
  if (!messages || row.correction === null) return null;
  const turns: { role: string; content: string }[] = [];
  for (const m of messages) {
    const role = m.role === "developer" ? "system" : m.role;
    if (role !== "system" && role !== "user" && role !== "assistant") return null;
    if (m.tool_calls !== undefined) return null;
    const text = textOf(m.content);
    if (!text) return null;
    turns.push({ role, content: text });
  }
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(row.groups ?? {}))
    if (/^[a-z][a-z0-9_]{0,49}$/.test(k) && typeof v === "string") attributes[k] = v.slice(0, 200);
  return { id: caseId(row.id), input: { messages: turns }, expect: { equals: row.correction }, attributes };
}

export interface ExportTally {
  exported: number;
  /** openai-jsonl: lines without an assistant turn (to label); suite: requests without a correction. */
  uncorrected: number;
  /** Requests whose kept body holds no chat a line or a case can carry. */
  unrepresentable: number;
}

/**
 * The lines of the export. openai-jsonl: one JSON object per line. suite: one JSON document,
 * one case per line; its description, written last, tallies what was left out and why.
 */
export async function* exportLines(
  rows: AsyncIterable<SliceRow>,
  opts: {
    format: DatasetFormat;
    include: "all" | "corrected";
    suiteName: string;
    describe: (t: ExportTally) => string;
  },
): AsyncGenerator<string> {
  const tally: ExportTally = { exported: 0, uncorrected: 0, unrepresentable: 0 };
  if (opts.format === "openai-jsonl") {
    for await (const row of rows) {
      if (row.correction === null && opts.include === "corrected") {
        tally.uncorrected++;
        continue;
      }
      const line = openAiLine(row);
      if (!line) {
        tally.unrepresentable++;
        continue;
      }
      if (row.correction === null) tally.uncorrected++;
      tally.exported++;
      yield `${line}\n`;
    }
    return;
  }
  const scorers = [{ kind: "exact_match", trim: true, caseInsensitive: true }];
  yield `{"name":${JSON.stringify(opts.suiteName)},"scorers":${JSON.stringify(scorers)},"cases":[\n`;
  // One case behind, so the last one goes out without a trailing comma.
  let held: string | null = null;
  for await (const row of rows) {
    if (row.correction === null) {
      tally.uncorrected++;
      continue;
    }
    const c = suiteCase(row);
    if (!c) {
      tally.unrepresentable++;
      continue;
    }
    if (held !== null) yield `${held},\n`;
    held = JSON.stringify(c);
    tally.exported++;
  }
  if (held !== null) yield `${held}\n`;
  yield `],"description":${JSON.stringify(opts.describe(tally))}}\n`;
}
