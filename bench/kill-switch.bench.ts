import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { createClient } from "../src/client/index.ts";
import { clusterSkip, startReplicaCluster } from "../src/test-support/replica-cluster.ts";
import { prepareTwoVersions, routedVersion, timeUntil } from "../src/test-support/replicas.ts";
import { quantile } from "./quantile.ts";

/**
 * Kill switch propagation: three `modelgov serve` replicas as hosts (network namespaces)
 * behind PgBouncer in transaction mode, on one PostgreSQL database
 * (src/test-support/replica-cluster.ts). Each round engages a version kill switch on the
 * production version (its fallback serves then) through one replica, the next one each time,
 * and measures until every replica's gateway answers from the fallback; then releases it and
 * measures until every replica serves production again. Times are from the API's answer (the
 * switch committed, as its caller sees it) and from sending the request.
 *
 *   npm run bench:kill                 # 50 engages and 50 releases
 *   npm run bench:kill -- --quick      # 10 of each
 *
 * Needs root (ip netns), pgbouncer and a PostgreSQL server: BENCH_REPLICAS_DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test. Results: bench/results/kill-switch.json.
 */

const QUICK = process.argv.includes("--quick");
const ROUNDS = QUICK ? 10 : 50;
const MODEL = "bench-kill";
const POLL_MS = 5;
const SERVER = process.env.BENCH_REPLICAS_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main() {
  const skip = clusterSkip();
  if (skip) {
    console.error(`bench:kill cannot run here: ${skip}`);
    process.exitCode = 1;
    return;
  }
  const cluster = await startReplicaCluster({ serverUrl: SERVER, n: 3 });
  const { replicas, adminToken } = cluster;
  try {
    const { agent, admin } = await prepareTwoVersions({ url: replicas[0]!.url, adminToken, model: MODEL });
    await admin.routes.set(MODEL, { fallback: ["1.1.0"] });
    const clients = replicas.map((r) => createClient({ baseUrl: r.url, token: adminToken }));
    const everyReplica = async (version: string, t0: number) =>
      Math.max(
        ...(await Promise.all(
          replicas.map(async (r) => {
            // Every 5 ms, not back to back: the polling must not take the CPU the replicas need.
            await timeUntil(
              async () => (await routedVersion(r.url, agent, MODEL)) === `${MODEL}@${version}`,
              10_000,
              `${r.url} → ${version}`,
              POLL_MS,
            );
            return performance.now() - t0;
          }),
        )),
      );
    await everyReplica("1.0.0", performance.now());

    const engage = { fromSend: [] as number[], afterAck: [] as number[], ack: [] as number[] };
    const release = { fromSend: [] as number[], afterAck: [] as number[], ack: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      const client = clients[i % 3]!;
      let t0 = performance.now();
      let acked = 0;
      let id = "";
      const engaged = client.killSwitches
        .engage({ scope: "version", target: `${MODEL}@1.0.0`, reason: `bench round ${i}` })
        .then((s) => {
          acked = performance.now() - t0;
          id = s.id;
        });
      let all = await everyReplica("1.1.0", t0);
      await engaged;
      engage.fromSend.push(all);
      engage.ack.push(acked);
      engage.afterAck.push(Math.max(0, all - acked));

      t0 = performance.now();
      const released = client.killSwitches.release(id, `bench round ${i} over`).then(() => {
        acked = performance.now() - t0;
      });
      all = await everyReplica("1.0.0", t0);
      await released;
      release.fromSend.push(all);
      release.ack.push(acked);
      release.afterAck.push(Math.max(0, all - acked));
    }

    const row = (what: string, xs: number[]) => [
      what,
      ms(quantile(xs, 0.5)),
      ms(quantile(xs, 0.95)),
      ms(Math.max(...xs)),
      String(xs.length),
    ];
    const table = new Table({
      head: ["measure (3 replicas, PostgreSQL via PgBouncer)", "p50", "p95", "max", "n"],
    });
    table.push(
      row("engage answered → all 3 gateways fall back past it", engage.afterAck),
      row("engage sent → all 3 gateways fall back past it", engage.fromSend),
      row("the engage's answer", engage.ack),
      row("release answered → all 3 gateways serve it again", release.afterAck),
      row("release sent → all 3 gateways serve it again", release.fromSend),
    );
    console.log(table.toString());
    console.log(
      `load average during the run: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} on ${cpus().length} cores`,
    );
    const summary = (xs: number[]) => ({
      p50Ms: quantile(xs, 0.5),
      p95Ms: quantile(xs, 0.95),
      maxMs: Math.max(...xs),
    });
    const out = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(
      `${out}kill-switch.json`,
      `${JSON.stringify(
        {
          at: new Date().toISOString(),
          rounds: ROUNDS,
          replicas: replicas.length,
          loadavg: loadavg(),
          cores: cpus().length,
          engage: {
            afterAck: summary(engage.afterAck),
            fromSend: summary(engage.fromSend),
            ack: summary(engage.ack),
          },
          release: { afterAck: summary(release.afterAck), fromSend: summary(release.fromSend) },
        },
        null,
        2,
      )}\n`,
    );
  } finally {
    await cluster.close();
  }
}

await main();
