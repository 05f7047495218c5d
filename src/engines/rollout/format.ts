/** Numbers in words for the reasons the judge and the experiment results give. */

/** 0.041 → "4.1%". */
export function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/** 0.041 → "+4.1%", -0.041 → "-4.1%". */
export function signedPct(x: number, digits = 1): string {
  const s = pct(x, digits);
  return x >= 0 ? `+${s}` : s;
}

/** A p-value: three decimals, or two significant digits in e-notation below 0.001. */
export function fmtP(p: number): string {
  if (p === 0) return "0";
  if (p >= 0.001) return p.toFixed(3);
  return p.toExponential(1);
}

/**
 * A number with at most `digits` decimals and thousands separators: 12345.6 → "12,345.6".
 * By hand, as en-US toLocaleString would print it: toLocaleString goes through ICU and cost
 * the decision benchmark most of its time.
 */
export function num(x: number, digits = 1): string {
  if (!Number.isFinite(x)) return x.toLocaleString("en-US");
  let s = Math.abs(x).toFixed(digits);
  if (s.includes("e")) return x.toLocaleString("en-US", { maximumFractionDigits: digits });
  if (digits > 0) s = s.replace(/\.?0+$/, "");
  const dot = s.indexOf(".");
  const int = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? "" : s.slice(dot);
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const negative = x < 0 && /[1-9]/.test(s);
  return `${negative ? "-" : ""}${grouped}${frac}`;
}

/** A USD amount with four significant digits: 0.0031234 → "$0.003123". */
export function usd(x: number): string {
  return `$${Number(x.toPrecision(4))}`;
}

/** Milliseconds as "45 s", "12 min", "1 h 5 min". */
export function fmtDuration(ms: number): string {
  if (ms < 60_000) return `${num(ms / 1000)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
