/**
 * Every time the console prints, in one shape: ISO-like `YYYY-MM-DD HH:mm:ss`, 24-hour, in the
 * viewer's time zone (or the one given, which the tests pin). Not the browser locale's own format:
 * that mixes 12- and 24-hour clocks between pages and machines, reads 03/04 two ways, and its
 * width changes from row to row. This shape is the API's ISO 8601 with the `T` and the zone left
 * out, sorts as text, and is what the audit page's time input shows. The full instant with its
 * zone stays in each `<time>`'s title.
 */

export interface TimeOptions {
  /** An IANA zone ("UTC", "Europe/Paris"); the viewer's own when absent. */
  zone?: string;
}

type Parts = Record<"year" | "month" | "day" | "hour" | "minute" | "second", string>;

const PART_NAMES = { year: 1, month: 1, day: 1, hour: 1, minute: 1, second: 1 };
const formatters = new Map<string, Intl.DateTimeFormat>();

function partsOf(at: Date, zone: string | undefined): Parts {
  const key = zone ?? "";
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(key, f);
  }
  const out: Partial<Parts> = {};
  for (const p of f.formatToParts(at)) if (p.type in PART_NAMES) out[p.type as keyof Parts] = p.value;
  return out as Parts;
}

/** A Date from an ISO string, epoch milliseconds or a Date; null when it names no instant. */
function toDate(at: string | number | Date | null | undefined): Date | null {
  if (at == null || at === "") return null;
  const d = at instanceof Date ? at : new Date(at);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** `2026-12-07 14:03:09`; "–" when not a time. */
export function formatDateTime(at: string | number | Date | null | undefined, o: TimeOptions = {}): string {
  const d = toDate(at);
  if (!d) return "–";
  const p = partsOf(d, o.zone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** `2026-12-07`. */
export function formatDate(at: string | number | Date | null | undefined, o: TimeOptions = {}): string {
  const d = toDate(at);
  if (!d) return "–";
  const p = partsOf(d, o.zone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** `14:03:09`. */
export function formatTime(at: string | number | Date | null | undefined, o: TimeOptions = {}): string {
  const d = toDate(at);
  if (!d) return "–";
  const p = partsOf(d, o.zone);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** The clock time alone when `at` falls on the same day as `now` (in the zone), else date and time. */
export function formatClock(
  at: string | number | Date | null | undefined,
  now: string | number | Date = Date.now(),
  o: TimeOptions = {},
): string {
  const d = toDate(at);
  if (!d) return "–";
  return formatDate(d, o) === formatDate(now, o) ? formatTime(d, o) : formatDateTime(d, o);
}

/**
 * A span from `from` to `to`: `12:01:05–12:37:44` within a day (the day itself when not `now`'s),
 * both full times across days, one time when they are the same instant.
 */
export function formatSpan(
  from: string | number | Date,
  to: string | number | Date,
  now: string | number | Date = Date.now(),
  o: TimeOptions = {},
): string {
  const a = toDate(from);
  const b = toDate(to);
  if (!a || !b) return "–";
  if (a.getTime() === b.getTime()) return formatClock(a, now, o);
  const day = formatDate(a, o);
  if (day !== formatDate(b, o)) return `${formatDateTime(a, o)} – ${formatDateTime(b, o)}`;
  const times = `${formatTime(a, o)}–${formatTime(b, o)}`;
  return day === formatDate(now, o) ? times : `${day} ${times}`;
}

/** A time axis' tick: `14:03:09` when the axis spans less than a day, `12-07 14:03` across days. */
export function timeTick(spanMs: number, o: TimeOptions = {}) {
  return (t: number): string => {
    const d = toDate(t);
    if (!d) return "";
    const p = partsOf(d, o.zone);
    return spanMs < 86_400_000
      ? `${p.hour}:${p.minute}:${p.second}`
      : `${p.month}-${p.day} ${p.hour}:${p.minute}`;
  };
}

/** The zone times are shown in, for a note beside them. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
