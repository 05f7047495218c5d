/** `<input type="datetime-local">` speaks local wall-clock time without a zone; the API speaks ISO 8601. */

const two = (n: number) => String(n).padStart(2, "0");

/** An ISO instant as a datetime-local value (local time, to the second); "" when not a time. */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** A datetime-local value as an ISO instant (UTC); "" when empty or not a time. */
export function fromLocalInput(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}
