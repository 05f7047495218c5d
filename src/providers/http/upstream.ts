import type { Dispatcher } from "undici";
import type { Clock } from "../../lib/clock.ts";
import type { Deadlines } from "../shared/deadlines.ts";
import { type Json, UpstreamError } from "../types.ts";
import { transportError } from "./errors.ts";
import { retryAfterMs } from "./retry-after.ts";
import { parseSse, type SseEvent } from "./sse.ts";

export interface HttpDeps {
  /** Every upstream call goes through it: this is where the egress guard plugs in. */
  dispatcher: Dispatcher;
  clock: Clock;
}

export type UpstreamResponse = Dispatcher.ResponseData;

/** The most of an error body we keep (they are small; a misbehaving upstream's may not be). */
const ERROR_BODY_LIMIT = 64 * 1024;

/** origin + path of the few upstream URLs in use, so no URL is parsed per call. */
const targets = new Map<string, { origin: string; path: string }>();
function split(url: string): { origin: string; path: string } {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    t = { origin: u.origin, path: `${u.pathname}${u.search}` };
    if (targets.size >= 1000) targets.clear();
    targets.set(url, t);
  }
  return t;
}

/**
 * POSTs JSON through the dispatcher and returns once a 2xx answer's headers are in.
 * Redirects are never followed (undici's `request` only does with a redirect interceptor):
 * a 3xx is an error like any other non-2xx, so an allow-listed host cannot bounce us elsewhere.
 */
export async function postJson(
  url: string,
  headers: Record<string, string>,
  payload: Json,
  deadlines: Deadlines,
  deps: HttpDeps,
  label: string,
): Promise<UpstreamResponse> {
  let res: UpstreamResponse;
  try {
    const { origin, path } = split(url);
    res = await deps.dispatcher.request({
      origin,
      path,
      method: "POST",
      headers,
      body: JSON.stringify(payload),
      // A LightAbort: undici needs only its abort listeners and `aborted` / `reason`.
      signal: deadlines.signal as AbortSignal,
    });
  } catch (err) {
    throw deadlines.error ?? transportError(err, label);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  deadlines.firstByte();
  throw await httpError(res, deadlines, deps.clock, label);
}

async function httpError(res: UpstreamResponse, deadlines: Deadlines, clock: Clock, label: string) {
  let text = "";
  try {
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (text.length > ERROR_BODY_LIMIT) {
        res.body.destroy();
        break;
      }
    }
  } catch {
    // The status is what matters; a body cut short by a deadline is reported as the deadline.
    if (deadlines.error) return deadlines.error;
  }
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  const status = res.statusCode;
  const detail = upstreamMessage(body);
  const location = status >= 300 && status < 400 ? res.headers.location : undefined;
  const message = `${label}: HTTP ${status}${location ? ` (redirect to ${location} not followed)` : ""}${detail ? `: ${detail}` : ""}`;
  return new UpstreamError("http", message, {
    status,
    body,
    retryAfterMs: retryAfterMs(res.headers, clock.now()),
  });
}

/** The human message in OpenAI (`{error:{message}}`) and Anthropic (`{type:"error",error:{message}}`) bodies. */
function upstreamMessage(body: unknown): string | undefined {
  const e = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof e?.message === "string" ? e.message : undefined;
}

export async function readJson(res: UpstreamResponse, deadlines: Deadlines, label: string): Promise<Json> {
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw deadlines.error ?? transportError(err, label);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Json;
  } catch {}
  throw new UpstreamError("protocol", `${label}: the answer is not a JSON object`, {
    body: text.slice(0, 1000),
  });
}

/**
 * The answer's SSE events. The first event ends the first-byte wait and starts the idle
 * clock, which then runs only while we wait on the upstream. The body is read to its end (so the connection goes
 * back to the pool) unless the consumer stops early, which destroys it.
 */
export async function* sseEvents(
  res: UpstreamResponse,
  deadlines: Deadlines,
  label: string,
): AsyncGenerator<SseEvent> {
  let first = true;
  let ended = false;
  try {
    for await (const ev of parseSse(res.body)) {
      if (first) {
        first = false;
        deadlines.firstByte(true);
      }
      deadlines.hold();
      yield ev;
      deadlines.activity();
    }
    ended = true;
  } catch (err) {
    throw deadlines.error ?? transportError(err, label);
  } finally {
    if (!ended) res.body.destroy();
  }
}

export function parseEventJson(data: string, label: string): Json {
  try {
    const v: unknown = JSON.parse(data);
    if (v !== null && typeof v === "object") return v as Json;
  } catch {}
  throw new UpstreamError("protocol", `${label}: a stream event is not JSON`, { body: data.slice(0, 1000) });
}
