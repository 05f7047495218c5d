import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { openPglite } from "./store/db.ts";
import { waitFor } from "./test-support/flaky-db.ts";
import { gatewayCall, startLoad } from "./test-support/http-load.ts";
import { hermeticEnv, prepareSimulatorModel, spawnServe } from "./test-support/serve-child.ts";
import { migratedDataDir } from "./test-support/store-templates.ts";

const CONNECTIONS = 8;
const DRAIN_MS = 5_000;

test("SIGTERM under keep-alive gateway load: answers stop at once, in-flight ones finish, the process exits within the drain deadline, and every answered request is in the request log", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-sigterm-"));
  const admin = `admin-${randomBytes(12).toString("hex")}`;
  const server = await spawnServe({
    args: ["--no-demo", "--data-dir", await migratedDataDir(dir)],
    env: hermeticEnv({
      MODELGOV_ADMIN_TOKEN: admin,
      MODELGOV_LOG_LEVEL: "info",
      MODELGOV_DRAIN_TIMEOUT_MS: String(DRAIN_MS),
      MODELGOV_GATEWAY_RATE_PER_SEC: "100000",
      MODELGOV_GATEWAY_RATE_BURST: "100000",
    }),
  });
  try {
    const model = "drain-chat";
    // Answers take 30-120 ms, so several requests (plain and streamed) are in flight at the signal.
    const { agent } = await prepareSimulatorModel({
      url: server.url,
      adminToken: admin,
      model,
      latencyMs: { p50: 30, p95: 120 },
    });
    const call = (seq: number) =>
      gatewayCall({ token: agent, model, stream: seq % 4 === 3, subject: `user-${seq % 50}` });
    // The routing state follows the alias by notification: wait until the model answers.
    await waitFor(
      async () =>
        (await fetch(`${server.url}${call(0).path}`, { ...call(0), method: "POST" })).status === 200,
      10_000,
      "the model to be routable",
    );
    const load = startLoad({ origin: server.url, connections: CONNECTIONS, next: call });
    await waitFor(() => load.outcomes.filter((o) => o.acknowledged).length >= 150, 15_000, "150 answers");

    const signalAt = Date.now();
    process.kill(server.pid, "SIGTERM");
    const exit = await Promise.race([server.exited, sleep(DRAIN_MS + 5_000).then(() => null)]);
    const outcomes = await load.stop();
    assert.ok(exit, `the server still ran ${DRAIN_MS + 5_000} ms after SIGTERM`);
    assert.equal(exit.code, 0, server.lines.slice(-10).join("\n"));
    const tookMs = exit.at - signalAt;
    assert.ok(tookMs < DRAIN_MS, `exit took ${tookMs} ms, the drain deadline is ${DRAIN_MS} ms`);

    // Each keep-alive connection gets at most two more answers (one in flight or on its way,
    // one sent before it learnt of the close), each telling it to close; the rest are refused.
    const answers = outcomes.filter((o) => o.status > 0);
    const late = answers.filter((o) => o.at > signalAt);
    assert.ok(
      late.length <= 2 * CONNECTIONS,
      `${late.length} answers after SIGTERM: ${JSON.stringify(late.map((o) => [o.conn, o.at - signalAt, o.connection]))}`,
    );
    assert.deepEqual(
      answers.filter((o) => o.at > exit.at),
      [],
      "no answer after the process exited",
    );
    assert.deepEqual(
      answers.filter((o) => o.status >= 500),
      [],
      "no 5xx",
    );
    // Requests well under way at the signal are answered in full, not cut.
    const inFlight = outcomes.filter((o) => o.sentAt < signalAt - 100 && o.at > signalAt - 100);
    assert.deepEqual(
      inFlight.filter((o) => !o.acknowledged),
      [],
      "in-flight requests finished",
    );

    // Every answered request is in the request log (the store opened again after the exit).
    const acknowledged = outcomes.filter((o) => o.acknowledged).map((o) => o.id!);
    assert.ok(acknowledged.length >= 150);
    const db = await openPglite(path.join(dir, "pgdata"));
    try {
      const rows = await db.query<{ id: string }>("SELECT id FROM request_log WHERE id = ANY($1::text[])", [
        acknowledged,
      ]);
      const stored = new Set(rows.map((r) => r.id));
      assert.deepEqual(
        acknowledged.filter((id) => !stored.has(id)),
        [],
        "answered requests missing from the request log",
      );
    } finally {
      await db.close();
    }
  } finally {
    if (server.proc.exitCode === null && server.proc.signalCode === null) process.kill(server.pid, "SIGKILL");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
