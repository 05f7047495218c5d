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
  return httpErrorOf(res.statusCode, res.headers, text, clock, label);
}

function httpErrorOf(
  status: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  clock: Clock,
  label: string,
) {
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {}
  const detail = upstreamMessage(body);
  const location = status >= 300 && status < 400 ? headers.location : undefined;
  const message = `${label}: HTTP ${status}${location ? ` (redirect to ${location} not followed)` : ""}${detail ? `: ${detail}` : ""}`;
  return new UpstreamError("http", message, {
    status,
    body,
    retryAfterMs: retryAfterMs(headers, clock.now()),
  });
}

/** The human message in OpenAI (`{error:{message}}`) and Anthropic (`{type:"error",error:{message}}`) bodies. */
function upstreamMessage(body: unknown): string | undefined {
  const e = (body as { error?: { message?: unknown } } | undefined)?.error;
  return typeof e?.message === "string" ? e.message : undefined;
}

/** A plain answer larger than this is refused (a misbehaving upstream must not exhaust memory). */
const ANSWER_LIMIT = 64 * 1024 * 1024;

/**
 * A whole non-streaming call: POSTs JSON and resolves with the answer's JSON object, or
 * rejects with an UpstreamError (http status, timeout, transport, protocol). It talks to the
 * dispatcher's handler interface and collects the body into one buffer: no stream objects
 * per call (undici's `request` builds a Readable for every answer, which showed in the
 * gateway's profile). Redirects are not followed, as with `postJson`.
 */
export function postForJson(
  url: string,
  headers: Record<string, string>,
  payload: Json,
  deadlines: Deadlines,
  deps: HttpDeps,
  label: string,
): Promise<Json> {
  return new Promise<Json>((resolve, reject) => {
    let target: { origin: string; path: string };
    try {
      target = split(url);
    } catch (err) {
      reject(transportError(err, label));
      return;
    }
    const signal = deadlines.signal;
    let controller: Dispatcher.DispatchController | null = null;
    let status = 0;
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onAbort = () => controller?.abort(deadlines.error ?? new Error("aborted"));
    const finish = (err: unknown, value?: Json) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(value!);
    };
    if (signal.aborted) {
      finish(deadlines.error ?? new UpstreamError("aborted", `${label}: call aborted`));
      return;
    }
    signal.addEventListener("abort", onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (signal.aborted) onAbort();
      },
      onResponseStart(_c, statusCode, h) {
        status = statusCode;
        responseHeaders = h as typeof responseHeaders;
        deadlines.firstByte();
      },
      onResponseData(c, chunk) {
        size += chunk.length;
        const limit = status >= 200 && status < 300 ? ANSWER_LIMIT : ERROR_BODY_LIMIT;
        if (size > limit) {
          if (status >= 200 && status < 300) {
            c.abort(new UpstreamError("protocol", `${label}: the answer exceeds ${limit} bytes`));
            return;
          }
          return; // an error body past the limit: keep what we have, drop the rest
        }
        chunks.push(chunk);
      },
      onResponseEnd() {
        const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
        if (status < 200 || status >= 300) {
          finish(httpErrorOf(status, responseHeaders, text, deps.clock, label));
          return;
        }
        try {
          const v: unknown = JSON.parse(text);
          if (v !== null && typeof v === "object" && !Array.isArray(v)) return finish(null, v as Json);
        } catch {}
        finish(
          new UpstreamError("protocol", `${label}: the answer is not a JSON object`, {
            body: text.slice(0, 1000),
          }),
        );
      },
      onResponseError(_c, err) {
        finish(err instanceof UpstreamError ? err : (deadlines.error ?? transportError(err, label)));
      },
    };
    try {
      deps.dispatcher.dispatch(
        { origin: target.origin, path: target.path, method: "POST", headers, body: JSON.stringify(payload) },
        handler,
      );
    } catch (err) {
      finish(transportError(err, label));
    }
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
