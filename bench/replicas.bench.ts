import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { createClient } from "../src/client/index.ts";
import { openPostgres } from "../src/store/db.ts";
import { clusterSkip, startReplicaCluster } from "../src/test-support/replica-cluster.ts";
import {
  controllerLease,
  prepareTwoVersions,
  routedVersion,
  timeUntil,
} from "../src/test-support/replicas.ts";
import { quantile } from "./quantile.ts";

/**
 * Three replicas as hosts (network namespaces) behind PgBouncer in transaction mode, on one
 * PostgreSQL database (src/test-support/replica-cluster.ts):
 *   - convergence: a route change (a model's split, PUT through one replica, the next one each
 *     time) until every replica's gateway routes by it, measured from the moment the PUT is
 *     sent; each replica is polled with gateway calls, back to back;
 *   - failover: SIGSTOP the rollout controller's leader; the time until another replica holds
 *     the lease, and until it acts (a decision on a running rollout, recorded under its epoch).
 *
 *   npm run bench:replicas                 # 20 route changes, 3 failovers at the default 10 s lease
 *   npm run bench:replicas -- --quick      # 10 changes, 2 failovers at a 3 s lease
 *
 * Needs root (ip netns), pgbouncer and a PostgreSQL server: BENCH_REPLICAS_DATABASE_URL, else
 * postgres://postgres@127.0.0.1:5432/test. Everything stays on this machine; every process
 * started is ended by PID, every namespace made is deleted. Results: bench/results/replicas.json.
 */

const QUICK = process.argv.includes("--quick");
const CHANGES = QUICK ? 10 : 20;
const FAILOVERS = QUICK ? 2 : 3;
const TTL_MS = QUICK ? 3_000 : 10_000;
const MODEL = "bench-replicas";
const POLL_MS = 5;
const SERVER = process.env.BENCH_REPLICAS_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

const ms = (x: number) => `${x.toFixed(0)} ms`;

async function main() {
  const skip = clusterSkip();
  if (skip) {
    console.error(`bench:replicas cannot run here: ${skip}`);
    process.exitCode = 1;
    return;
  }
  const cluster = await startReplicaCluster({
    serverUrl: SERVER,
    n: 3,
    env: { MODELGOV_LEADER_LEASE_TTL_MS: String(TTL_MS) },
  });
  const db = openPostgres(cluster.tmp.url, { max: 2 });
  const { replicas, adminToken } = cluster;
  try {
    const { agent } = await prepareTwoVersions({ url: replicas[0]!.url, adminToken, model: MODEL });
    const clients = replicas.map((r) => createClient({ baseUrl: r.url, token: adminToken }));
    const routesTo = async (url: string, version: string) =>
      (await routedVersion(url, agent, MODEL)) === `${MODEL}@${version}`;
    await Promise.all(
      replicas.map((r) => timeUntil(() => routesTo(r.url, "1.0.0"), 15_000, "production", 1)),
    );

    // ---------------------------------------------------------------- convergence
    const perReplica: number[] = [];
    const perChange: number[] = [];
    const puts: number[] = [];
    /** From the PUT's answer (the change committed, as its caller sees it) to the last gateway following. */
    const afterAck: number[] = [];
    for (let i = 0; i < CHANGES; i++) {
      const version = i % 2 === 0 ? "1.1.0" : "1.0.0";
      const t0 = performance.now();
      let acked = 0;
      const put = clients[i % 3]!.routes.set(MODEL, {
        split: version === "1.0.0" ? null : [{ version, weight: 100 }],
      }).then(() => {
        acked = performance.now() - t0;
      });
      const times = await Promise.all(
        replicas.map(async (r) => {
          // Every 5 ms, not back to back: the polling must not take the CPU the replicas need.
          await timeUntil(() => routesTo(r.url, version), 10_000, `${r.url} → ${version}`, POLL_MS);
          return performance.now() - t0;
        }),
      );
      await put;
      puts.push(acked);
      afterAck.push(Math.max(0, Math.max(...times) - acked));
      perReplica.push(...times);
      perChange.push(Math.max(...times));
    }
    const convergence = {
      changes: CHANGES,
      medianMs: quantile(perChange, 0.5),
      p90Ms: quantile(perChange, 0.9),
      maxMs: Math.max(...perChange),
      perReplicaMedianMs: quantile(perReplica, 0.5),
      putMedianMs: quantile(puts, 0.5),
      afterAckMedianMs: quantile(afterAck, 0.5),
      afterAckMaxMs: Math.max(...afterAck),
    };

    // ---------------------------------------------------------------- failover
    const failovers: { takeoverMs: number; actsMs: number }[] = [];
    for (let i = 0; i < FAILOVERS; i++) {
      // A running rollout on the demo plan records a decision about every second: the leader's work.
      const status = await clients[0]!.rollouts.status(MODEL).catch(() => null);
      if (status?.status === "running" || status?.status === "paused")
        await clients[0]!.rollouts.abort(MODEL, "next bench round");
      await clients[0]!.routes.set(MODEL, { split: null });
      const rollout = await clients[0]!.rollouts.start(MODEL, "1.1.0", "demo");
      await timeUntil(
        async () =>
          (await db.query("SELECT 1 FROM rollout_decisions WHERE rollout_id = $1 LIMIT 1", [rollout.id]))
            .length > 0,
        15_000,
        "the leader's first decision",
        10,
      );
      const leader = (await controllerLease(db))!;
      const stopped = replicas.find((r) => r.pid === leader.pid)!;
      const since = new Date();
      process.kill(stopped.pid, "SIGSTOP");
      const t0 = performance.now();
      try {
        await timeUntil(
          async () => {
            const l = await controllerLease(db);
            return !!l && l.pid !== leader.pid;
          },
          TTL_MS + 10_000,
          "another replica to take the lease",
          2,
        );
        const takeoverMs = performance.now() - t0;
        await timeUntil(
          async () =>
            (
              await db.query("SELECT 1 FROM rollout_decisions WHERE rollout_id = $1 AND at > $2 LIMIT 1", [
                rollout.id,
                since,
              ])
            ).length > 0,
          TTL_MS + 15_000,
          "the new leader to act",
          2,
        );
        failovers.push({ takeoverMs, actsMs: performance.now() - t0 });
      } finally {
        process.kill(stopped.pid, "SIGCONT");
      }
      // The resumed one steps down; give it a tick before the next round.
      await new Promise((r) => setTimeout(r, 1500));
    }

    const table = new Table({ head: ["measure", "median", "max", "n"] });
    table.push(
      [
        "route change → all 3 gateways route by it",
        ms(convergence.medianMs),
        ms(convergence.maxMs),
        String(CHANGES),
      ],
      [
        "route change → one gateway (each replica)",
        ms(convergence.perReplicaMedianMs),
        "",
        String(perReplica.length),
      ],
      ["the PUT's answer (through PgBouncer)", ms(convergence.putMedianMs), "", String(CHANGES)],
      [
        "PUT answered → all 3 gateways route by it",
        ms(convergence.afterAckMedianMs),
        ms(convergence.afterAckMaxMs),
        String(CHANGES),
      ],
      [
        `SIGSTOP leader → another holds the lease (TTL ${TTL_MS} ms)`,
        ms(
          quantile(
            failovers.map((f) => f.takeoverMs),
            0.5,
          ),
        ),
        ms(Math.max(...failovers.map((f) => f.takeoverMs))),
        String(FAILOVERS),
      ],
      [
        "SIGSTOP leader → the new leader's first decision",
        ms(
          quantile(
            failovers.map((f) => f.actsMs),
            0.5,
          ),
        ),
        ms(Math.max(...failovers.map((f) => f.actsMs))),
        String(FAILOVERS),
      ],
    );
    console.log(table.toString());
    // The machine's load says how far these figures are from an idle host's.
    console.log(
      `load average during the run: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")} on ${cpus().length} cores`,
    );
    const out = fileURLToPath(new URL("./results/", import.meta.url));
    mkdirSync(out, { recursive: true });
    writeFileSync(
      `${out}replicas.json`,
      `${JSON.stringify({ at: new Date().toISOString(), quick: QUICK, leaseTtlMs: TTL_MS, loadavg: loadavg(), cores: cpus().length, convergence, perChange, failovers }, null, 2)}\n`,
    );
  } finally {
    await db.close();
    await cluster.close();
  }
}

await main();
