import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One POST the receiver got, with the headers a real receiver would check. */
export interface Received {
  deliveryId: string;
  event: string;
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
      const deliveryId = String(h["x-modelgov-delivery"] ?? "");
      const r: Received = {
        deliveryId,
        event: String(h["x-modelgov-event"] ?? ""),
        timestamp: String(h["x-modelgov-timestamp"] ?? ""),
        signature: String(h["x-modelgov-signature"] ?? ""),
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
