import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { hermeticEnv } from "../test-support/serve-child.ts";
import { DataDirInUse, lockDataDir } from "./data-dir-lock.ts";

const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();

function withFolder(fn: (dataDir: string) => Promise<void> | void) {
  return async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "modelgov-lockfile-"));
    try {
      await fn(path.join(dir, "pgdata"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const holder = (o: Partial<{ pid: number; host: string; boot: string }>) =>
  `${JSON.stringify({ pid: 1, host: hostname(), boot, since: "2026-01-01T00:00:00.000Z", ...o })}\n`;

test(
  "a live holder on this host keeps the folder; once it is gone the lock is taken over",
  withFolder(async (dataDir) => {
    const child = spawn("sleep", ["30"], { stdio: "ignore", env: hermeticEnv({}) });
    try {
      writeFileSync(`${dataDir}.lock`, holder({ pid: child.pid! }));
      assert.throws(
        () => lockDataDir(dataDir),
        (err) => err instanceof DataDirInUse && err.holder.pid === child.pid && err.message.includes(dataDir),
      );
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
    const release = lockDataDir(dataDir);
    assert.equal(JSON.parse(readFileSync(`${dataDir}.lock`, "utf8")).pid, process.pid);
    release();
    assert.throws(() => readFileSync(`${dataDir}.lock`), /ENOENT/);
  }),
);

test(
  "a lock from another host stands (its process cannot be checked); one from an earlier boot, or with this process's own pid, is stale",
  withFolder((dataDir) => {
    writeFileSync(`${dataDir}.lock`, holder({ pid: process.pid, host: "elsewhere" }));
    assert.throws(() => lockDataDir(dataDir), /in use by process \d+ on elsewhere/);
    writeFileSync(`${dataDir}.lock`, holder({ pid: process.ppid, boot: "an-earlier-boot" }));
    lockDataDir(dataDir)();
    writeFileSync(`${dataDir}.lock`, holder({ pid: process.pid }));
    lockDataDir(dataDir)();
    writeFileSync(`${dataDir}.lock`, "{not json");
    lockDataDir(dataDir)();
  }),
);
