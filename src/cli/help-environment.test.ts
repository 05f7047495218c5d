import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { ENVIRONMENT, type EnvScope, type EnvVariable } from "../lib/environment.ts";
import { runCli } from "./main.ts";

async function help(...argv: string[]) {
  const out: string[] = [];
  const code = await runCli(argv, { io: { out: (s) => out.push(s), err: (s) => out.push(s) }, env: {} });
  return { code, text: out.join("\n") };
}

const inScope = (scope: EnvScope) =>
  (ENVIRONMENT as readonly EnvVariable[]).filter((v) => v.scope.includes(scope));

for (const [argv, scope] of [
  [["serve", "--help"], "server"],
  [["migrate", "--help"], "migrate"],
  [["--help"], "cli"],
] as const)
  test(`modelgov ${argv.join(" ")} names every ${scope} variable with its default and meaning`, async () => {
    const { code, text } = await help(...argv);
    assert.equal(code, 0);
    const vars = inScope(scope);
    assert.ok(vars.length >= (scope === "server" ? 30 : 3), `${vars.length} ${scope} variables`);
    for (const v of vars) {
      const line = text.split("\n").find((l) => l.trimStart().startsWith(`${v.name} `));
      assert.ok(line, `${v.name} is missing from the help`);
      assert.ok(line.includes(v.description), `${v.name}: its meaning`);
    }
    assert.match(text, /docs\/reference\/environment\.md/);
  });

test("serve --help shows the gateway's default rate limit and the variables that change it", async () => {
  const { text } = await help("serve", "--help");
  assert.match(text, /MODELGOV_GATEWAY_RATE_PER_SEC\s+10\s/);
  assert.match(text, /MODELGOV_GATEWAY_RATE_BURST\s+20\s/);
  assert.match(text, /MODELGOV_PORT\s+7070\s/);
  assert.doesNotMatch(text, /MODELGOV_TOKEN/, "a CLI variable is not the server's");
});

test("the commands that read a file point to its reference page, and the page exists", async () => {
  for (const [argv, page] of [
    [["versions", "register", "--help"], "version-file.md"],
    [["approvals", "policy", "set", "--help"], "approval-policy.md"],
    [["apply", "--help"], "modelgov-yaml.md"],
    [["eval", "run", "--help"], "eval-suite.md"],
  ] as const) {
    const { code, text } = await help(...argv);
    assert.equal(code, 0, argv.join(" "));
    assert.match(
      text.replace(/\s+/g, " "),
      new RegExp(`docs/reference/${page.replace(".", "\\.")}`),
      argv.join(" "),
    );
    assert.ok(existsSync(new URL(`../../docs/reference/${page}`, import.meta.url)), page);
  }
});
