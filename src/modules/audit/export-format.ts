import type { ChainedEvent, Checkpoint } from "./chain.ts";

/**
 * The JSONL archive format, one JSON object per line, each tagged by `type`:
 *
 *   {"type":"header","format":"modelgov-audit-export","version":1,"exportedAt":..,"head":{"position":..,"hash":..},"publicKey":"-----BEGIN PUBLIC KEY-----..","keyId":"ed25519:.."}
 *   {"type":"event","position":1,"id":"aud_..","at":..,"actor":..,"action":..,"subjectType":..,"subjectId":..,"before":..,"after":..,"reason":..,"requestId":..,"prevHash":..,"hash":..}
 *   ... one line per event, in position order ...
 *   {"type":"checkpoint","position":..,"hash":..,"at":..,"signature":..,"keyId":..}
 *
 * A checkpoint file written by the server holds checkpoint lines only, so the same parser
 * reads both. Everything needed to verify offline is in the file; the public key inside
 * it is only as trustworthy as the file, so verifiers can pin their own.
 */
export const EXPORT_FORMAT = "modelgov-audit-export";

export interface ExportHeader {
  type: "header";
  format: typeof EXPORT_FORMAT;
  version: 1;
  exportedAt: string;
  head: { position: number; hash: string };
  publicKey: string;
  keyId: string;
}

export const headerLine = (h: Omit<ExportHeader, "type" | "format" | "version">) =>
  `${JSON.stringify({ type: "header", format: EXPORT_FORMAT, version: 1, ...h })}\n`;

export const eventLine = (e: ChainedEvent) =>
  `${JSON.stringify({
    type: "event",
    position: e.position,
    id: e.id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    subjectType: e.subjectType,
    subjectId: e.subjectId,
    before: e.before,
    after: e.after,
    reason: e.reason,
    requestId: e.requestId,
    prevHash: e.prevHash,
    hash: e.hash,
  })}\n`;

export const checkpointLine = (c: Checkpoint) =>
  `${JSON.stringify({
    type: "checkpoint",
    position: c.position,
    hash: c.hash,
    at: c.at,
    signature: c.signature,
    keyId: c.keyId,
  })}\n`;

export interface ParsedExport {
  header: ExportHeader | null;
  events: ChainedEvent[];
  checkpoints: Checkpoint[];
  /** Lines that are not JSON objects of a known type: 1-based line number and why. */
  badLines: { line: number; reason: string }[];
}

const stripType = <T>(o: Record<string, unknown>): T => {
  const { type: _type, ...rest } = o;
  return rest as T;
};

export function parseExport(text: string): ParsedExport {
  const out: ParsedExport = { header: null, events: [], checkpoints: [], badLines: [] };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      out.badLines.push({ line: i + 1, reason: "not JSON" });
      continue;
    }
    const rec = o as Record<string, unknown>;
    if (!rec || typeof rec !== "object" || Array.isArray(rec)) {
      out.badLines.push({ line: i + 1, reason: "not a JSON object" });
      continue;
    }
    if (rec.type === "event") {
      out.events.push(stripType<ChainedEvent>(rec));
    } else if (rec.type === "checkpoint") {
      out.checkpoints.push(stripType<Checkpoint>(rec));
    } else if (rec.type === "header" && rec.format === EXPORT_FORMAT && !out.header) {
      out.header = rec as unknown as ExportHeader;
    } else out.badLines.push({ line: i + 1, reason: `unexpected line type '${String(rec.type)}'` });
  }
  return out;
}

export interface ParsedCheckpoints {
  checkpoints: Checkpoint[];
  /** Lines that are not JSON (a torn write, text from another program): 1-based line number and why. */
  badLines: { line: number; reason: string }[];
  /** JSON values that are not checkpoints (the server's own log lines in a shipped stdout): skipped. */
  ignored: number;
}

const isCheckpointLike = (o: Record<string, unknown>) =>
  o.type === "checkpoint" || (o.type === undefined && "signature" in o && "position" in o && "hash" in o);

/**
 * Checkpoints kept outside the server, in any of the forms they are shipped in: the checkpoint
 * file, an export, a stdout log collected by a shipper (JSON lines, other lines skipped), or a
 * JSON array (what a webhook receiver that stores the bodies may serve).
 */
export function parseCheckpoints(text: string): ParsedCheckpoints {
  const out: ParsedCheckpoints = { checkpoints: [], badLines: [], ignored: 0 };
  const take = (v: unknown) => {
    const o = v as Record<string, unknown>;
    if (o && typeof o === "object" && !Array.isArray(o) && isCheckpointLike(o))
      out.checkpoints.push(stripType(o));
    else out.ignored++;
  };
  if (text.trimStart().startsWith("[")) {
    try {
      const all = JSON.parse(text) as unknown;
      if (Array.isArray(all)) {
        for (const v of all) take(v);
        return out;
      }
    } catch {
      // A JSON line that happens to be an array: read line by line below.
    }
  }
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    try {
      take(JSON.parse(line));
    } catch {
      out.badLines.push({ line: i + 1, reason: "not JSON" });
    }
  }
  return out;
}
