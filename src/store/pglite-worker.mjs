// @ts-check
/**
 * The embedded PostgreSQL (PGlite, WebAssembly) on its own thread. Its queries run
 * synchronously inside the wasm engine: on the main thread they would stall every request
 * in flight (the gateway's request-log batches did: a third of its CPU). Here the main
 * thread only posts messages (pglite-client.ts; the messages are typed in
 * pglite-protocol.ts). Semantics are PGlite's own: one session, top-level queries queue
 * behind an open transaction.
 *
 * Plain JavaScript on purpose: a worker started from the TypeScript sources would need its
 * own TypeScript loader (Node 20 does not hand `--import` loaders to a worker's entry), which
 * costs a second or more per database opened. The build copies this file next to the client.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";

const port = parentPort;
if (!port) throw new Error("pglite-worker.mjs runs as a worker thread");
const { dataDir, fromDump, pgliteWasmModule, fsBundle } = workerData;

/** The database error's own scalar fields (code, constraint, detail, …) survive the trip. */
function serialiseError(err) {
  const fields = {};
  for (const k of Object.keys(err ?? {})) {
    const v = err[k];
    if (v === undefined || typeof v === "function" || (typeof v === "object" && v !== null)) continue;
    fields[k] = v;
  }
  return { name: err?.name ?? "Error", message: err?.message ?? String(err), fields };
}

function serve(lite) {
  /** @type {Map<number, { tx: import("@electric-sql/pglite").Transaction, end: (o: string) => void, settled: Promise<void> }>} */
  const txs = new Map();
  const listeners = new Map();
  let nextTx = 0;

  const runner = (tx) => {
    if (tx === undefined) return lite;
    const t = txs.get(tx);
    if (!t) throw new Error(`transaction ${tx} is not open`);
    return t.tx;
  };

  /** Opens a transaction that stays open, across messages, until commit or rollback. */
  function begin() {
    const id = ++nextTx;
    let end = (_o) => {};
    const outcome = new Promise((r) => {
      end = r;
    });
    return new Promise((opened, failed) => {
      const settled = lite
        .transaction(async (tx) => {
          txs.set(id, { tx, end, settled });
          opened(id);
          if ((await outcome) === "rollback") await tx.rollback();
        })
        .catch((err) => {
          failed(err);
          throw err;
        })
        .finally(() => txs.delete(id));
      settled.catch(() => {});
    });
  }

  async function handle(m) {
    switch (m.op) {
      case "query":
        return (await runner(m.tx).query(m.sql, m.params)).rows;
      case "exec":
        await runner(m.tx).exec(m.sql);
        return null;
      case "copy":
        // COPY … FROM '/dev/blob': PGlite hands the statement this data as its input file.
        await runner(m.tx).query(m.sql, [], { blob: new Blob([m.data]) });
        return null;
      case "begin":
        return begin();
      case "commit":
      case "rollback": {
        const t = txs.get(m.tx);
        if (!t) throw new Error(`transaction ${m.tx} is not open`);
        t.end(m.op);
        await t.settled;
        return null;
      }
      case "listen":
        listeners.set(
          m.lid,
          await lite.listen(m.channel, (payload) => port.postMessage({ notify: m.lid, payload })),
        );
        return null;
      case "unlisten":
        await listeners.get(m.lid)?.();
        listeners.delete(m.lid);
        return null;
      case "dump":
        // An uncompressed tarball of the data directory (PGlite's own format, see `fromDump`).
        writeFileSync(m.path, new Uint8Array(await (await lite.dumpDataDir("none")).arrayBuffer()));
        return null;
      case "close":
        await lite.close();
        return null;
      default:
        throw new Error(`unknown operation ${m.op}`);
    }
  }

  port.on("message", (m) => {
    handle(m).then(
      (result) => port.postMessage({ id: m.id, ok: true, result }),
      (err) => port.postMessage({ id: m.id, ok: false, error: serialiseError(err) }),
    );
  });
}

try {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  // Extensions the migrations create must be loaded into the embedded build up front.
  // `fromDump`: start from a data directory written by the "dump" operation instead of an
  // initdb (which costs most of the time it takes to open a fresh database).
  const options = {
    extensions: { pg_trgm },
    // The engine the main thread compiled once for all its PGlite threads (pglite-client.ts).
    ...(pgliteWasmModule ? { pgliteWasmModule, fsBundle: new Blob([fsBundle]) } : {}),
    ...(fromDump ? { loadDataDir: new Blob([readFileSync(fromDump)]) } : {}),
  };
  const lite = dataDir ? await PGlite.create(dataDir, options) : await PGlite.create(options);
  serve(lite);
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ id: -1, ok: false, error: serialiseError(err) });
}
