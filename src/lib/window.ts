/** How far back, as the CLI and the API take it: `15m`, `24h`, `7d`, `2w`. */
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export const MAX_WINDOW_MS = 366 * UNIT_MS.d;

/** `15m`, `24h`, `7d`, `2w` → milliseconds; null when it is not such a duration or exceeds 366 days. */
export function parseWindow(text: string): number | null {
  const m = /^(\d{1,6})([mhdw])$/.exec(text.trim());
  if (!m) return null;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms > 0 && ms <= MAX_WINDOW_MS ? ms : null;
}
