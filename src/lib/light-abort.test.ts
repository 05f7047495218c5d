import assert from "node:assert/strict";
import { createServer } from "node:http";
import { test } from "node:test";
import { request } from "undici";
import { LightAbort } from "./light-abort.ts";

test("listeners run once, in order; a removed one does not; the default reason is an AbortError", () => {
  const a = new LightAbort();
  const seen: string[] = [];
  const second = () => seen.push("second");
  a.signal.addEventListener("abort", () => seen.push("first"));
  a.signal.addEventListener("abort", second);
  a.signal.addEventListener("abort", () => seen.push("third"));
  a.signal.removeEventListener("abort", second);
  assert.equal(a.signal.aborted, false);
  a.abort();
  a.abort("again");
  assert.deepEqual(seen, ["first", "third"]);
  assert.equal(a.signal.aborted, true);
  assert.equal((a.signal.reason as DOMException).name, "AbortError");
  a.signal.addEventListener("abort", () => seen.push("late"));
  assert.deepEqual(seen, ["first", "third"], "a listener added after the abort is not called");
});

test("a listener that throws does not stop the others; its error is reported", (t) => {
  const reported: unknown[] = [];
  const before = LightAbort.onListenerError;
  LightAbort.onListenerError = (err) => reported.push(err);
  t.after(() => {
    LightAbort.onListenerError = before;
  });
  const a = new LightAbort();
  const seen: string[] = [];
  a.addEventListener("abort", () => {
    throw new Error("boom");
  });
  a.addEventListener("abort", () => seen.push("after"));
  a.abort(new Error("why"));
  assert.deepEqual(seen, ["after"]);
  assert.equal((reported[0] as Error).message, "boom");
  assert.equal((a.reason as Error).message, "why");
});

test("undici takes it as a request's signal: an abort ends a request in flight with the reason", async (t) => {
  const server = createServer(() => {}); // never answers
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as { port: number };
  const a = new LightAbort();
  const pending = request(`http://127.0.0.1:${port}/`, { signal: a.signal as AbortSignal });
  setTimeout(() => a.abort(new Error("deadline")), 50);
  await assert.rejects(pending, /deadline/);
});
