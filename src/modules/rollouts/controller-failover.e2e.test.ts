import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { openPostgres } from "../../store/db.ts";
import { createThrowawayDatabase } from "../../store/throwaway.ts";
import { controllerLease, prepareTwoVersions, timeUntil } from "../../test-support/replicas.ts";
import { hermeticEnv, type ServeChild, spawnServe, stopChild } from "../../test-support/serve-child.ts";
import { migratedPostgresTemplate } from "../../test-support/store-templates.ts";
import { POSTGRES_SKIP, testDatabaseUrl } from "../../test-support/stores.ts";

const TTL_MS = 2000;

test("the rollout controller's lease across two real replicas: renewed while the leader runs; SIGSTOP it past the TTL and the other takes over with a higher epoch; SIGCONT it and the work it was doing is refused and it steps down", {
  skip: POSTGRES_SKIP,
}, async () => {
  const tmp = await createThrowawayDatabase(
    testDatabaseUrl()!,
    "modelgov_failover",
    await migratedPostgresTemplate(testDatabaseUrl()!),
  );
  const db = openPostgres(tmp.url, { max: 2 });
  const admin = `admin-${randomBytes(12).toString("hex")}`;
  const dirs: string[] = [];
  const started: ServeChild[] = [];
  const spawnReplica = async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "modelgov-failover-"));
    dirs.push(dir);
    const s = await spawnServe({
      args: ["--no-demo", "--data-dir", dir],
      env: hermeticEnv({
        DATABASE_URL: tmp.url,
        MODELGOV_ADMIN_TOKEN: admin,
        MODELGOV_LOG_LEVEL: "info",
        MODELGOV_LEADER_LEASE_TTL_MS: String(TTL_MS),
      }),
    });
    started.push(s);
    return s;
  };
  // The controller's lease only (the bias drift job holds one too).
  const logged = (s: ServeChild, msg: string) =>
    s.lines.some(
      (l) =>
        l.includes(`"msg":"${msg}"`) &&
        (!l.includes('"lease":') || l.includes('"lease":"rollout-controller"')),
    );
  let stopped: ServeChild | undefined;
  const blocker = new pg.Client({ connectionString: tmp.url });
  try {
    const a = await spawnReplica();
    await timeUntil(
      async () => (await controllerLease(db))?.pid === a.pid,
      10_000,
      "the first replica to lead",
    );
    const b = await spawnReplica();

    // Renewed: the same holder and epoch, the expiry moving forward.
    const first = (await controllerLease(db))!;
    await sleep(1200);
    const renewed = (await controllerLease(db))!;
    assert.equal(renewed.holder, first.holder);
    assert.equal(renewed.epoch, first.epoch);
    assert.ok(renewed.expiresAt > first.expiresAt, "the expiry moved forward");
    assert.equal(logged(b, "leader lease taken"), false, "the follower never led");

    // A rollout gives the leader work every tick. The test holds its row, so the leader's
    // next check waits on it mid-transaction: that is where it is stopped.
    const { admin: client } = await prepareTwoVersions({ url: b.url, adminToken: admin, model: "failover" });
    const rollout = await client.rollouts.start("failover", "1.1.0");
    await blocker.connect();
    await blocker.query("BEGIN");
    await blocker.query("SELECT 1 FROM rollouts WHERE id = $1 FOR UPDATE", [rollout.id]);
    const waitingOnRow = async () =>
      (
        await db.query<{ n: number }>(
          // Controllers waiting on a rollout row only: other jobs (retention, monitoring) may wait on locks too.
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE OF r%'",
          [tmp.name],
        )
      )[0]!.n;
    await timeUntil(
      async () => (await waitingOnRow()) === 1,
      10_000,
      "the leader to wait on the rollout row",
    );

    process.kill(a.pid, "SIGSTOP");
    stopped = a;
    const tookMs = await timeUntil(
      async () => (await controllerLease(db))?.pid === b.pid,
      TTL_MS + 5_000,
      "the other replica to take over",
    );
    assert.ok(
      tookMs >= TTL_MS * 0.5,
      `taken over after ${Math.round(tookMs)} ms: not before the lease ran out`,
    );
    assert.equal((await controllerLease(db))!.epoch, first.epoch + 1, "a takeover raises the epoch");
    // Its log line may trail the lease row on a loaded machine (the child's stdout is read as it comes).
    await timeUntil(() => logged(b, "leader lease taken"), 5_000, "the new leader to log its lease");
    // The new leader acts: its own check of the rollout now waits on the row too.
    // Generous: on a loaded 2-core CI machine the new leader's first tick can take seconds.
    await timeUntil(
      async () => (await waitingOnRow()) === 2,
      15_000,
      "the new leader to work on the rollout",
    );

    process.kill(a.pid, "SIGCONT");
    stopped = undefined;
    await blocker.query("COMMIT");
    await timeUntil(
      () => logged(a, "lease lost mid-work: stale-epoch work refused"),
      15_000,
      "the resumed leader's stale work to be refused",
    );
    await timeUntil(
      () => logged(a, "leader lease lost; stepping down"),
      15_000,
      "the resumed leader to step down",
    );
    await sleep(1200);
    const after = (await controllerLease(db))!;
    assert.equal(after.pid, b.pid, "the lease stays with the new leader");
    assert.equal(after.epoch, first.epoch + 1);
    const status = await client.rollouts.status("failover");
    assert.equal(status.status, "running");
  } finally {
    if (stopped) process.kill(stopped.pid, "SIGCONT");
    await blocker.end().catch(() => {});
    for (const s of started) await stopChild(s, "SIGKILL");
    await db.close();
    await tmp.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
