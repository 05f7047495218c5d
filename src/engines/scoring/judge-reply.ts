/**
 * Reading a model's reply that should hold a JSON object: the objects in it, found inside a
 * Markdown fence or prose without trusting either, and a judge's `{"score": 0..1, "reason"}`.
 * Shared by the evals' LLM judge and the gateway's router judges and classifier.
 */

/** The index of the `}` closing the object opened at `start` (braces inside JSON strings ignored), or -1. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") depth++;
    else if (ch === "}" && --depth === 0) return i;
  }
  return -1;
}

/**
 * The JSON objects in `text`, outermost first, in order: finds the object inside a Markdown
 * fence or surrounded by prose without trusting either. A brace that opens no valid JSON
 * (prose like "{sic}") is skipped and the search goes on inside it.
 */
export function jsonObjects(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let start = text.indexOf("{"); start !== -1; ) {
    const end = closingBrace(text, start);
    let value: unknown;
    try {
      value = end === -1 ? undefined : JSON.parse(text.slice(start, end + 1));
    } catch {
      value = undefined;
    }
    const isObject = value !== null && typeof value === "object" && !Array.isArray(value);
    if (isObject) out.push(value as Record<string, unknown>);
    start = text.indexOf("{", isObject ? end + 1 : start + 1);
  }
  return out;
}

/**
 * Reads the judge's reply: the JSON object with a `score` (inside a fence or prose is fine).
 * Strict about the score: a JSON number in [0, 1]; "8/10", 80, "0.8" are errors, because
 * guessing the scale would silently turn a confused judge into a verdict.
 */
export function parseJudgeAnswer(text: string): { score: number; reason: string } | { error: string } {
  const found = jsonObjects(text).filter((o) => Object.hasOwn(o, "score"));
  if (found.length === 0) return { error: 'no JSON object with a "score"' };
  const scores = new Set(found.map((o) => JSON.stringify(o.score)));
  if (scores.size > 1) return { error: `${found.length} JSON objects with different scores` };
  const { score, reason } = found[0]!;
  if (typeof score !== "number" || !Number.isFinite(score))
    return { error: `score is ${JSON.stringify(score)}, not a number` };
  if (score < 0 || score > 1) return { error: `score ${score} is outside 0..1` };
  if (reason !== undefined && typeof reason !== "string") return { error: "reason is not a string" };
  const r = reason?.trim() ?? "";
  return { score, reason: r === "" ? "(the judge gave no reason)" : r.slice(0, 500) };
}
