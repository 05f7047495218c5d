// Replicas as hosts: `n` `modelgov serve` processes, each in its own network namespace, on one
// throwaway PostgreSQL database behind PgBouncer (pooled database in transaction mode for
// DATABASE_URL, a session-mode one for LISTEN). Shared by replicas.e2e.test.ts and
// bench/replicas.bench.ts; close() ends exactly what it started.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createThrowawayDatabase } from "../store/throwaway.ts";
import { createNsHosts, netnsSkip } from "./netns.ts";
import { findPgBouncer, startPgBouncer } from "./pgbouncer.ts";
import { hermeticEnv, type ServeChild, spawnServe, stopChild } from "./serve-child.ts";
import { migratedPostgresTemplate } from "./store-templates.ts";

/** Why a cluster cannot be made here (no namespaces, no pgbouncer), or undefined. */
export function clusterSkip(): string | undefined {
  return findPgBouncer().skip ?? netnsSkip();
}

export async function startReplicaCluster(o: { serverUrl: string; n: number; env?: Record<string, string> }) {
  const bin = findPgBouncer().bin;
  if (!bin) throw new Error(clusterSkip());
  const tmp = await createThrowawayDatabase(
    o.serverUrl,
    "modelgov_replicas",
    await migratedPostgresTemplate(o.serverUrl),
  );
  const net = createNsHosts(o.n);
  const dirs: string[] = [];
  const replicas: ServeChild[] = [];
  let bouncer: Awaited<ReturnType<typeof startPgBouncer>> | undefined;
  const close = async () => {
    for (const r of replicas) {
      // A replica a test stopped (SIGSTOP) would not act on SIGKILL's exit wait otherwise.
      try {
        process.kill(r.pid, "SIGCONT");
      } catch {}
      await stopChild(r, "SIGKILL");
    }
    await bouncer?.stop();
    net.cleanup();
    await tmp.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    const b = await startPgBouncer({ bin, dbUrl: tmp.url, listen: net.hosts.map((h) => h.gateway) });
    bouncer = b;
    const adminToken = `admin-${randomBytes(12).toString("hex")}`;
    // Replicas share the audit signing key, as docs/audit.md asks.
    const key = generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const started = await Promise.allSettled(
      net.hosts.map((h) => {
        const dir = mkdtempSync(path.join(tmpdir(), "modelgov-replica-"));
        dirs.push(dir);
        return spawnServe({
          prefix: net.prefix(h),
          host: { listen: "0.0.0.0", reach: h.address },
          args: ["--no-demo", "--data-dir", dir],
          env: hermeticEnv({
            DATABASE_URL: b.pooledUrl(h.gateway),
            MODELGOV_DATABASE_DIRECT_URL: b.directUrl(h.gateway),
            MODELGOV_ADMIN_TOKEN: adminToken,
            MODELGOV_AUDIT_SIGNING_KEY: key,
            MODELGOV_LOG_LEVEL: "info",
            MODELGOV_GATEWAY_RATE_PER_SEC: "100000",
            MODELGOV_GATEWAY_RATE_BURST: "100000",
            ...o.env,
          }),
        });
      }),
    );
    for (const s of started) if (s.status === "fulfilled") replicas.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return { tmp, net, replicas, adminToken, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export type ReplicaCluster = Awaited<ReturnType<typeof startReplicaCluster>>;
