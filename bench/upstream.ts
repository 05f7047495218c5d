import { startFakeOpenAI } from "../src/test-support/fake-openai.ts";

/**
 * The loopback OpenAI-compatible upstream for `bench:gateway`, in a process of its own so
 * it does not share an event loop with the load generator or the server under test.
 * Zero latency, plain JSON answers. Prints one JSON line with its port, then serves until
 * SIGTERM/SIGINT or until its parent goes away (stdin closed or IPC channel disconnected).
 */
const fake = await startFakeOpenAI();
process.stdout.write(`${JSON.stringify({ ready: true, port: fake.port, url: fake.url })}\n`);

let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await fake.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.resume();
// The bench asks how many API requests arrived (to check nothing was retried, cached or lost).
process.on("message", (m: unknown) => {
  if (m === "requests") process.send?.({ requests: fake.requests });
});
process.on("disconnect", stop);
