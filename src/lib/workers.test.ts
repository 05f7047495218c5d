import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startWorkers, type Worker, type WorkerLogger } from "./workers.ts";

function recorder() {
  const events: string[] = [];
  const logs: { level: string; obj: object; msg: string }[] = [];
  const logger: WorkerLogger = {
    debug: (obj, msg) => void logs.push({ level: "debug", obj, msg }),
    info: (obj, msg) => void logs.push({ level: "info", obj, msg }),
    error: (obj, msg) => void logs.push({ level: "error", obj, msg }),
  };
  const fake = (
    name: string,
    o: { start?: () => Promise<void> | void; stop?: () => Promise<void> | void } = {},
  ) =>
    ({
      name,
      start: async () => {
        events.push(`start ${name}`);
        await o.start?.();
      },
      stop: async () => {
        events.push(`stop ${name}`);
        await o.stop?.();
      },
    }) satisfies Worker;
  return { events, logs, logger, fake };
}

describe("workers", () => {
  test("start in order, each after the previous one's start resolved; stop in reverse", async () => {
    const r = recorder();
    let aReady = false;
    const running = await startWorkers(
      [
        r.fake("a", {
          start: async () => {
            await new Promise((res) => setTimeout(res, 20));
            aReady = true;
          },
        }),
        r.fake("b", { start: () => assert.ok(aReady, "b started before a had started") }),
        r.fake("c"),
      ],
      { logger: r.logger },
    );
    assert.deepEqual(running.names, ["a", "b", "c"]);
    assert.deepEqual(r.events, ["start a", "start b", "start c"]);
    assert.deepEqual(await running.stopAll(), []);
    assert.deepEqual(r.events.slice(3), ["stop c", "stop b", "stop a"]);
    assert.deepEqual(
      r.logs.filter((l) => l.level === "info").map((l) => l.obj),
      [{ workers: ["a", "b", "c"] }],
    );
  });

  test("stopAll twice stops each worker once", async () => {
    const r = recorder();
    const running = await startWorkers([r.fake("a"), r.fake("b")], { logger: r.logger });
    await Promise.all([running.stopAll(), running.stopAll()]);
    await running.stopAll();
    assert.deepEqual(r.events, ["start a", "start b", "stop b", "stop a"]);
  });

  test("a start that fails stops the ones already started, in reverse, and throws its error", async () => {
    const r = recorder();
    const boom = new Error("port in use");
    await assert.rejects(
      startWorkers(
        [
          r.fake("a"),
          r.fake("b"),
          r.fake("c", {
            start: () => {
              throw boom;
            },
          }),
          r.fake("d"),
        ],
        { logger: r.logger },
      ),
      (err) => err === boom,
    );
    // c never started, so it is not stopped; d is never started.
    assert.deepEqual(r.events, ["start a", "start b", "start c", "stop b", "stop a"]);
    assert.deepEqual(
      r.logs.filter((l) => l.level === "error").map((l) => (l.obj as { worker: string }).worker),
      ["c"],
    );
  });

  test("a stop that throws, synchronously or not, or hangs, is logged and the others still stop", async () => {
    const r = recorder();
    const hang = new Promise<void>(() => {});
    const running = await startWorkers(
      [
        r.fake("first"),
        r.fake("hangs", { stop: () => hang }),
        {
          name: "throws-sync",
          start: () => {},
          stop: () => {
            r.events.push("stop throws-sync");
            throw new Error("sync");
          },
        },
        r.fake("rejects", { stop: () => Promise.reject(new Error("async")) }),
        r.fake("last"),
      ],
      { logger: r.logger, stopTimeoutMs: 50 },
    );
    const t0 = performance.now();
    const failures = await running.stopAll();
    assert.ok(performance.now() - t0 < 2_000, "a hung stop held the others up");
    assert.deepEqual(r.events.slice(4), [
      "stop last",
      "stop rejects",
      "stop throws-sync",
      "stop hangs",
      "stop first",
    ]);
    assert.deepEqual(
      failures.map((f) => [f.name, (f.error as Error).message]),
      [
        ["rejects", "async"],
        ["throws-sync", "sync"],
        ["hangs", "hangs did not stop within 50 ms"],
      ],
    );
    assert.deepEqual(
      r.logs.filter((l) => l.level === "error").map((l) => (l.obj as { worker: string }).worker),
      ["rejects", "throws-sync", "hangs"],
    );
  });
});
