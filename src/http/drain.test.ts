import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { createDrain } from "./drain.ts";

/** A server whose answers take `ms`; `/stream` sends its headers at once and ends after `ms`. */
async function slowServer(ms: number, timeoutMs = 5_000) {
  const server = http.createServer((req, res) => {
    drain.track(res);
    if (req.url === "/stream") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      setTimeout(() => res.end("data: [DONE]\n\n"), ms);
    } else setTimeout(() => res.end("ok"), ms);
  });
  const drain = createDrain(server, { timeoutMs });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, drain, port: (server.address() as AddressInfo).port };
}

interface Got {
  status?: number;
  connection?: string | undefined;
  error?: string;
  /** The client's socket closed within 200 ms of the answer. */
  socketClosed?: boolean;
}

function get(agent: http.Agent, port: number, path = "/"): Promise<Got> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, agent }, (res) => {
      const socket = res.socket;
      let closed = false;
      socket.once("close", () => {
        closed = true;
      });
      res.resume();
      res.on("end", () =>
        setTimeout(
          () => resolve({ status: res.statusCode, connection: res.headers.connection, socketClosed: closed }),
          200,
        ),
      );
    });
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}

test("an answer in flight when draining starts is its keep-alive connection's last (Node alone keeps the connection)", async () => {
  const { drain, port } = await slowServer(150);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    assert.equal((await get(agent, port)).connection, "keep-alive");
    const inFlight = get(agent, port);
    await new Promise((r) => setTimeout(r, 50));
    const closed = drain.close();
    assert.equal(drain.draining(), true);
    const got = await inFlight;
    assert.deepEqual(got, { status: 200, connection: "close", socketClosed: true });
    // The connection is gone and the listener closed: the next request is refused, not answered.
    assert.ok((await get(agent, port)).error);
    const r = await closed;
    assert.equal(r.cut, false);
    assert.ok(r.ms < 1_000, `${r.ms} ms`);
  } finally {
    agent.destroy();
  }
});

test("a stream in flight when draining starts ends in full and then its connection closes", async () => {
  const { drain, port } = await slowServer(150);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const stream = get(agent, port, "/stream");
    await new Promise((r) => setTimeout(r, 50));
    const closed = drain.close();
    const got = await stream;
    assert.equal(got.status, 200);
    assert.equal(got.connection, "keep-alive", "its headers went out before the drain");
    assert.equal(got.socketClosed, true, "closed by the server once the stream ended");
    assert.equal((await closed).cut, false);
  } finally {
    agent.destroy();
  }
});

test("a connection still busy at the deadline is cut, and close() resolves", async () => {
  const { drain, port } = await slowServer(10_000, 200);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const hung = get(agent, port);
    await new Promise((r) => setTimeout(r, 50));
    const r = await drain.close();
    assert.equal(r.cut, true);
    assert.ok(r.ms >= 190 && r.ms < 2_000, `${r.ms} ms`);
    assert.ok((await hung).error);
  } finally {
    agent.destroy();
  }
});
