import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import Table from "cli-table3";
import { Agent, request } from "undici";
import { createTracing, type GatewayTracing } from "../src/modules/gateway/index.ts";
import type { ChatRequest, UpstreamTarget } from "../src/providers/types.ts";
import { startFakeOpenAI } from "../src/test-support/fake-openai.ts";
import { startOtlpReceiver } from "../src/test-support/otlp-receiver.ts";
import { modelRoute, routableVersion, snapshotOf } from "../src/test-support/routing-snapshot.ts";
import { startTracedGateway } from "../src/test-support/traced-gateway.ts";

/*
 * What tracing adds to a gateway request (issue 20). Two figures:
 *
 *  1. Through HTTP on loopback: one request at a time, client → gateway → a fake
 *     OpenAI-compatible upstream (no latency), the same process. Tracing off; off with a
 *     client traceparent (forwarded as it came); on, every span exported as OTLP/HTTP JSON to
 *     a loopback receiver; on with the client's trace unsampled (flags 00: spans made but not
 *     recorded or exported). Modes alternate in rounds, so drift of a shared machine spreads
 *     over all of them; per-request wall time, p50 / p99 / mean.
 *  2. In process: the span work of one request alone (server span, one attempt span, the
 *     traceparent made, both ended), without HTTP.
 *
 *   npm run bench:tracing [-- --n 2000 --rounds 5]
 */

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const N = arg("--n", 2000);
const ROUNDS = arg("--rounds", 5);

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const summary = (xs: number[]) => ({
  p50: percentile(xs, 50),
  p99: percentile(xs, 99),
  mean: xs.reduce((a, b) => a + b, 0) / xs.length,
  n: xs.length,
});

async function main() {
  const receiver = await startOtlpReceiver();
  const upstream = await startFakeOpenAI();
  const version = routableVersion("m", "1.0.0", null, {
    provider: "openai-compatible",
    providerModelId: "up",
    endpoint: upstream.url,
  });
  const snapshot = snapshotOf(modelRoute("m", [version]));
  const tracing = (await createTracing({
    url: receiver.url,
    headers: {},
    serviceName: "bench",
    serviceVersion: "0",
    sampler: "parentbased_always_on",
    samplerArg: 1,
  })) as GatewayTracing;
  const off = await startTracedGateway(snapshot, undefined);
  const on = await startTracedGateway(snapshot, tracing);
  const client = new Agent({ connections: 1, pipelining: 1 });
  const body = JSON.stringify({
    model: "m",
    messages: [{ role: "user", content: "hello there" }],
    max_tokens: 8,
  });
  const sampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

  const modes = [
    { name: "off", url: off.url, traceparent: undefined },
    { name: "off, client traceparent forwarded", url: off.url, traceparent: sampled },
    { name: "on, exported (sampled)", url: on.url, traceparent: sampled },
    { name: "on, client trace unsampled", url: on.url, traceparent: unsampled },
  ] as const;
  const times = new Map<string, number[]>(modes.map((m) => [m.name, []]));

  async function once(url: string, traceparent: string | undefined) {
    const headers: Record<string, string> = {
      authorization: "Bearer good",
      "content-type": "application/json",
    };
    if (traceparent) headers.traceparent = traceparent;
    const t0 = performance.now();
    const res = await request(`${url}/v1/chat/completions`, {
      method: "POST",
      headers,
      body,
      dispatcher: client,
    });
    await res.body.text();
    const ms = performance.now() - t0;
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    return ms;
  }

  for (const m of modes) for (let i = 0; i < 500; i++) await once(m.url, m.traceparent); // warm-up
  await tracing.flush();
  const exportedBefore = receiver.spans.length;
  for (let r = 0; r < ROUNDS; r++)
    for (const m of modes) {
      const t = times.get(m.name)!;
      for (let i = 0; i < N; i++) t.push(await once(m.url, m.traceparent));
      await tracing.flush(); // the export runs between rows, not inside one
    }
  const exported = receiver.spans.length - exportedBefore;

  const http = modes.map((m) => ({ mode: m.name, ...summary(times.get(m.name)!) }));
  const base = http[0]!;
  const table = new Table({ head: ["mode", "p50 µs", "p99 µs", "mean µs", "added p50 µs", "added mean µs"] });
  for (const row of http)
    table.push([
      row.mode,
      (row.p50 * 1000).toFixed(0),
      (row.p99 * 1000).toFixed(0),
      (row.mean * 1000).toFixed(0),
      ((row.p50 - base.p50) * 1000).toFixed(0),
      ((row.mean - base.mean) * 1000).toFixed(0),
    ]);
  console.log(table.toString());
  console.log(
    `spans exported for the sampled rows: ${exported.toLocaleString()} (expected ${(2 * N * ROUNDS).toLocaleString()}: a server and an attempt span per request)`,
  );

  // 2. The span work of one request, in process.
  const headers = { traceparent: sampled };
  const target: UpstreamTarget = {
    versionId: version.id,
    label: "m@1.0.0",
    provider: "openai-compatible",
    providerModelId: "up",
    endpoint: upstream.url,
    parameters: {},
    timeouts: { totalMs: 1000, firstByteMs: 1000, idleMs: 1000 },
  };
  const chat: ChatRequest = { model: "m", messages: [], max_tokens: 8, temperature: 0.2 };
  const micro: number[] = [];
  for (let i = 0; i < 60_000; i++) {
    const t0 = performance.now();
    const span = tracing.startRequest(headers, "req_bench");
    span.request(chat);
    const a = span.attempt(target, 1, chat);
    a.ok({ id: "c1", model: "up", finishReasons: ["stop"], usage: { inputTokens: 5, outputTokens: 8 } });
    span.answered({ version: "m@1.0.0", route: "alias:production", errorClass: null });
    span.end(200);
    const us = (performance.now() - t0) * 1000;
    if (i >= 10_000) micro.push(us);
    if (i % 1000 === 999) await tracing.flush(); // the exporter's queue (2048) is kept from dropping
  }
  const spanWork = summary(micro);
  console.log(
    `span work of one request, in process: p50 ${spanWork.p50.toFixed(1)} µs, p99 ${spanWork.p99.toFixed(1)} µs, mean ${spanWork.mean.toFixed(1)} µs (${spanWork.n.toLocaleString()} requests)`,
  );
  console.log(
    `${N.toLocaleString()} requests per mode and round, ${ROUNDS} rounds after 500 warm-up; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}, ${os.cpus().length} cores, node ${process.version}`,
  );

  await tracing.shutdown();
  await client.close();
  await Promise.all([off.close(), on.close(), receiver.close(), upstream.close()]);
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("./results/tracing.json", import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), n: N, rounds: ROUNDS, http, exported, spanWork, loadavg: os.loadavg(), cores: os.cpus().length }, null, 2)}\n`,
  );
}

await main();
