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

// Two files run at a time, so the run lasts at least as long as its longest file: the long ones
// (the browser tests, then the other end-to-end suites, each a minute or more) start first and
// the many short ones fill in beside them, instead of one of them starting last, alone.
const rank = (f) => (f.startsWith("console/") && f.includes(".e2e.") ? 0 : f.includes(".e2e.") ? 1 : 2);
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
