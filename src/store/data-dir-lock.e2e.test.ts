import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { hermeticEnv, spawnServe, stopChild } from "../test-support/serve-child.ts";
import { migratedDataDir } from "../test-support/store-templates.ts";

test("two `modelgov serve` on one embedded data folder: the second refuses at start naming the folder and the holder; after the holder is killed, the stale lock is taken over", async () => {
  const dir = await migratedDataDir(mkdtempSync(path.join(tmpdir(), "modelgov-lock-")));
  const env = hermeticEnv({
    MODELGOV_ADMIN_TOKEN: `admin-${randomBytes(12).toString("hex")}`,
    MODELGOV_LOG_LEVEL: "info",
  });
  const args = ["--no-demo", "--data-dir", dir];
  const first = await spawnServe({ args, env });
  const started: Awaited<ReturnType<typeof spawnServe>>[] = [first];
  try {
    const lock = path.join(dir, "pgdata.lock");
    assert.equal(JSON.parse(readFileSync(lock, "utf8")).pid, first.pid);

    const refused = await spawnServe({ args, env }).then(
      (s) => {
        started.push(s);
        return null;
      },
      (err: Error) => err.message,
    );
    assert.ok(refused, "the second server must not start");
    assert.match(refused, /exited \(1\) before listening/);
    assert.ok(refused.includes(`${path.join(dir, "pgdata")} is in use by process ${first.pid} on `), refused);
    assert.match(refused, /DATABASE_URL/, "it points at the way to run several replicas");
    assert.equal((await fetch(`${first.url}/readyz`)).status, 200, "the holder is undisturbed");

    // A holder that dies without cleaning up leaves its lock; the next start sees it is stale.
    await stopChild(first, "SIGKILL");
    assert.ok(existsSync(lock));
    const next = await spawnServe({ args, env });
    started.push(next);
    assert.equal(JSON.parse(readFileSync(lock, "utf8")).pid, next.pid);
    assert.equal((await fetch(`${next.url}/readyz`)).status, 200);
    await stopChild(next);
    assert.equal(existsSync(lock), false, "a clean stop removes the lock");
  } finally {
    for (const s of started) await stopChild(s, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
