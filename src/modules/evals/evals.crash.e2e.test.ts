import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { hermeticEnv } from "../../test-support/serve-child.ts";
import { migratedDataDir } from "../../test-support/store-templates.ts";

const BIN = new URL("../../../bin/modelgov.js", import.meta.url).pathname;
const ADMIN = `admin-${randomBytes(12).toString("hex")}`;
const dir = mkdtempSync(path.join(tmpdir(), "modelgov-eval-crash-"));
const children: ChildProcess[] = [];

/** `modelgov serve` with the demo on the embedded store in `dir`; resolves once it listens. */
function serve(): Promise<{ url: string; child: ChildProcess; logs: Record<string, unknown>[] }> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--data-dir", dir], {
    env: hermeticEnv({
      MODELGOV_LOG_LEVEL: "info",
      MODELGOV_ADMIN_TOKEN: ADMIN,
      // A dead runner's run is taken over after 2 s, not the default 30.
      MODELGOV_EVAL_LEASE_TTL_MS: "2000",
    }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("server did not start")), 60_000);
    let buf = "";
    child.stdout!.on("data", (d) => {
      buf += d;
      for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (entry.msg === "modelgov listening") {
            clearTimeout(timer);
            resolve({ url: entry.url as string, child, logs });
          }
        } catch {}
      }
    });
    child.on("exit", (code, signal) => reject(new Error(`server exited: ${code ?? signal}`)));
  });
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.removeAllListeners("exit");
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });

after(() => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("an evaluation run whose server is killed", () => {
  test("resumes on the restarted server without redoing or losing a case", async () => {
    await migratedDataDir(dir);
    const a = await serve();
    const api = (url: string, p: string, init: RequestInit = {}) =>
      fetch(`${url}/api/v1${p}`, {
        ...init,
        headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      });
    const cases = Array.from({ length: 200 }, (_, i) => ({
      id: `k${i}`,
      input: { messages: [{ role: "user", content: `ticket ${i}` }] },
      expect: { label: ["billing", "technical"][i % 2] },
      attributes: { age_band: ["18-29", "65+"][Math.floor(i / 2) % 2] },
    }));
    const started = await api(a.url, "/models/support-assistant/versions/1.0.0/evals", {
      method: "POST",
      body: JSON.stringify({ suite: { name: "crash", scorers: ["label"], cases }, concurrency: 16 }),
    });
    assert.equal(started.status, 201);
    const run = (await started.json()) as { id: string };
    for (let i = 0; i < 300; i++) {
      const r = (await (await api(a.url, `/evals/${run.id}`)).json()) as { done: number };
      if (r.done >= 40) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    await killed(a.child); // no shutdown: cases in flight are lost mid-call, the lease is left to expire

    // What the dead server recorded, read from its data folder.
    const pg = new PGlite(path.join(dir, "pgdata"));
    const before = (
      await pg.query<{ case_id: string }>("SELECT case_id FROM eval_case_results WHERE run_id = $1", [run.id])
    ).rows.map((r) => r.case_id);
    await pg.close();
    assert.ok(before.length >= 40 && before.length < 200, `${before.length} recorded before the kill`);

    const b = await serve();
    let final: { status: string; done: number; total: number } = { status: "running", done: 0, total: 0 };
    for (let i = 0; i < 600 && final.status === "running"; i++) {
      await new Promise((res) => setTimeout(res, 100));
      final = (await (await api(b.url, `/evals/${run.id}`)).json()) as typeof final;
    }
    assert.equal(final.status, "completed");
    assert.equal(final.done, 200);
    const page = (await (await api(b.url, `/evals/${run.id}/cases?limit=5000`)).json()) as {
      cases: { caseId: string; recordedAt: string }[];
    };
    assert.equal(new Set(page.cases.map((c) => c.caseId)).size, 200, "every case once");
    // The restarted runner recorded exactly the cases the dead one had not: none done twice.
    const completion = b.logs.find((l) => l.msg === "evaluation run completed" && l.run === run.id);
    assert.equal(completion?.started, 200 - before.length, JSON.stringify(completion));
    assert.equal(completion?.recorded, 200 - before.length, JSON.stringify(completion));
    await killed(b.child);
  });
});
