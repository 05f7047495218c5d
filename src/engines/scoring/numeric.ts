/** The numeric scorer: the first number in the output, within a tolerance of the expected one. */
import { fail, field, type NumericConfig, pass, quote, type ScorerDef } from "./types.ts";

const NUMBER = /[-+\u2212]?\d+(?:[.,]\d+)*/;

/**
 * The first number in `text`, or undefined. Without decimalComma, commas are thousands
 * separators ("1,234.5" → 1234.5); with it, dots are ("1.234,5" → 1234.5, "3,5" → 3.5).
 * Exponents and leading-dot numbers (".5") are not read.
 */
export function extractNumber(text: string, decimalComma = false): number | undefined {
  const m = NUMBER.exec(text);
  if (!m) return undefined;
  let s = m[0].replace("\u2212", "-");
  s = decimalComma ? s.replace(/\./g, "").replace(",", ".") : s.replace(/,/g, "");
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

const nonNegative = (v: unknown) =>
  v === undefined || (typeof v === "number" && Number.isFinite(v) && v >= 0);

function checkNumeric(expect: unknown): string | undefined {
  const n = field(expect, "number");
  if (typeof n !== "number" || !Number.isFinite(n)) return "numeric needs expect.number (a finite number)";
  if (!nonNegative(field(expect, "tolerance"))) return "expect.tolerance must be a number ≥ 0";
  if (!nonNegative(field(expect, "relTolerance"))) return "expect.relTolerance must be a number ≥ 0";
  return undefined;
}

export const numeric: ScorerDef<NumericConfig> = {
  checkExpect: checkNumeric,
  score(output, expect, config) {
    const problem = checkNumeric(expect);
    if (problem) return fail(`invalid expectation: ${problem}`);
    const want = field(expect, "number") as number;
    const abs = (field(expect, "tolerance") as number | undefined) ?? config.absTolerance ?? 0;
    const rel = (field(expect, "relTolerance") as number | undefined) ?? config.relTolerance ?? 0;
    const got = extractNumber(output.text, config.decimalComma);
    if (got === undefined) return fail(`no number in ${quote(output.text)}`);
    const diff = Math.abs(got - want);
    // Either tolerance is enough; a tiny epsilon absorbs binary rounding (0.1 + 0.2).
    const ok = diff <= abs + 1e-12 || diff <= rel * Math.abs(want) + 1e-12;
    const within = `tolerance abs ${abs}, rel ${rel}`;
    return ok
      ? pass(`${got} is within ${within} of ${want}`)
      : fail(`${got} is ${diff} away from ${want} (${within})`);
  },
};
