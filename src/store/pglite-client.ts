import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { SerialisedError, WorkerReply, WorkerRequest } from "./pglite-protocol.ts";

/** Distributes over the union, so each request keeps its own fields. */
type Outgoing = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, "id"> : never) : never;

export interface PgliteThread {
  call(req: Outgoing): Promise<unknown>;
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Plain JavaScript beside this module, in the sources and in the build alike (see its header). */
const WORKER = new URL("./pglite-worker.mjs", import.meta.url);

function rebuildError(e: SerialisedError): Error {
  const err = Object.assign(new Error(e.message), e.fields);
  err.name = e.name;
  return err;
}

/**
 * A compiled WebAssembly module, opaque here: it only travels to the worker thread. The project's
 * lib (ES2023, no DOM) has no WebAssembly types; the type check saw them only through test files,
 * so the package build (which leaves tests out) failed on `WebAssembly.Module`.
 */
type WasmModule = object;

/** WebAssembly's compile, read off the global (see WasmModule). */
const wasm = (globalThis as unknown as { WebAssembly: { compile(b: Uint8Array): Promise<WasmModule> } })
  .WebAssembly;

let compiled: Promise<{ pgliteWasmModule: WasmModule; fsBundle: Uint8Array }> | undefined;

/**
 * PGlite's engine (its WebAssembly, compiled) and file-system bundle, loaded once per process
 * and handed to every PGlite thread it starts. A thread left to itself compiles the 9 MB module
 * again and optimises it again as queries warm it up: about a second of CPU per database
 * opened, and slow first queries. Threads given one module share its compiled and optimised
 * code (V8 shares a module's code between the isolates of a process).
 */
function engine() {
  compiled ??= (async () => {
    // Where the package's entry is (its dist/, beside the .wasm and .data): createRequire, as
    // import.meta.resolve is synchronous only from Node 20.6.
    const dist = new URL("./", pathToFileURL(createRequire(import.meta.url).resolve("@electric-sql/pglite")));
    const [bytes, fsBundle] = await Promise.all([
      readFile(new URL("pglite.wasm", dist)),
      readFile(new URL("pglite.data", dist)),
    ]);
    return { pgliteWasmModule: await wasm.compile(bytes), fsBundle: new Uint8Array(fsBundle) };
  })();
  return compiled;
}

/**
 * Starts PGlite on a worker thread and resolves once it is open. The thread keeps the
 * process alive only while a call is in flight, as an in-process database would.
 */
export async function startPgliteThread(
  dataDir: string | undefined,
  fromDump?: string,
): Promise<PgliteThread> {
  const { pgliteWasmModule, fsBundle } = await engine();
  // A worker gets only the flags given here (the parent's may include --test and the like).
  const worker = new Worker(WORKER, {
    workerData: { dataDir, fromDump, pgliteWasmModule, fsBundle },
    execArgv: [],
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const notifyHandlers = new Map<number, (payload: string) => void>();
  let nextId = 0;
  let nextListener = 0;
  let exited: Error | null = null;

  const failAll = (err: Error) => {
    exited = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the PGlite thread exited (${code}) while opening`));
    worker.once("error", reject);
    worker.once("exit", onExit);
    worker.once("message", (m: WorkerReply) => {
      worker.off("error", reject);
      worker.off("exit", onExit);
      if ("ready" in m) resolve();
      else if ("ok" in m && !m.ok) reject(rebuildError(m.error));
      else reject(new Error("the PGlite thread answered before it was ready"));
    });
  }).catch(async (err) => {
    await worker.terminate();
    throw err;
  });

  worker.on("message", (m: WorkerReply) => {
    if ("notify" in m) {
      notifyHandlers.get(m.notify)?.(m.payload);
      return;
    }
    if (!("id" in m)) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.ok) p.resolve(m.result);
    else p.reject(rebuildError(m.error));
  });
  worker.on("error", (err) => failAll(err));
  worker.on("exit", (code) => failAll(new Error(`the PGlite thread has exited (${code})`)));
  worker.unref();

  const call = (req: Outgoing): Promise<unknown> => {
    if (exited) return Promise.reject(exited);
    const id = ++nextId;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref();
      worker.postMessage({ ...req, id });
    });
  };

  return {
    call,
    async listen(channel, onNotify) {
      const lid = ++nextListener;
      notifyHandlers.set(lid, onNotify);
      await call({ op: "listen", channel, lid });
      return async () => {
        notifyHandlers.delete(lid);
        if (!exited) await call({ op: "unlisten", lid });
      };
    },
    async close() {
      if (exited) return;
      try {
        await call({ op: "close" });
      } finally {
        await worker.terminate();
      }
    },
  };
}
