#!/usr/bin/env node
// Node 20's `node --test` takes no globs: find the test files, then hand them over.
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

// Two files run at a time. The longest, the browser tests (a demo rollout inside, 2-3 minutes),
// starts first, so the others fill in beside it instead of it starting last, alone. The other
// demo rollout (demo-rollout.e2e) starts last, when the browser tests are long done: two demo
// rollouts at once (40 simulated clients each) starve each other on 2 cores, and both missed
// their deadlines when they were run side by side.
const rank = (f) =>
  f.startsWith("console/") && f.includes(".e2e.") ? 0 : f.endsWith("demo/rollout.e2e.test.ts") ? 2 : 1;
const filters = process.argv.slice(2);
const files = [...find("src"), ...find("console")]
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}
/**
 * The caller's environment without modelgov's own settings (MODELGOV_*, DATABASE_URL): a shell
 * set up to run modelgov must not change what the tests see. The test knobs (MODELGOV_TEST_*,
 * src/test-support/test-env.ts) pass through.
 */
function testEnv() {
  const env = { MODELGOV_LOG_LEVEL: "silent" };
  for (const [k, v] of Object.entries(process.env))
    if ((!k.startsWith("MODELGOV_") || k.startsWith("MODELGOV_TEST_")) && k !== "DATABASE_URL") env[k] = v;
  return env;
}

const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files],
  {
    stdio: "inherit",
    env: testEnv(),
  },
);
process.exit(r.status ?? 1);
