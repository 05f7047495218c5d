import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { ConfigSchema, loadConfig } from "./config.ts";
import { ENVIRONMENT, type EnvVariable } from "./lib/environment.ts";

const root = path.join(import.meta.dirname, "..");
const described = new Set<string>(ENVIRONMENT.map((v) => v.name));

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist" || entry.name.startsWith(".")) continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) sources(p, out);
    else if (/\.(ts|tsx|mjs|js)$/.test(entry.name)) out.push(p);
  }
  return out;
}

describe("environment variables (lib/environment.ts)", () => {
  test("every MODELGOV_* name the code mentions is described (MODELGOV_TEST_* knobs aside)", () => {
    const files = ["src", "console", "scripts", "bin"].flatMap((d) => sources(path.join(root, d)));
    assert.ok(files.length > 100, `found only ${files.length} source files`);
    const texts = files.map((f) => [path.relative(root, f), readFileSync(f, "utf8")] as const);
    // Constants named MODELGOV_* (e.g. MODELGOV_ONLY_PARAMETERS) are code, not variables.
    const identifiers = new Set(
      texts.flatMap(([, t]) =>
        [...t.matchAll(/\b(?:const|let|var|function|class)\s+(MODELGOV_[A-Z0-9_]+)/g)].map((m) => m[1]!),
      ),
    );
    const missing = new Map<string, string>();
    for (const [file, text] of texts)
      for (const [name] of text.matchAll(/\bMODELGOV_[A-Z0-9_]*[A-Z0-9]\b/g))
        if (!name.startsWith("MODELGOV_TEST_") && !identifiers.has(name) && !described.has(name))
          missing.set(name, file);
    assert.deepEqual(
      Object.fromEntries(missing),
      {},
      "describe these in src/lib/environment.ts, then run `npm run gen:reference`",
    );
  });

  test("every Config key is set by a described variable", () => {
    const keys = new Set(ENVIRONMENT.flatMap((v) => ("key" in v ? [v.key as string] : [])));
    assert.deepEqual(
      Object.keys(ConfigSchema.shape).filter((k) => !keys.has(k)),
      [],
    );
  });

  test("the defaults described are the ones loadConfig applies", () => {
    const config = loadConfig({}, {}) as Record<string, unknown>;
    const checked: string[] = [];
    for (const v of ENVIRONMENT as readonly EnvVariable[]) {
      if (v.default === undefined || !v.key) continue;
      // The variable set to its documented default reads as the variable unset (a value the
      // config parses, such as the gateway's body policy, compares parsed).
      const explicit = loadConfig({}, { [v.name]: String(v.default) }) as Record<string, unknown>;
      assert.deepEqual(config[v.key], explicit[v.key], `${v.name}: documented default`);
      checked.push(v.name);
    }
    assert.ok(checked.length >= 20, `checked only ${checked.length} defaults`);
    // Described as "unset" rather than with a value: loadConfig leaves them out or off.
    assert.equal(config.demo, true, "MODELGOV_NO_DEMO unset: demo on");
    assert.equal(config.databaseUrl, undefined);
  });

  test("every example is a value loadConfig accepts", () => {
    for (const v of ENVIRONMENT as readonly EnvVariable[]) {
      if (!v.name.startsWith("MODELGOV_") && v.name !== "DATABASE_URL") continue;
      assert.doesNotThrow(() => loadConfig({}, { [v.name]: v.example }), `${v.name}=${v.example}`);
    }
    const c = loadConfig({}, { MODELGOV_GATEWAY_RATE_PER_SEC: "100", MODELGOV_NO_DEMO: "1" });
    assert.equal(c.gatewayRateLimitPerSec, 100);
    assert.equal(c.demo, false);
  });

  test("a bad value is refused naming the setting and the variable it came from", () => {
    assert.throws(
      () => loadConfig({}, { MODELGOV_GATEWAY_RATE_PER_SEC: "-1", MODELGOV_METRICS: "sometimes" }),
      (err: Error) =>
        /gatewayRateLimitPerSec: .* \(MODELGOV_GATEWAY_RATE_PER_SEC\)/.test(err.message) &&
        /metrics: .* \(MODELGOV_METRICS\)/.test(err.message),
    );
    // serve passes every flag, unset ones as undefined: the variable is still named.
    assert.throws(
      () => loadConfig({ host: undefined, port: undefined }, { MODELGOV_PORT: "70000" }),
      /port: .* \(MODELGOV_PORT\)/,
    );
    // A flag's value is not blamed on the variable.
    assert.throws(
      () => loadConfig({ port: 70_000 }, {}),
      (err: Error) => /port: /.test(err.message) && !/MODELGOV_PORT/.test(err.message),
    );
  });

  test("every variable has a one-line description, an example and a scope", () => {
    for (const v of ENVIRONMENT as readonly EnvVariable[]) {
      assert.match(v.description, /^\S.{10,}$/, `${v.name}: description`);
      assert.doesNotMatch(v.description, /\n/, `${v.name}: one line`);
      assert.ok(v.example.length > 0, `${v.name}: example`);
      assert.ok(v.scope.length > 0, `${v.name}: scope`);
      assert.ok(v.default !== undefined || v.defaultText, `${v.name}: a default, or what unset means`);
    }
  });
});
