import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { hermeticEnv } from "./serve-child.ts";
import { checkBrowser, DEFAULT_CHROMIUM, TEST_KNOBS } from "./test-env.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function files(dir: string, keep: (name: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) files(p, keep, out);
    else if (keep(name)) out.push(p);
  }
  return out;
}

describe("the test suite does not depend on the caller's environment", () => {
  test("a child started with hermeticEnv sees none of the caller's modelgov settings", () => {
    const polluted = {
      MODELGOV_ADMIN_TOKEN: "from-the-callers-shell",
      MODELGOV_LOG_LEVEL: "debug",
      DATABASE_URL: "postgres://caller@elsewhere/db",
    };
    const saved = Object.fromEntries(Object.keys(polluted).map((k) => [k, process.env[k]]));
    Object.assign(process.env, polluted);
    let env: NodeJS.ProcessEnv;
    try {
      env = hermeticEnv({ MODELGOV_LOG_LEVEL: "info" });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    const r = spawnSync(
      process.execPath,
      [
        "-e",
        "console.log(JSON.stringify(Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('MODELGOV_') || k === 'DATABASE_URL'))))",
      ],
      { env, encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { MODELGOV_LOG_LEVEL: "info" });
  });

  // Static, so that it covers every test file, including those that would only misbehave
  // under a polluted shell: each read of process.env names a test knob, and the caller's
  // environment is copied to a child only through hermeticEnv.
  const sources = [
    ...files(path.join(ROOT, "src"), (n) => /\.test\.tsx?$/.test(n)),
    ...files(path.join(ROOT, "console"), (n) => /\.test\.tsx?$/.test(n)),
    ...files(path.join(ROOT, "src/test-support"), (n) => n.endsWith(".ts")),
  ];
  // The fuzz test's FUZZ_SEED / FUZZ_SCALE / FUZZ_VERBOSE replay or widen a run (src/http/fuzz.test.ts).
  const allowed = (name: string) => name in TEST_KNOBS || name.startsWith("FUZZ_");

  test("tests read only the test knobs from process.env", () => {
    const offending: string[] = [];
    for (const f of sources) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/process\.env(?:\.([A-Za-z_]\w*)|\[\s*["'`]([^"'`]+)["'`]\s*\])?/g)) {
        const name = m[1] ?? m[2];
        const rel = path.relative(ROOT, f);
        // Reading the whole environment is hermeticEnv's job (it filters) and the knobs' reader's.
        if (!name) {
          if (
            ![
              "src/test-support/serve-child.ts",
              "src/test-support/test-env.ts",
              "src/test-support/test-env.test.ts",
            ].includes(rel)
          )
            offending.push(`${rel}: process.env as a whole`);
          continue;
        }
        if (!allowed(name) && rel !== "src/test-support/test-env.test.ts") offending.push(`${rel}: ${name}`);
      }
    }
    assert.deepEqual(offending, []);
  });

  test("every child process a test starts is given its environment (none inherits the caller's)", () => {
    const offending: string[] = [];
    for (const f of sources) {
      const text = readFileSync(f, "utf8");
      for (const m of text.matchAll(/(?<![.\w])(spawn|spawnSync|fork|execSync|execFile|execFileSync)\(/g)) {
        // The call's arguments, up to its closing parenthesis.
        let depth = 0;
        let end = m.index + m[0].length - 1;
        for (; end < text.length; end++) {
          if (text[end] === "(") depth++;
          else if (text[end] === ")" && --depth === 0) break;
        }
        const call = text.slice(m.index, end + 1);
        if (!/\benv\b/.test(call)) offending.push(`${path.relative(ROOT, f)}: ${call.split("\n")[0]}`);
      }
    }
    assert.deepEqual(offending, []);
  });

  test("the knobs only choose what runs: a missing browser is a skip saying how to get one, or under CI a failure", () => {
    const missing = "/nonexistent/chromium-for-the-skip-path";
    const skipped = checkBrowser({ MODELGOV_TEST_CHROMIUM: missing });
    assert.equal(skipped.failure, undefined);
    assert.match(skipped.skip ?? "", /no browser at \/nonexistent\/chromium-for-the-skip-path/);
    assert.match(skipped.skip ?? "", /apt-get install chromium/);
    assert.match(skipped.skip ?? "", /MODELGOV_TEST_CHROMIUM/);

    const required = checkBrowser({ MODELGOV_TEST_CHROMIUM: missing, MODELGOV_TEST_REQUIRE_BROWSER: "1" });
    assert.match(required.failure ?? "", /MODELGOV_TEST_REQUIRE_BROWSER=1 and no browser at/);

    // Present: no skip, whatever the requirement (process.execPath stands in for an executable).
    assert.deepEqual(
      checkBrowser({ MODELGOV_TEST_CHROMIUM: process.execPath, MODELGOV_TEST_REQUIRE_BROWSER: "1" }),
      {
        executablePath: process.execPath,
      },
    );
    assert.equal(checkBrowser({}).executablePath, DEFAULT_CHROMIUM);
  });
});
