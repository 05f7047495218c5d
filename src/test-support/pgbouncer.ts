// PgBouncer in front of the test PostgreSQL server: a pooled database in transaction mode (what
// DATABASE_URL points at) and a session-mode one for LISTEN (MODELGOV_DATABASE_DIRECT_URL).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { hermeticEnv } from "./serve-child.ts";

const CANDIDATES = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"];

/** The pgbouncer executable, or why the tests that need it are skipped. */
export function findPgBouncer(): { bin?: string; skip?: string } {
  for (const bin of CANDIDATES) {
    try {
      execFileSync(bin, ["--version"], { stdio: "ignore", env: hermeticEnv({}) });
      return { bin };
    } catch {}
  }
  return {
    skip: "no pgbouncer: install it (Debian/Ubuntu: apt-get install pgbouncer) to run replicas behind a pooler",
  };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });

/**
 * Starts PgBouncer listening on `listen` (addresses), pooling `dbUrl`'s database as `pooled`
 * (pool_mode=transaction, fewer server connections than clients) and `direct` (session).
 * Runs as the `postgres` user (PgBouncer refuses root). `stop()` ends this process only.
 */
export async function startPgBouncer(o: { bin: string; dbUrl: string; listen: string[]; poolSize?: number }) {
  const db = new URL(o.dbUrl);
  const dir = mkdtempSync(path.join(tmpdir(), "modelgov-pgbouncer-"));
  chmodSync(dir, 0o755);
  const user = decodeURIComponent(db.username || "postgres");
  const target = `host=${db.hostname} port=${db.port || 5432} dbname=${db.pathname.slice(1)} user=${user}`;
  const port = await freePort();
  const ini = path.join(dir, "pgbouncer.ini");
  writeFileSync(path.join(dir, "userlist.txt"), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    ini,
    [
      "[databases]",
      `pooled = ${target}`,
      `direct = ${target} pool_mode=session`,
      "[pgbouncer]",
      `listen_addr = ${o.listen.join(",")}`,
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = trust",
      `auth_file = ${path.join(dir, "userlist.txt")}`,
      "pool_mode = transaction",
      `default_pool_size = ${o.poolSize ?? 4}`,
      "max_client_conn = 500",
      "ignore_startup_parameters = extra_float_digits",
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  const args = process.getuid?.() === 0 ? ["-u", "postgres", ini] : [ini];
  const proc: ChildProcess = spawn(o.bin, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: hermeticEnv({}),
  });
  let log = "";
  proc.stderr!.on("data", (d: Buffer) => {
    log += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const until = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, o.listen[0]!, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) break;
    if (proc.exitCode !== null || Date.now() > until) {
      proc.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = (addr: string, database: "pooled" | "direct") =>
    `postgres://${user}@${addr}:${port}/${database}`;
  return {
    port,
    /** The pooled (transaction mode) URL reached at `addr`. */
    pooledUrl: (addr: string) => url(addr, "pooled"),
    /** The session-mode URL reached at `addr`, for LISTEN. */
    directUrl: (addr: string) => url(addr, "direct"),
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
