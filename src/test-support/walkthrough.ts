import { execFileSync } from "node:child_process";
import { hermeticEnv } from "./serve-child.ts";

/**
 * The README's runnable parts, and a small shell to run them. Fenced blocks right after a
 * `<!-- walkthrough -->` comment run, in order, as a reader would type them; every other
 * block and inline `modelgov …` span is only parsed (see readme.e2e.test.ts).
 */

export interface Block {
  lang: string;
  /** 1-based line of the README where the block's first line is. */
  line: number;
  lines: string[];
}

/** The fenced blocks of a Markdown text, each marked or not by `<!-- walkthrough -->` just before it. */
export function fencedBlocks(markdown: string): (Block & { walkthrough: boolean })[] {
  const lines = markdown.split("\n");
  const out: (Block & { walkthrough: boolean })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!);
    if (!open) continue;
    const walkthrough = i > 0 && lines[i - 1]!.trim() === "<!-- walkthrough -->";
    const start = i + 1;
    while (++i < lines.length && !lines[i]!.startsWith("```"));
    out.push({ lang: open[1]!, line: start + 1, lines: lines.slice(start, i), walkthrough });
  }
  return out;
}

/** Inline code spans that are modelgov commands (the README's tables and prose). */
export function inlineCommands(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "");
  return [...prose.matchAll(/`(modelgov [^`]+)`/g)].map((m) => m[1]!);
}

export type Word = string;

/**
 * Splits one shell line into words: '…' and "…" quoting, `#` comments, `$NAME` / `${NAME}`
 * and `$(…)` expansion (the latter through `substitute`). Only what the README uses; anything
 * else (pipes, redirections, globs, `&&`) is refused rather than misread.
 */
export async function words(
  line: string,
  vars: Record<string, string>,
  substitute: (command: string) => Promise<string>,
): Promise<{ words: Word[]; comment: string }> {
  const out: Word[] = [];
  let cur: string | null = null;
  let i = 0;
  const add = (s: string) => {
    cur = (cur ?? "") + s;
  };
  const expand = async (): Promise<string> => {
    // at line[i] === "$"
    if (line[i + 1] === "(") {
      let depth = 0;
      let j = i + 1;
      for (; j < line.length; j++) {
        if (line[j] === "(") depth++;
        else if (line[j] === ")" && --depth === 0) break;
      }
      if (j >= line.length) throw new Error(`unclosed $( in: ${line}`);
      const inner = line.slice(i + 2, j);
      i = j + 1;
      return substitute(inner);
    }
    const m = /^\$(?:\{(\w+)\}|(\w+))/.exec(line.slice(i));
    if (!m) throw new Error(`a lone $ in: ${line}`);
    const name = (m[1] ?? m[2])!;
    if (!(name in vars)) throw new Error(`$${name} is not set (an earlier line should set it): ${line}`);
    i += m[0].length;
    return vars[name]!;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      if (cur !== null) out.push(cur);
      cur = null;
      i++;
    } else if (c === "#" && cur === null) {
      return { words: out, comment: line.slice(i + 1).trim() };
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      add(line.slice(i + 1, end));
      i = end + 1;
    } else if (c === '"') {
      add("");
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === "$") add(await expand());
        else if (line[i] === "\\" && /["\\$`]/.test(line[i + 1] ?? "")) {
          add(line[i + 1]!);
          i += 2;
        } else add(line[i++]!);
      }
      if (i >= line.length) throw new Error(`unclosed " in: ${line}`);
      i++;
    } else if (c === "$") {
      add(await expand());
    } else if (/[|&;<>`]/.test(c)) {
      throw new Error(`the walkthrough shell does not take '${c}': ${line}`);
    } else {
      add(c);
      i++;
    }
  }
  if (cur !== null) out.push(cur);
  return { words: out, comment: "" };
}

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

export interface Shell {
  vars: Record<string, string>;
  /** Runs one line; returns what the command printed, or null for a line with nothing to run. */
  run(line: string): Promise<(RunResult & { comment: string; argv: string[] }) | null>;
}

/**
 * A shell for the README's lines. `modelgov` runs in-process (`modelgov(argv, env)`), `node`
 * as a child; the commands in `skip` are stood in for by the test (the server it started).
 * Every variable set is passed on, as if exported.
 */
export function createShell(opts: {
  env: Record<string, string>;
  modelgov: (argv: string[], env: Record<string, string>) => Promise<RunResult>;
  skip: Record<string, string>;
}): Shell {
  const vars: Record<string, string> = { ...opts.env };
  const exec = async (argv: string[], env: Record<string, string>): Promise<RunResult> => {
    const [cmd, ...args] = argv;
    if (cmd === "modelgov") return opts.modelgov(args, env);
    if (cmd === "node") {
      const out = execFileSync(process.execPath, args, { env: hermeticEnv(env) });
      return { code: 0, out: out.toString(), err: "" };
    }
    throw new Error(`the walkthrough test cannot run '${cmd}': run it in-process or list it in skip`);
  };
  const substitute = async (command: string) => {
    const r = await shell.run(command);
    if (r?.code !== 0) throw new Error(`$(${command}) failed: ${r?.err ?? "nothing to run"}`);
    return r.out.replace(/\n+$/, "");
  };
  const shell: Shell = {
    vars,
    async run(line) {
      const trimmed = line.trim();
      for (const prefix of Object.keys(opts.skip)) if (trimmed.startsWith(prefix)) return null;
      const { words: w, comment } = await words(line, vars, substitute);
      const argv = w[0] === "export" ? w.slice(1) : w;
      const assigned: Record<string, string> = {};
      while (argv.length && /^[A-Za-z_]\w*=/.test(argv[0]!)) {
        const a = argv.shift()!;
        const eq = a.indexOf("=");
        assigned[a.slice(0, eq)] = a.slice(eq + 1);
      }
      if (argv.length === 0) {
        Object.assign(vars, assigned);
        return Object.keys(assigned).length ? { code: 0, out: "", err: "", comment, argv } : null;
      }
      const r = await exec(argv, { ...vars, ...assigned });
      return { ...r, comment, argv };
    },
  };
  return shell;
}
