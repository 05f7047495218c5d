import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import {
  FORMAT_PAGES,
  fieldRows,
  parseExample,
  REFERENCE_DIR,
  referencePages,
} from "../scripts/reference-doc.ts";
import { parseGroups } from "./modules/gateway/http/chat/index.ts";
import { GATEWAY_REQUEST_HEADERS } from "./modules/gateway/http/headers.ts";

const root = path.join(import.meta.dirname, "..");
const dir = path.join(root, REFERENCE_DIR);

describe("docs/reference/", () => {
  const pages = referencePages();

  test("every page is current (npm run gen:reference regenerates them)", () => {
    for (const [name, expected] of pages) {
      const file = path.join(dir, name);
      assert.ok(existsSync(file), `${REFERENCE_DIR}/${name} is missing: run \`npm run gen:reference\``);
      assert.equal(
        readFileSync(file, "utf8"),
        expected,
        `${REFERENCE_DIR}/${name} is stale: run \`npm run gen:reference\``,
      );
    }
    const extra = readdirSync(dir).filter((n) => n.endsWith(".md") && !pages.has(n));
    assert.deepEqual(extra, [], "pages nothing generates: run `npm run gen:reference`");
  });

  test("the index links every page", () => {
    const index = pages.get("README.md")!;
    for (const name of pages.keys()) if (name !== "README.md") assert.ok(index.includes(`](${name})`), name);
  });

  for (const p of FORMAT_PAGES) {
    test(`${p.file}: the worked example is valid for the real schema`, () => {
      assert.doesNotThrow(() => p.check(parseExample(p)));
    });

    test(`${p.file}: every field has a description`, () => {
      const rows = fieldRows(p.schema, p.collapse);
      assert.ok(rows.length >= 3, `only ${rows.length} fields`);
      assert.deepEqual(
        rows.filter((r) => !r.description).map((r) => r.name),
        [],
        "add .describe() to these fields in the schema, then run `npm run gen:reference`",
      );
    });
  }

  test("a worked example that breaks its schema is caught", () => {
    const version = FORMAT_PAGES.find((p) => p.file === "version-file.md")!;
    // YAML reads an unquoted 1.6 as a number: the check names the field.
    const broken = { ...(parseExample(version) as object), version: 1.6 };
    assert.throws(() => version.check(broken), /version/);
    const simulator = { ...(parseExample(version) as object), parameters: { errorRate: 2 } };
    assert.throws(() => version.check(simulator), /errorRate/);
  });

  test("the gateway reads no request header the reference leaves out", () => {
    const http = path.join(root, "src/modules/gateway/http");
    const read = new Set<string>();
    for (const f of readdirSync(http).filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
      const text = readFileSync(path.join(http, f), "utf8");
      for (const m of text.matchAll(/req\.headers\[["']([a-z0-9-]+)["']\]|req\.headers\.([a-z]+)\b/g))
        read.add((m[1] ?? m[2])!);
    }
    assert.ok(read.has("x-modelgov-groups"), `found ${[...read].join(", ")}`);
    const documented = new Set(GATEWAY_REQUEST_HEADERS.map((h) => h.name));
    assert.deepEqual(
      [...read].filter((h) => !documented.has(h)),
      [],
      "describe these in src/modules/gateway/http/headers.ts, then run `npm run gen:reference`",
    );
  });

  test("the x-modelgov-groups example is read as the groups it shows", () => {
    const groups = GATEWAY_REQUEST_HEADERS.find((h) => h.name === "x-modelgov-groups")!;
    assert.deepEqual(parseGroups(groups.example), { age_band: "65+", language: "de" });
  });

  test("environment.md gives the gateway's default rate limit and the variables that change it", () => {
    const env = pages.get("environment.md")!;
    assert.match(env, /\| \[`MODELGOV_GATEWAY_RATE_PER_SEC`\]\([^)]*\) \| `10` \| server \|/);
    assert.match(env, /\| \[`MODELGOV_GATEWAY_RATE_BURST`\]\([^)]*\) \| `20` \| server \|/);
    assert.match(env, /## `MODELGOV_PORT`\n\n[^\n]+\n\n- type: integer \(0–65535\)\n- default: `7070`/);
  });
});
