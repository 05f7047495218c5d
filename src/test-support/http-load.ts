import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "undici";

/** One request a load loop sends, and how to read what the server acknowledged. */
export interface LoadCall {
  /** A label for tables: `gateway`, `feedback`, `control-plane`. */
  kind: string;
  method: "GET" | "POST" | "PUT";
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** The id of what was acknowledged (a request id, a feedback id, a model name), or null. */
  idOf(status: number, headers: Record<string, string | string[] | undefined>, text: string): string | null;
}

/** What one request came to: an answer (status > 0) or a transport error (status 0, `error`). */
export interface Outcome {
  kind: string;
  conn: number;
  id: string | null;
  status: number;
  /** 2xx and the whole answer arrived (for a stream: through its last event). */
  acknowledged: boolean;
  /** The server's `connection` and `retry-after` headers. */
  connection?: string;
  retryAfter?: string;
  error?: string;
  sentAt: number;
  at: number;
}

/**
 * Keeps `connections` keep-alive connections busy (one undici Client each, no pipelining):
 * each sends `next()` as soon as its previous answer is in. A transport error (the server
 * closed, refused, died) is recorded and the connection tries again after `pauseAfterErrorMs`.
 */
export function startLoad(o: {
  origin: string;
  connections: number;
  next: (seq: number, conn: number) => LoadCall;
  pauseAfterErrorMs?: number;
}) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  let seq = 0;
  const loops = Array.from({ length: o.connections }, async (_, conn) => {
    const client = new Client(o.origin, {
      pipelining: 1,
      keepAliveTimeout: 60_000,
      connect: { timeout: 2_000 },
    });
    while (!stopped) {
      const call = o.next(seq++, conn);
      const sentAt = Date.now();
      try {
        const r = await client.request({
          method: call.method,
          path: call.path,
          headers: call.headers,
          ...(call.body !== undefined ? { body: call.body } : {}),
        });
        const text = await r.body.text();
        const id = call.idOf(r.statusCode, r.headers, text);
        const complete =
          !String(r.headers["content-type"] ?? "").startsWith("text/event-stream") ||
          /data: \[DONE\]|event: message_stop/.test(text);
        outcomes.push({
          kind: call.kind,
          conn,
          id,
          status: r.statusCode,
          acknowledged: r.statusCode >= 200 && r.statusCode < 300 && complete && id !== null,
          connection: r.headers.connection as string | undefined,
          retryAfter: r.headers["retry-after"] as string | undefined,
          sentAt,
          at: Date.now(),
        });
      } catch (err) {
        outcomes.push({
          kind: call.kind,
          conn,
          id: null,
          status: 0,
          acknowledged: false,
          error: (err as { code?: string }).code ?? (err as Error).message,
          sentAt,
          at: Date.now(),
        });
        await sleep(o.pauseAfterErrorMs ?? 20);
      }
    }
    await client.destroy().catch(() => {});
  });
  return {
    outcomes,
    /** Stops every loop after its current request and resolves with everything recorded. */
    async stop(): Promise<Outcome[]> {
      stopped = true;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** A gateway chat call (OpenAI dialect); every `streamEvery`-th one streams. Its id is the request id header. */
export function gatewayCall(o: { token: string; model: string; stream: boolean; subject: string }): LoadCall {
  return {
    kind: "gateway",
    method: "POST",
    path: "/v1/chat/completions",
    headers: {
      authorization: `Bearer ${o.token}`,
      "content-type": "application/json",
      "x-modelgov-subject": o.subject,
    },
    body: JSON.stringify({
      model: o.model,
      stream: o.stream,
      max_tokens: 16,
      messages: [{ role: "user", content: `hello from ${o.subject}` }],
    }),
    idOf: (_status, headers) => (headers["x-modelgov-request-id"] as string | undefined) ?? null,
  };
}
