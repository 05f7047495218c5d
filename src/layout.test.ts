import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";

/** The shipped sources: what `npm run build` compiles (tsconfig.build.json leaves tests and test-support out). */
function shippedSources(dir = path.join(import.meta.dirname)): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "test-support") out.push(...shippedSources(p));
    } else if (/\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name)) out.push(p);
  }
  return out;
}

test("shipped code imports no test kit and no node:assert (the build's dist holds no test code)", () => {
  const files = shippedSources();
  assert.ok(files.length > 100, `found only ${files.length} shipped source files`);
  const offenders = files.filter((f) =>
    /from "(node:assert[^"]*|[^"]*test-support\/[^"]*)"/.test(readFileSync(f, "utf8")),
  );
  assert.deepEqual(
    offenders.map((f) => path.relative(process.cwd(), f)),
    [],
  );
});

test("the source root holds only the entry points: features live in their folders", () => {
  const root = readdirSync(import.meta.dirname).filter((n) => /\.ts$/.test(n) && !/\.test\.ts$/.test(n));
  assert.deepEqual(root.sort(), ["config.ts", "index.ts", "main.ts", "services.ts"]);
});
