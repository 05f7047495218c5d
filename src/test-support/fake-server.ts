import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The machinery shared by the loopback fakes of model providers (fake-openai, fake-anthropic):
 * knobs, failure injection, redirects, hanging, request capture. Each fake supplies only
 * its protocol. Kept lean because `bench:gateway` pushes thousands of requests a second
 * through it: one JSON.parse per request, answers built as strings, keep-alive on.
 */

export type Json = Record<string, unknown>;

export interface FakeKnobs {
  /** Delay before each answer (headers included), in ms. */
  latencyMs: number;
  /** Delay between stream events, in ms; 0 writes a whole stream at once. */
  chunkDelayMs: number;
  /** "headers": accept requests and never answer; "mid-stream": send a stream's first events, then stall. */
  hang: "none" | "headers" | "mid-stream";
  /** The assistant's text answer. */
  reply: string;
  /** Answer every request with this recorded body instead (SSE text for streams): replays fixtures. */
  replay: { status?: number; contentType?: string; body: string } | undefined;
}

export interface FakeUpstream {
  /** The base URL to register as the version's endpoint. */
  readonly url: string;
  readonly port: number;
  /** Mutable: set a knob and the next request sees it. */
  readonly knobs: FakeKnobs;
  /** Requests received on the API path (failed, redirected and hung ones included). */
  readonly requests: number;
  /** Requests that reached the redirect target: only a client following redirects gets there. */
  readonly redirectHits: number;
  readonly lastBody: Json | undefined;
  readonly lastHeaders: IncomingHttpHeaders | undefined;
  /** The next `n` requests get `status` with the protocol's error body (and Retry-After when given). */
  failNext(n: number, status: number, opts?: { retryAfter?: string | number; body?: Json }): void;
  /** The next `n` requests get a 302 to a path on this server that counts its hits. */
  redirectNext(n: number): void;
  /** Knobs back to their defaults, pending failures and redirects dropped, counters zeroed. */
  reset(): void;
  close(): Promise<void>;
}

/** What a fake answers, given a parsed request body; `n` numbers the requests from 1. */
export interface FakeProtocol {
  defaultReply: string;
  isApiPath(url: string): boolean;
  baseUrl(origin: string): string;
  /** A reason to answer 400 (as the real API would), or undefined. */
  invalid(body: Json): string | undefined;
  errorBody(status: number, message: string): string;
  plain(body: Json, knobs: FakeKnobs, n: number): string;
  events(body: Json, knobs: FakeKnobs, n: number): string[];
}

const REDIRECT_TARGET = "/__redirected";
const SSE_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

export async function startFake(protocol: FakeProtocol): Promise<FakeUpstream> {
  const defaults = (): FakeKnobs => ({
    latencyMs: 0,
    chunkDelayMs: 0,
    hang: "none",
    reply: protocol.defaultReply,
    replay: undefined,
  });
  const knobs = defaults();
  let requests = 0;
  let redirectHits = 0;
  let redirects = 0;
  let failures: { n: number; status: number; retryAfter?: string | number; body?: Json } = {
    n: 0,
    status: 500,
  };
  let lastBody: Json | undefined;
  let lastHeaders: IncomingHttpHeaders | undefined;
  let origin = "";

  const json = (res: ServerResponse, status: number, body: string, extra?: Record<string, string>) => {
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...extra,
    });
    res.end(body);
  };

  const answer = (res: ServerResponse, body: Json, n: number) => {
    if (res.destroyed) return;
    if (body.stream !== true) {
      json(res, 200, protocol.plain(body, knobs, n));
      return;
    }
    const events = protocol.events(body, knobs, n);
    res.writeHead(200, SSE_HEADERS);
    if (knobs.hang === "mid-stream") {
      res.write(events.slice(0, 2).join(""));
      return;
    }
    if (knobs.chunkDelayMs <= 0) {
      res.end(events.join(""));
      return;
    }
    let i = 0;
    const delay = knobs.chunkDelayMs;
    const tick = () => {
      if (res.destroyed) return;
      res.write(events[i++]);
      if (i < events.length) setTimeout(tick, delay).unref();
      else res.end();
    };
    tick();
  };

  const handle = (url: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse) => {
    const n = ++requests;
    lastHeaders = headers;
    let body: Json;
    try {
      body = JSON.parse(raw) as Json;
    } catch {
      lastBody = undefined;
      json(res, 400, protocol.errorBody(400, "the body is not valid JSON"));
      return;
    }
    lastBody = body;
    if (redirects > 0) {
      redirects--;
      res.writeHead(302, { location: `${origin}${REDIRECT_TARGET}${url}`, "content-length": 0 });
      res.end();
      return;
    }
    if (failures.n > 0) {
      failures.n--;
      const extra: Record<string, string> = {};
      if (failures.retryAfter !== undefined) extra["retry-after"] = String(failures.retryAfter);
      const errorBody = failures.body
        ? JSON.stringify(failures.body)
        : protocol.errorBody(failures.status, `injected failure (HTTP ${failures.status})`);
      json(res, failures.status, errorBody, extra);
      return;
    }
    if (knobs.hang === "headers") return;
    if (knobs.replay) {
      const { status = 200, contentType = "application/json", body: recorded } = knobs.replay;
      res.writeHead(status, { "content-type": contentType, "content-length": Buffer.byteLength(recorded) });
      res.end(recorded);
      return;
    }
    const reason = protocol.invalid(body);
    if (reason) {
      json(res, 400, protocol.errorBody(400, reason));
      return;
    }
    if (knobs.latencyMs > 0) setTimeout(answer, knobs.latencyMs, res, body, n).unref();
    else answer(res, body, n);
  };

  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    if (url.startsWith(REDIRECT_TARGET)) {
      redirectHits++;
      req.resume();
      json(res, 200, "{}");
      return;
    }
    if (req.method !== "POST" || !protocol.isApiPath(url)) {
      req.resume();
      json(res, 404, protocol.errorBody(404, `no route ${req.method} ${url}`));
      return;
    }
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      raw += c;
    });
    req.on("end", () => handle(url, req.headers, raw, res));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  return {
    url: protocol.baseUrl(origin),
    port,
    knobs,
    get requests() {
      return requests;
    },
    get redirectHits() {
      return redirectHits;
    },
    get lastBody() {
      return lastBody;
    },
    get lastHeaders() {
      return lastHeaders;
    },
    failNext(n, status, opts = {}) {
      failures = { n, status, ...opts };
    },
    redirectNext(n) {
      redirects = n;
    },
    reset() {
      Object.assign(knobs, defaults());
      requests = redirectHits = redirects = 0;
      failures = { n: 0, status: 500 };
      lastBody = lastHeaders = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ------------------------------------------------------------ helpers for the protocols

/** About four characters a token: enough for usage fields that look right. */
export function promptTokens(messages: unknown): number {
  let chars = 0;
  if (Array.isArray(messages)) {
    for (const m of messages as Json[]) {
      if (typeof m.content === "string") chars += m.content.length;
      else if (Array.isArray(m.content)) {
        for (const p of m.content as Json[]) {
          if (typeof p.text === "string") chars += p.text.length;
          else if (typeof p.content === "string") chars += p.content.length;
        }
      }
    }
  }
  return Math.max(1, Math.ceil(chars / 4));
}

/** Placeholder arguments a tool's JSON schema accepts. */
export function sampleArguments(schema: unknown): Json {
  const props = (schema as { properties?: Record<string, { type?: string; enum?: unknown[] }> } | undefined)
    ?.properties;
  const out: Json = {};
  for (const [k, p] of Object.entries(props ?? {})) {
    out[k] =
      p.enum?.[0] ?? (p.type === "number" || p.type === "integer" ? 1 : p.type === "boolean" ? true : "fake");
  }
  return out;
}

/** The reply cut to `limit` words (one word, one token), and whether it was cut. */
export function limitWords(text: string, limit: unknown): { words: string[]; cut: boolean } {
  const words = text.split(" ");
  const n = typeof limit === "number" && limit > 0 ? limit : Number.POSITIVE_INFINITY;
  return words.length > n ? { words: words.slice(0, n), cut: true } : { words, cut: false };
}

/** Text in pieces of two words, as a stream would deliver it. */
export function pieces(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i += 2) {
    const piece = words.slice(i, i + 2).join(" ");
    out.push(i === 0 ? piece : ` ${piece}`);
  }
  return out;
}

/** Splits a JSON string into three fragments, as providers stream tool arguments. */
export function fragments(s: string): string[] {
  const step = Math.max(1, Math.ceil(s.length / 3));
  const out: string[] = [];
  for (let i = 0; i < s.length; i += step) out.push(s.slice(i, i + step));
  return out;
}
