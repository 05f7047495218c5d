// The Dockerfile checked without a Docker engine: its stages, what each copies and runs, the
// user and the command, and that .dockerignore lets the build see what it needs.

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { containersOf, podSpecOf, renderKustomization } from "./test-support/kustomize.ts";
import { deploy, one, root } from "./test-support/manifests.ts";

describe("Dockerfile", () => {
  const text = readFileSync(path.join(root, "Dockerfile"), "utf8");
  // Instructions, with continuation lines joined and comments left out.
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const stages: { name: string; lines: string[] }[] = [];
  for (const l of lines) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?$/i.exec(l);
    if (from) stages.push({ name: from[1] ?? String(stages.length), lines: [] });
    else stages.at(-1)?.lines.push(l);
  }
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const ignored = readFileSync(path.join(root, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  test("multi-stage: build and pack; install the packed package without dev dependencies; the runtime copies only that", () => {
    assert.deepEqual(
      stages.map((x) => x.name),
      ["build", "package", "runtime"],
    );
    const runs = (stage: { lines: string[] }) => stage.lines.filter((l) => l.startsWith("RUN")).join("\n");
    const copies = (stage: { lines: string[] }) => stage.lines.filter((l) => /^(COPY|ADD)\b/.test(l));
    assert.match(runs(build), /npm ci\b/);
    assert.match(runs(build), /npm run build\b/);
    assert.match(runs(build), /npm pack\b/);
    // The package stage takes the tarball and the lockfile from the build, nothing else.
    const pack = stages[1]!;
    assert.deepEqual(copies(pack), ["COPY --from=build /pkg/modelgov.tgz /pkg/package-lock.json /tmp/"]);
    assert.match(runs(pack), /tar xzf \/tmp\/modelgov\.tgz/);
    assert.match(runs(pack), /npm ci --omit=dev\b/);
    assert.doesNotMatch(runs(pack), /npm run\b|npm install\b|tsc\b/);
    // The runtime: only the installed package, and no npm step at all.
    assert.deepEqual(copies(runtime), ["COPY --from=package /opt/modelgov /opt/modelgov"]);
    assert.doesNotMatch(runs(runtime), /\bnpm\b|\bnpx\b|tsc\b/);
    assert.match(
      runs(runtime),
      new RegExp(`ln -s /opt/modelgov/${pkg.bin.modelgov} /usr/local/bin/modelgov`),
    );
  });

  test("the runtime runs as a non-root user, and its command runs the package's bin: serve", () => {
    const users = runtime.lines.filter((l) => l.startsWith("USER"));
    assert.equal(users.length, 1);
    const user = users[0]!.split(/\s+/)[1]!.split(":")[0]!;
    assert.ok(!["root", "0"].includes(user), user);
    assert.ok(runtime.lines.indexOf(users[0]!) > runtime.lines.findLastIndex((l) => l.startsWith("RUN")));
    const exec = (instruction: string) => {
      const l = runtime.lines.find((x) => x.startsWith(`${instruction} `));
      return l ? (JSON.parse(l.slice(instruction.length + 1)) as string[]) : [];
    };
    const command = [...exec("ENTRYPOINT"), ...exec("CMD")];
    assert.deepEqual(command, [Object.keys(pkg.bin)[0], "serve"]);
    const deployment = one(renderKustomization(path.join(deploy, "base")), "Deployment");
    const uid = Number(user);
    assert.equal(
      podSpecOf(deployment)!.securityContext.runAsUser,
      uid,
      "the manifests run as the image's user",
    );
    const port = runtime.lines.find((l) => l.startsWith("EXPOSE"))!.split(/\s+/)[1];
    assert.equal(Number(port), containersOf(deployment)[0]!.ports[0].containerPort);
  });

  test("what the build stage copies exists and is not ignored; what it must not copy is ignored", () => {
    for (const l of build.lines.filter((x) => x.startsWith("COPY") && !x.includes("--from"))) {
      const sources = l.split(/\s+/).slice(1, -1);
      for (const s of sources) {
        assert.ok(existsSync(path.join(root, s)), `${s} exists`);
        assert.ok(!ignored.includes(s), `${s} is not in .dockerignore`);
      }
    }
    for (const needed of [
      "src",
      "bin",
      "schema",
      "console",
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      // dist is what the build makes, not what it copies.
      ...pkg.files.filter((f: string) => f !== "dist"),
    ])
      assert.ok(
        !ignored.some((p) => p === needed || needed.startsWith(`${p}/`)),
        `${needed} reaches the build`,
      );
    for (const kept of ["node_modules", ".git", ".modelgov", "dist", ".env"])
      assert.ok(ignored.includes(kept), kept);
  });
});
