import { Worker } from "node:worker_threads";
import type { Json } from "../types.ts";
import { chatTokenTexts, type EncodingName } from "./chat-tokens.ts";

/**
 * tiktoken off the event loop. Building an encoding's rank table is a burst of CPU (measured
 * here: 0.3–1.2 s for cl100k_base, 1.3–2.5 s for o200k_base on a loaded 2-core machine) that
 * would stall every answer the gateway is streaming; it runs in a worker thread instead,
 * started on the first count, that keeps each encoding once built (heap after GC: about 35 MB
 * for cl100k_base, 71 MB for o200k_base). A gateway that never counts starts no thread and
 * loads no rank file. The worker runs plain JavaScript (no tsx), so it is the same in a
 * checkout and in the published package; the idle worker does not keep the process alive.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const encoders = new Map();
function encoder(name) {
  let e = encoders.get(name);
  if (!e) {
    e = Promise.all([import(workerData.lite), import(workerData.ranks[name])])
      .then(([lite, ranks]) => new lite.Tiktoken(ranks.default));
    e.catch(() => encoders.delete(name));
    encoders.set(name, e);
  }
  return e;
}
parentPort.on("message", async (m) => {
  try {
    const e = await encoder(m.encoding);
    parentPort.postMessage({ id: m.id, lengths: m.texts.map((t) => e.encode(t).length) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

export interface ChatTokenCounter {
  /** The request's input tokens in `encoding`, as chat-tokens.ts counts them. */
  count(encoding: EncodingName, messages: readonly Json[], tools?: readonly Json[]): Promise<number>;
  /** Each text's length in tokens. */
  lengths(encoding: EncodingName, texts: readonly string[]): Promise<number[]>;
  /** Which encodings the worker was asked for (it builds each once). */
  readonly asked: ReadonlySet<EncodingName>;
  /** Whether the worker thread is running. */
  readonly running: boolean;
  close(): Promise<void>;
}

type Pending = { resolve(lengths: number[]): void; reject(err: Error): void };

export function createChatTokenCounter(): ChatTokenCounter {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();
  const asked = new Set<EncodingName>();

  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const start = (): Worker => {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: {
        lite: import.meta.resolve("js-tiktoken/lite"),
        ranks: {
          cl100k_base: import.meta.resolve("js-tiktoken/ranks/cl100k_base"),
          o200k_base: import.meta.resolve("js-tiktoken/ranks/o200k_base"),
        },
      },
    });
    w.unref();
    w.on("message", (m: { id: number; lengths?: number[]; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.lengths) p.resolve(m.lengths);
      else p.reject(new Error(`token counting failed: ${m.error}`));
      if (pending.size === 0) w.unref();
    });
    w.on("error", (err) => {
      if (worker === w) worker = undefined;
      failAll(err);
    });
    w.on("exit", () => {
      if (worker === w) worker = undefined;
      failAll(new Error("token counting failed: the worker exited"));
    });
    return w;
  };

  const lengths = (encoding: EncodingName, texts: readonly string[]) => {
    worker ??= start();
    const w = worker;
    const id = ++nextId;
    asked.add(encoding);
    return new Promise<number[]>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      // Held while an answer is awaited, let go when idle.
      w.ref();
      w.postMessage({ id, encoding, texts });
    });
  };

  return {
    lengths,
    async count(encoding, messages, tools) {
      const { texts, overhead } = chatTokenTexts(messages, tools);
      return overhead + (await lengths(encoding, texts)).reduce((a, b) => a + b, 0);
    },
    asked,
    get running() {
      return worker !== undefined;
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

let shared: ChatTokenCounter | undefined;

/** The process's counter: one worker and one copy of each rank table, however many gateways count. */
export function sharedChatTokenCounter(): ChatTokenCounter {
  shared ??= createChatTokenCounter();
  return shared;
}
