import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * How a delivery is signed, for receivers:
 *
 *   x-modelgov-timestamp: <unix seconds when the attempt was sent>
 *   x-modelgov-signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The key is the subscription's secret exactly as shown at creation (`whsec_…`, as UTF-8
 * bytes). The timestamp is inside the signed text so a captured request cannot be
 * replayed later: receivers reject timestamps older than a tolerance (5 minutes by
 * default). Each retry is signed afresh with its own timestamp. The header may carry
 * several comma-separated `sha256=` values (room for secret rotation); one match suffices.
 * Delivery is at-least-once: de-duplicate on `x-modelgov-delivery`.
 */
export const SIGNATURE_HEADER = "x-modelgov-signature";
export const TIMESTAMP_HEADER = "x-modelgov-timestamp";

export function signWebhook(secret: string, timestamp: number | string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/**
 * True when `header` holds a valid signature of `body` at `timestamp` and the timestamp
 * is within `toleranceSec` of `now`. Compare against the raw body bytes as received,
 * before any JSON parsing.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | null | undefined,
  body: string,
  header: string | null | undefined,
  toleranceSec = 300,
  now: Date = new Date(),
): boolean {
  if (timestamp === null || timestamp === undefined || !header) return false;
  const ts = String(timestamp);
  if (!/^\d{1,12}$/.test(ts)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(ts)) > toleranceSec) return false;
  const expected = Buffer.from(signWebhook(secret, ts, body));
  return header
    .split(",")
    .map((s) => Buffer.from(s.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
}
