import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

/** One POST the receiver got, with the headers a real receiver would check. */
export interface Received {
  /** webhook-id: the delivery's id, the same on every retry. */
  deliveryId: string;
  event: string;
  /** webhook-timestamp and webhook-signature. */
  timestamp: string;
  signature: string;
  attempt: number;
  body: string;
  headers: IncomingHttpHeaders;
  /** Which try of this delivery id it was, from 1. */
  nth: number;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** The requests answered with a 2xx. */
  accepted: Received[];
  close(): Promise<void>;
}

/**
 * A loopback webhook receiver (127.0.0.1 only) answering each request as `respond` says.
 * `port` 0 picks a free one; a fixed port brings a receiver "back up" where one was down.
 */
export async function startReceiver(respond: (r: Received) => Answer, port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const accepted: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const h = req.headers;
      const deliveryId = String(h["webhook-id"] ?? "");
      const r: Received = {
        deliveryId,
        event: String(h["x-modelgov-event"] ?? ""),
        timestamp: String(h["webhook-timestamp"] ?? ""),
        signature: String(h["webhook-signature"] ?? ""),
        attempt: Number(h["x-modelgov-attempt"] ?? 0),
        body: Buffer.concat(chunks).toString("utf8"),
        headers: h,
        nth: received.filter((x) => x.deliveryId === deliveryId).length + 1,
      };
      received.push(r);
      const answer = respond(r);
      if (answer.status >= 200 && answer.status < 300) accepted.push(r);
      res.writeHead(answer.status, answer.headers ?? {});
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    received,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (for "the receiver is down"), free at the time of asking. */
export async function unusedPort(): Promise<number> {
  const r = await startReceiver(() => ({ status: 200 }));
  await r.close();
  return r.port;
}

/**
 * Verifies a delivery with the official `standardwebhooks` library, as a receiver would,
 * its clock reading `at` (the library reads Date.now() for the timestamp tolerance).
 * Returns the parsed body; throws the library's WebhookVerificationError when it refuses.
 */
export function verifyWithLibrary(secret: string, r: Pick<Received, "body" | "headers">, at: Date): unknown {
  const headers = Object.fromEntries(
    Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
  );
  const realNow = Date.now;
  Date.now = () => at.getTime();
  try {
    return new Webhook(secret).verify(r.body, headers);
  } finally {
    Date.now = realNow;
  }
}
