/** Text scorers: exact_match, contains, regex, label. */
import {
  type ContainsConfig,
  type ExactMatchConfig,
  fail,
  field,
  type LabelConfig,
  pass,
  quote,
  type RegexConfig,
  type ScorerDef,
  statelessFlags,
} from "./types.ts";

function checkExactMatch(expect: unknown): string | undefined {
  return typeof field(expect, "equals") === "string"
    ? undefined
    : "exact_match needs expect.equals (a string)";
}

export const exactMatch: ScorerDef<ExactMatchConfig> = {
  checkExpect: checkExactMatch,
  score(output, expect, config) {
    const problem = checkExactMatch(expect);
    if (problem) return fail(`invalid expectation: ${problem}`);
    const norm = (s: string) => {
      const t = config.trim === false ? s : s.trim();
      return config.caseInsensitive ? t.toLowerCase() : t;
    };
    const want = field(expect, "equals") as string;
    return norm(output.text) === norm(want)
      ? pass("output equals the expected text")
      : fail(`expected ${quote(want)}, got ${quote(output.text)}`);
  },
};

function containsList(expect: unknown): string[] | undefined {
  const c = field(expect, "contains");
  if (typeof c === "string") return [c];
  if (Array.isArray(c) && c.length > 0 && c.every((x) => typeof x === "string")) return c as string[];
  return undefined;
}

function checkContains(expect: unknown): string | undefined {
  return containsList(expect)
    ? undefined
    : "contains needs expect.contains (a string or a non-empty list of strings)";
}

export const contains: ScorerDef<ContainsConfig> = {
  checkExpect: checkContains,
  score(output, expect, config) {
    const wanted = containsList(expect);
    if (!wanted) return fail(`invalid expectation: ${checkContains(expect)}`);
    const fold = (s: string) => (config.caseInsensitive ? s.toLowerCase() : s);
    const text = fold(output.text);
    const missing = wanted.filter((w) => !text.includes(fold(w)));
    const found = wanted.length - missing.length;
    if ((config.require ?? "all") === "any") {
      return found > 0
        ? pass(`found ${found} of ${wanted.length} expected strings`)
        : fail(`none of ${wanted.map((w) => quote(w)).join(", ")} found`);
    }
    const score = found / wanted.length;
    return missing.length === 0
      ? pass(`all ${wanted.length} expected strings found`)
      : fail(`missing ${missing.map((w) => quote(w)).join(", ")}`, score);
  },
};

function compileRegex(expect: unknown, config: RegexConfig): RegExp | string {
  const source = field(expect, "regex") ?? config.pattern;
  if (typeof source !== "string") return "regex needs expect.regex or a pattern in the scorer config";
  try {
    return new RegExp(source, statelessFlags(config.flags));
  } catch (e) {
    return `invalid regular expression ${quote(source)}: ${(e as Error).message}`;
  }
}

export const regex: ScorerDef<RegexConfig> = {
  checkExpect(expect, config) {
    const r = compileRegex(expect, config);
    return typeof r === "string" ? r : undefined;
  },
  score(output, expect, config) {
    const r = compileRegex(expect, config);
    if (typeof r === "string") return fail(`invalid expectation: ${r}`);
    return r.test(output.text) ? pass(`matches /${r.source}/`) : fail(`does not match /${r.source}/`);
  },
};

/** Trims, drops surrounding quotes/backticks and trailing punctuation, and folds case unless told not to. */
export function normaliseLabel(text: string, caseInsensitive = true): string {
  const t = text
    .trim()
    .replace(/^["'`*\s]+|["'`*\s]+$/g, "")
    .replace(/[.!;:,\s]+$/u, "")
    .replace(/\s+/g, " ");
  return caseInsensitive ? t.toLowerCase() : t;
}

function checkLabel(expect: unknown, config: LabelConfig): string | undefined {
  const want = field(expect, "label");
  if (typeof want !== "string" || want.trim() === "") return "label needs expect.label (a non-empty string)";
  const ci = config.caseInsensitive ?? true;
  if (config.labels && !config.labels.some((l) => normaliseLabel(l, ci) === normaliseLabel(want, ci)))
    return `expect.label ${quote(want)} is not one of the scorer's labels (${config.labels.join(", ")})`;
  return undefined;
}

export const label: ScorerDef<LabelConfig> = {
  checkExpect: checkLabel,
  score(output, expect, config) {
    const problem = checkLabel(expect, config);
    if (problem) return fail(`invalid expectation: ${problem}`);
    const ci = config.caseInsensitive ?? true;
    const got = normaliseLabel(output.text, ci);
    const want = normaliseLabel(field(expect, "label") as string, ci);
    if (config.labels && !config.labels.some((l) => normaliseLabel(l, ci) === got))
      return fail(`not a label: ${quote(output.text)} (labels: ${config.labels.join(", ")})`);
    return got === want
      ? pass(`label ${quote(want)}`)
      : fail(`expected label ${quote(want)}, got ${quote(got)}`);
  },
};
