import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// The engines' tests pin their values to reference/stats-vectors.json, a copy of the published
// reference values kept in the repository so a clone anywhere can run them. reference/SHA256SUMS
// records the published file's digest (`sha256sum -c SHA256SUMS` checks it by hand): a copy
// edited to make a test pass no longer matches it, wherever the checkout sits.
const referenceDir = fileURLToPath(new URL("../../reference/", import.meta.url));
const enginesDir = fileURLToPath(new URL("./", import.meta.url));

function manifest(): Map<string, string> {
  const lines = readFileSync(path.join(referenceDir, "SHA256SUMS"), "utf8").trim().split("\n");
  return new Map(
    lines.map((line) => {
      const m = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line);
      assert.ok(m, `SHA256SUMS: not a sha256sum line: ${line}`);
      return [m[2]!, m[1]!];
    }),
  );
}

const sha256 = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");
type Case = { id?: unknown; source?: unknown };
const vectors = () =>
  JSON.parse(readFileSync(path.join(referenceDir, "stats-vectors.json"), "utf8")) as Record<string, unknown>;

test("every reference file is the published one: its SHA-256 is the one recorded in SHA256SUMS", () => {
  const sums = manifest();
  const files = readdirSync(referenceDir).filter((f) => f !== "SHA256SUMS");
  assert.deepEqual([...sums.keys()].sort(), files.sort(), "SHA256SUMS lists exactly the reference files");
  for (const [file, digest] of sums)
    assert.equal(sha256(path.join(referenceDir, file)), digest, `${file} differs from the published file`);
});

test("every reference case has a unique id and names its published source", () => {
  const ids = new Set<string>();
  for (const [group, cases] of Object.entries(vectors())) {
    if (group === "about") continue;
    assert.ok(Array.isArray(cases) && cases.length > 0, `${group}: a list of cases`);
    for (const c of cases as Case[]) {
      assert.ok(typeof c.id === "string" && c.id, `${group}: a case without an id`);
      assert.ok(!ids.has(c.id), `${group}: case id ${c.id} used twice`);
      ids.add(c.id);
      assert.ok(typeof c.source === "string" && c.source, `${group}/${c.id}: no source named`);
    }
  }
});

test("every group of reference cases is read by an engine test", () => {
  const tests: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".test.ts") && p !== fileURLToPath(import.meta.url))
        tests.push(readFileSync(p, "utf8"));
    }
  };
  walk(enginesDir);
  for (const group of Object.keys(vectors()).filter((g) => g !== "about"))
    assert.ok(
      tests.some((t) => new RegExp(`\\.${group}\\b`).test(t)),
      `no engine test reads the '${group}' cases: values pinned nowhere`,
    );
});

// Where the workspace's original sits in a folder above the checkout (shared/reference), the
// copy must also equal it byte for byte; a clone elsewhere has only the digest above.
const original = (() => {
  for (let dir = path.resolve(referenceDir, "../.."); ; dir = path.dirname(dir)) {
    const f = path.join(dir, "shared", "reference", "stats-vectors.json");
    if (existsSync(f)) return f;
    if (path.dirname(dir) === dir) return null;
  }
})();

test("the copy equals the workspace's published original", {
  skip: original ? false : "no shared/reference/stats-vectors.json above this checkout",
}, () => {
  assert.equal(
    sha256(path.join(referenceDir, "stats-vectors.json")),
    sha256(original!),
    `reference/stats-vectors.json differs from ${original}`,
  );
});
