/**
 * Ids in Anthropic's shape for answers of /v1/messages. A message id is `msg_` and the
 * gateway's request id in base62 (`req_…` without its prefix): it reads like Anthropic's
 * (`msg_` and about 25 letters and digits) and decodes back to the request id, so an id a
 * client kept finds its row in the request log. An id that already is Anthropic's (a
 * version on Anthropic answered) is kept, as upstream ids are on /v1/chat/completions.
 */

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE = 62n;
const REQ = "req_";
const MSG = "msg_";
const TOOLU = "toolu_";

/** The message id of the answer to `requestId`; `upstreamId` when it already is `msg_…`. */
export function messageIdFor(upstreamId: string | undefined, requestId: string): string {
  if (upstreamId?.startsWith(MSG)) return upstreamId;
  const raw = requestId.startsWith(REQ) ? requestId.slice(REQ.length) : requestId;
  let n = 0n;
  for (const byte of Buffer.from(raw, "utf8")) n = (n << 8n) | BigInt(byte);
  let out = "";
  while (n > 0n) {
    out = ALPHABET[Number(n % BASE)]! + out;
    n /= BASE;
  }
  return MSG + (out || "0");
}

/** The request id a gateway-made message id carries; undefined for another id (Anthropic's own). */
export function requestIdOfMessageId(id: string): string | undefined {
  if (!id.startsWith(MSG)) return undefined;
  let n = 0n;
  for (const c of id.slice(MSG.length)) {
    const d = ALPHABET.indexOf(c);
    if (d < 0) return undefined;
    n = n * BASE + BigInt(d);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  const raw = Buffer.from(bytes).toString("utf8");
  // A request id is printable ASCII; anything else was an id of another origin.
  return /^[\x21-\x7e]+$/.test(raw) ? REQ + raw : undefined;
}

/**
 * A tool_use id in Anthropic's shape: an OpenAI-style call id (`call_abc`) gets the `toolu_`
 * prefix (`toolu_call_abc`), characters outside Anthropic's id alphabet become `_`. The
 * client sends it back as `tool_use_id`, and the next request carries it on both sides of
 * the exchange, so the upstream sees matching ids either way.
 */
export function toolUseIdFor(id: string | undefined, index: number): string {
  if (!id) return `${TOOLU}${index}`;
  if (id.startsWith(TOOLU)) return id;
  return TOOLU + id.replace(/[^A-Za-z0-9_-]/g, "_");
}
