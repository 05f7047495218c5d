import assert from "node:assert/strict";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  applyServerTimeouts,
  limitErrorResponse,
  RequestLimitError,
  readBody,
  sendLimitError,
  serverTimeoutOptions,
} from "./http-limits.ts";

const MAX_BYTES = 1024;

/** A raw client: what it received, and when the server closed on it. */
function rawClient(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  const started = Date.now();
  let received = "";
  socket.on("data", (d: Buffer) => {
    received += d.toString("latin1");
  });
  socket.on("error", () => {});
  const closed = new Promise<{ afterMs: number; received: string }>((resolve) =>
    socket.on("close", () => resolve({ afterMs: Date.now() - started, received })),
  );
  const gotResponse = async (timeoutMs = 5_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!received.includes("\r\n\r\n") && Date.now() < deadline) await sleep(10);
    return received;
  };
  return { socket, closed, gotResponse, received: () => received };
}

async function get(port: number, path = "/ping"): Promise<{ status: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
      })
      .on("error", reject);
  });
}

describe("http limits on a real server", () => {
  let server: http.Server;
  let port: number;
  const outcomes: string[] = [];
  /** Body bytes the request had emitted when readBody gave up. */
  let bytesAtRefusal = -1;
  /** Bytes the server read from the socket in all, by the time the response closed. */
  let socketBytesRead = -1;

  before(async () => {
    const timeouts = { headersTimeoutMs: 2_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 2_000 };
    server = http.createServer(
      serverTimeoutOptions({ ...timeouts, checkIntervalMs: 1_000 }),
      async (req, res) => {
        if (req.url === "/ping") return void res.end("pong");
        // Count body bytes emitted without adding a listener (which would start the flow).
        let seen = 0;
        const emit = req.emit.bind(req);
        req.emit = (event: string | symbol, ...args: unknown[]) => {
          if (event === "data") seen += (args[0] as Buffer).length;
          return emit(event, ...args);
        };
        res.on("close", () => {
          socketBytesRead = req.socket.bytesRead;
        });
        try {
          const body = await readBody(req, { maxBytes: MAX_BYTES, timeoutMs: 1_500, idleTimeoutMs: 500 });
          outcomes.push(`ok:${body.length}`);
          res.end(`got ${body.length}`);
        } catch (err) {
          if (!(err instanceof RequestLimitError)) throw err;
          outcomes.push(err.code);
          bytesAtRefusal = seen;
          sendLimitError(res, err);
        }
      },
    );
    applyServerTimeouts(server, timeouts); // idempotent with the options above
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test("node takes the settings: header timeout, request timeout, keep-alive", () => {
    assert.equal(server.headersTimeout, 2_000);
    assert.equal(server.requestTimeout, 5_000);
    assert.equal(server.keepAliveTimeout, 2_000);
    assert.throws(
      () => serverTimeoutOptions({ headersTimeoutMs: 5_000, requestTimeoutMs: 1_000, keepAliveTimeoutMs: 1 }),
      /requestTimeoutMs must be >= headersTimeoutMs/,
    );
  });

  test("a client dribbling its headers is cut off within seconds while others are served", async () => {
    const slow = rawClient(port);
    const slowloris = (async () => {
      slow.socket.write("GET /ping HTTP/1.1\r\nHost: x\r\n");
      for (let i = 0; i < 20 && !slow.socket.destroyed; i++) {
        await sleep(500);
        if (!slow.socket.writable) break;
        slow.socket.write("X"); // a header line that never ends
      }
    })();
    const silent = rawClient(port); // opens a connection and sends nothing at all
    // Each normal request notes whether the dribbling client was still connected when it was
    // answered: served meanwhile, not after the server got rid of it.
    const normal: { status: number; whileSlowOpen: boolean }[] = [];
    while (!slow.socket.destroyed && normal.length < 40) {
      const { status } = await get(port);
      normal.push({ status, whileSlowOpen: !slow.socket.destroyed });
      await sleep(100);
    }
    const [cut, cutSilent] = await Promise.all([slow.closed, silent.closed]);
    await slowloris;
    assert.ok(cut.afterMs >= 1_900, `cut after ${cut.afterMs}ms, before headersTimeout`);
    assert.ok(cut.afterMs <= 4_000, `cut after ${cut.afterMs}ms`);
    assert.ok(cut.received === "" || cut.received.startsWith("HTTP/1.1 408"), cut.received);
    assert.ok(cutSilent.afterMs <= 4_000, `silent connection lived ${cutSilent.afterMs}ms`);
    const meanwhile = normal.filter((n) => n.whileSlowOpen);
    assert.ok(meanwhile.length >= 5, `only ${meanwhile.length} normal requests were answered meanwhile`);
    for (const n of normal) assert.equal(n.status, 200);
  });

  test("a small body is read", async () => {
    const c = rawClient(port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
    assert.match(await c.gotResponse(), /^HTTP\/1.1 200 OK[\s\S]*got 5$/);
    assert.equal(outcomes.at(-1), "ok:5");
  });

  test("an oversized Content-Length gets 413 before any of the body is read", async () => {
    const c = rawClient(port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n");
    // Keep pushing the 10 MiB as fast as the socket takes it, until the server hangs up.
    const piece = Buffer.alloc(65_536, 0x61);
    const pushing = (async () => {
      for (let sent = 0; sent < 10_485_760 && c.socket.writable; sent += piece.length) {
        if (!c.socket.write(piece))
          await Promise.race([new Promise((r) => c.socket.once("drain", r)), c.closed]);
      }
    })();
    const res = await c.gotResponse();
    assert.match(res, /^HTTP\/1.1 413 /);
    assert.match(res, /connection: close/i);
    assert.equal(outcomes.at(-1), "body_too_large");
    assert.equal(bytesAtRefusal, 0);
    await c.closed;
    await pushing;
    assert.ok(socketBytesRead < 2_000_000, `server read ${socketBytesRead} bytes of the 10 MiB`);
  });

  test("a chunked body is cut at the limit, long before the client is done", async () => {
    const c = rawClient(port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    let sent = 0;
    while (!c.received().includes("\r\n\r\n") && sent < 200 && c.socket.writable) {
      c.socket.write(`200\r\n${"b".repeat(512)}\r\n`);
      sent++;
      await sleep(5);
    }
    assert.match(await c.gotResponse(), /^HTTP\/1.1 413 /);
    assert.ok(sent < 50, `client got to send ${sent} chunks of 512 bytes`);
    assert.ok(
      bytesAtRefusal > MAX_BYTES && bytesAtRefusal <= MAX_BYTES + 512,
      `refused at ${bytesAtRefusal} bytes`,
    );
    await c.closed;
  });

  test("a body that stalls gets 408", async () => {
    const c = rawClient(port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
    const t0 = Date.now();
    assert.match(await c.gotResponse(), /^HTTP\/1.1 408 [\s\S]*stalled for 500ms/);
    assert.ok(Date.now() - t0 < 1_200);
    assert.equal(outcomes.at(-1), "body_timeout");
  });

  test("a body that trickles without stalling still gets 408 at the overall deadline", async () => {
    const c = rawClient(port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
    const t0 = Date.now();
    const drip = setInterval(() => c.socket.writable && c.socket.write("x"), 200);
    try {
      assert.match(await c.gotResponse(), /^HTTP\/1.1 408 [\s\S]*not received within 1500ms/);
      assert.ok(Date.now() - t0 >= 1_400 && Date.now() - t0 < 2_500, `${Date.now() - t0}ms`);
    } finally {
      clearInterval(drip);
    }
  });

  test("a client that hangs up mid-body is reported as aborted", async () => {
    const c = rawClient(port);
    c.socket.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf");
    await sleep(100);
    c.socket.destroy();
    for (let i = 0; i < 50 && outcomes.at(-1) !== "client_aborted"; i++) await sleep(10);
    assert.equal(outcomes.at(-1), "client_aborted");
  });
});

test("429 carries Retry-After and keeps the connection", () => {
  const r = limitErrorResponse(new RequestLimitError("rate_limited", "slow down", 3));
  assert.equal(r.status, 429);
  assert.equal(r.headers["retry-after"], "3");
  assert.equal(r.headers.connection, undefined);
  assert.equal(JSON.parse(r.body).status, 429);
  assert.equal(limitErrorResponse(new RequestLimitError("body_too_large", "x")).headers.connection, "close");
});
