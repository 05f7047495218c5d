import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { runCli } from "./main.ts";

async function script(shell: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["completion", shell], {
    io: { out: (s) => out.push(s), err: (s) => err.push(s) },
    env: {},
  });
  return { code, text: `${out.join("\n")}\n`, err: err.join("\n") };
}

const dir = mkdtempSync(path.join(tmpdir(), "modelgov-completion-"));
/** A fixed PATH: tests do not read the caller's environment (test-env.test.ts). */
const PATH = "/usr/local/bin:/usr/bin:/bin";
const has = (bin: string) => spawnSync(bin, ["-c", "exit 0"], { env: { PATH } }).status === 0;

describe("modelgov completion", () => {
  test("bash: sourced in bash, completes commands, subcommands and options from the tree", async () => {
    const { code, text } = await script("bash");
    assert.equal(code, 0);
    const file = path.join(dir, "modelgov.bash");
    writeFileSync(file, text);
    /** What bash offers for the words, the last one being the word under the cursor. */
    const complete = (...words: string[]) => {
      const array = words.map((w) => `'${w}'`).join(" ");
      const out = execFileSync(
        "bash",
        [
          "--norc",
          "--noprofile",
          "-c",
          `source "$1"; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _modelgov; printf '%s\\n' "\${COMPREPLY[@]}"`,
          "bash",
          file,
        ],
        { encoding: "utf8", env: { PATH } },
      );
      return out.split("\n").filter(Boolean).sort();
    };
    assert.deepEqual(complete("modelgov", "fl"), ["flags"]);
    assert.deepEqual(complete("modelgov", "flags", "s"), ["set", "sign"]);
    assert.deepEqual(complete("modelgov", "approvals", "policy", ""), ["get", "set"]);
    // The program's options are skipped, with the value of one that takes a value.
    assert.deepEqual(complete("modelgov", "--json", "--url", "http://x", "flags", "s"), ["set", "sign"]);
    assert.deepEqual(complete("modelgov", "--url=http://x", "fl"), ["flags"]);
    // An option's value is never a command, even one spelled like a command.
    assert.ok(complete("modelgov", "--url", "flags", "").includes("models"));
    // The value itself: files (bash's default), not the options.
    assert.ok(!complete("modelgov", "models", "list", "--owner", "").includes("--risk-tier"));
    // Options: the command's own, --help, and the program's; an argument does not move the path.
    const opts = complete("modelgov", "alias", "set", "m", "--");
    for (const o of ["--reason", "--help", "--json", "--url"]) assert.ok(opts.includes(o), `${o} in ${opts}`);
    assert.ok(!opts.includes("--owner"), "only this command's options");
    assert.deepEqual(complete("modelgov", "models", "create", "x", "--risk-tier", "low", "--o"), ["--owner"]);
    // A leaf command with no subcommands offers its options even before a dash.
    assert.ok(complete("modelgov", "models", "list", "").includes("--risk-tier"));
    // The values an argument or an option names.
    const shells = complete("modelgov", "completion", "");
    assert.deepEqual(
      shells.filter((w) => !w.startsWith("-")),
      ["bash", "fish", "zsh"],
    );
    assert.ok(shells.includes("--json"), "options too");
    assert.deepEqual(complete("modelgov", "retraining", "dataset", "t1", "--format", ""), [
      "openai-jsonl",
      "suite",
    ]);
    assert.ok(text.includes("complete -o default -F _modelgov modelgov"));
  });

  /** The script for a shell, saved, parse-checked by the shell (`-n`); null when it is absent. */
  async function checked(t: { skip(reason: string): void }, shell: "zsh" | "fish") {
    const { code, text } = await script(shell);
    assert.equal(code, 0);
    for (const c of ["models", "flags", "approvals", "completion"]) assert.ok(text.includes(c), c);
    if (!has(shell)) {
      t.skip(`${shell} is not installed here: the script is neither parsed nor run`);
      return null;
    }
    const file = path.join(dir, `modelgov.${shell}`);
    writeFileSync(file, text);
    const parse = spawnSync(shell, ["-n", file], { encoding: "utf8", env: { PATH } });
    assert.equal(parse.status, 0, parse.stderr);
    return file;
  }
  const lines = (out: string) => out.split("\n").filter(Boolean).sort();
  const env = { PATH, HOME: dir };

  test("zsh: parsed by zsh; its _modelgov offers what the path allows", async (t) => {
    const file = await checked(t, "zsh");
    if (!file) return;
    // compadd is the completion system's; a stand-in prints the candidates (zsh filters by prefix).
    const offered = (...words: string[]) =>
      lines(
        execFileSync(
          "zsh",
          [
            "-f",
            "-c",
            `compdef() {}; source "$1"; compadd() { shift; print -l -- "$@" }; words=(${words.map((w) => `'${w}'`).join(" ")}); CURRENT=${words.length}; _modelgov`,
            "zsh",
            file,
          ],
          { encoding: "utf8", env },
        ),
      );
    assert.ok(offered("modelgov", "flags", "s").includes("sign"));
    assert.ok(!offered("modelgov", "flags", "s").includes("models"));
    assert.deepEqual(offered("modelgov", "--url", "flags", "approvals", "policy", ""), ["get", "set"]);
    assert.ok(offered("modelgov", "alias", "set", "m", "--r").includes("--reason"));
    assert.deepEqual(offered("modelgov", "retraining", "dataset", "t1", "--format", ""), [
      "openai-jsonl",
      "suite",
    ]);
    assert.ok(offered("modelgov", "completion", "").includes("zsh"));
  });

  test("fish: parsed by fish; complete -C answers with commands, descriptions and options", async (t) => {
    const file = await checked(t, "fish");
    if (!file) return;
    const complete = (line: string) =>
      lines(
        execFileSync("fish", ["--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, file, line], {
          encoding: "utf8",
          env,
        }),
      );
    assert.deepEqual(
      complete("modelgov flags s").map((l) => l.split("\t")[0]),
      ["set", "sign"],
    );
    assert.match(complete("modelgov fl")[0]!, /^flags\tfeature flags/);
    assert.deepEqual(
      complete("modelgov --url flags fl").map((l) => l.split("\t")[0]),
      ["flags"],
    );
    assert.deepEqual(
      complete("modelgov alias set m --r").map((l) => l.split("\t")[0]),
      ["--reason"],
    );
    const first = (line: string) => complete(line).map((l) => l.split("\t")[0]);
    assert.deepEqual(first("modelgov completion "), ["bash", "fish", "zsh"]);
    assert.deepEqual(first("modelgov retraining dataset t1 --format "), ["openai-jsonl", "suite"]);
  });

  test("an unknown shell is a usage error", async () => {
    const r = await script("powershell");
    assert.equal(r.code, 2);
    assert.match(r.err, /Allowed choices are bash, zsh, fish/);
  });
});
