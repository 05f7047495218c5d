import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Pool } from "undici";

/**
 * The floor for any Node proxy, a reference row in `bench:gateway`: node:http in, undici
 * (keep-alive pool) out to the upstream, body buffered, status and content-type passed back.
 * No auth, routing, logging or resilience. Usage: bare-proxy.ts <upstream origin>; prints
 * one JSON line with its port and serves until SIGTERM/SIGINT or until stdin closes.
 */
const origin = process.argv[2];
if (!origin) throw new Error("usage: bare-proxy.ts http://127.0.0.1:<upstream port>");
const pool = new Pool(origin, { connections: 128, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    pool
      .request({
        method: "POST",
        path: req.url ?? "/",
        headers: {
          "content-type": "application/json",
          authorization: req.headers.authorization ?? "",
        },
        body: Buffer.concat(chunks),
      })
      .then(async (up) => {
        const body = Buffer.from(await up.body.arrayBuffer());
        res.writeHead(up.statusCode, {
          "content-type": String(up.headers["content-type"] ?? "application/json"),
          "content-length": body.length,
        });
        res.end(body);
      })
      .catch((err: Error) => {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(err.message);
      });
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ ready: true, port })}\n`);
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  void pool.close();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
