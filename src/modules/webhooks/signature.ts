import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Deliveries are signed as Standard Webhooks (https://www.standardwebhooks.com), so the
 * `standardwebhooks` libraries verify them as they stand:
 *
 *   webhook-id:        the delivery's id (whd_…), the same on every retry: de-duplicate on it
 *   webhook-timestamp: unix seconds when the attempt was sent (each retry is signed afresh)
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>
 *
 * The key is the base64 after `whsec_` in the subscription's secret. The header is a
 * space-separated list of such signatures (one per active key); one match suffices.
 * Receivers reject timestamps further than a tolerance (5 minutes) from their clock.
 *
 * Subscriptions created before Standard Webhooks (`legacySignature`) also get the old
 * headers, with the same key (docs/webhooks.md, Upgrading):
 *
 *   x-modelgov-timestamp: the same timestamp
 *   x-modelgov-signature: sha256=<hex HMAC-SHA256(key, "<timestamp>.<raw body>")>
 */
export const ID_HEADER = "webhook-id";
export const TIMESTAMP_HEADER = "webhook-timestamp";
export const SIGNATURE_HEADER = "webhook-signature";
export const LEGACY_TIMESTAMP_HEADER = "x-modelgov-timestamp";
export const LEGACY_SIGNATURE_HEADER = "x-modelgov-signature";

const PREFIX = "whsec_";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The HMAC key of a `whsec_<base64>` secret; throws on anything else. */
export function webhookKey(secret: string): Buffer {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (!b64 || !BASE64.test(b64)) throw new Error("a webhook secret is whsec_ followed by base64");
  return Buffer.from(b64, "base64");
}

/**
 * The standard secret with the same key as a secret created before Standard Webhooks
 * (whose UTF-8 text was the key): what its receivers give the `standardwebhooks` library.
 */
export function standardSecretOf(legacySecret: string): string {
  return `${PREFIX}${Buffer.from(legacySecret, "utf8").toString("base64")}`;
}

/** `v1,<base64>`: one signature of `<id>.<timestamp>.<body>`. */
export function signWebhook(secret: string, id: string, timestamp: number | string, body: string): string {
  return `v1,${createHmac("sha256", webhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64")}`;
}

/** The headers of one attempt: signed with every active secret, plus the legacy pair if asked. */
export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
  legacy = false,
): Record<string, string> {
  const headers: Record<string, string> = {
    [ID_HEADER]: id,
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: secrets.map((s) => signWebhook(s, id, timestamp, body)).join(" "),
  };
  if (legacy) {
    headers[LEGACY_TIMESTAMP_HEADER] = String(timestamp);
    headers[LEGACY_SIGNATURE_HEADER] = secrets
      .map(
        (s) => `sha256=${createHmac("sha256", webhookKey(s)).update(`${timestamp}.${body}`).digest("hex")}`,
      )
      .join(",");
  }
  return headers;
}

const equal = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * True when `headers` (names in lower case, as Node gives them) hold a valid signature of
 * `body` by `secret` and the timestamp is within `toleranceSec` of `now`: the Standard
 * Webhooks check, for receivers written without the library. Give the raw body as received.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  toleranceSec = 300,
  now: Date = new Date(),
): boolean {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one(ID_HEADER);
  const ts = one(TIMESTAMP_HEADER);
  const header = one(SIGNATURE_HEADER);
  if (!id || !ts || !header || !/^\d{1,12}$/.test(ts)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(ts)) > toleranceSec) return false;
  const expected = signWebhook(secret, id, ts, body);
  return header.split(" ").some((given) => equal(given, expected));
}
