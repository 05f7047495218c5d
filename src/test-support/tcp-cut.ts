import net from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a loopback PostgreSQL that a test or bench can cut: the
 * database "goes away" for the server behind it while the real server keeps running.
 *   - `cut("refuse")`: every open connection is reset and new ones are closed at once
 *     (a database restarting, a failover);
 *   - `cut("hang")`: open connections stop carrying bytes and new ones are held without an
 *     answer (a network partition: nothing is refused, nothing answers);
 *   - `restore()`: held connections are reset (as a partition's end finds them dead), new ones pass.
 */
export async function startTcpCut(target: { host: string; port: number }) {
  if (target.host !== "127.0.0.1" && target.host !== "localhost")
    throw new Error(`the fault proxy only fronts a loopback database, not ${target.host}`);
  let mode: "open" | "refuse" | "hang" = "open";
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    if (mode === "refuse") return client.destroy();
    if (mode === "hang") return; // accepted, never answered
    const upstream = net.connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const resetAll = () => {
    for (const s of sockets) s.resetAndDestroy();
  };
  return {
    port,
    cut(how: "refuse" | "hang") {
      mode = how;
      if (how === "refuse") resetAll();
      else
        for (const s of sockets) {
          s.unpipe();
          s.pause();
        }
    },
    restore() {
      if (mode === "hang") resetAll();
      mode = "open";
    },
    async close() {
      resetAll();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
