/**
 * Suite files: parse, validate (every problem with its path), inline the JSONL cases, render
 * `fields` inputs through the template, and hash the normalised result so a run is tied to
 * the exact suite it ran. Format: docs/evals.md.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import canonicalize from "canonicalize";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { expectProblem, isBuiltinScorer } from "../../engines/scoring/index.ts";
import { AppError, type FieldProblem } from "../../lib/errors.ts";
import { CaseSchema, type ScorerConfig, SuiteFileSchema } from "./suite.schemas.ts";

export interface Message {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface SuiteCase {
  id: string;
  /** Always messages; `fields` is kept when the case was written with fields. */
  input: { messages: Message[]; fields?: Record<string, string | number | boolean> };
  expect: Record<string, unknown>;
  attributes: Record<string, string>;
  /** Replaces the suite's scorers for this case. */
  scorers?: ScorerConfig[];
}

export interface Suite {
  name: string;
  description?: string;
  template?: string;
  scorers: ScorerConfig[];
  cases: SuiteCase[];
  /** `sha256:` + hex over the canonical JSON of everything above (cases inlined, fields rendered). */
  hash: string;
}

export interface ParseOptions {
  /** Where `casesFile` is resolved from: the suite file's directory. */
  baseDir: string;
  /** Reads the cases file; defaults to the file system. */
  readText?: (absolutePath: string) => string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*)\s*\}\}/g;

/** Renders `{{field}}` placeholders; a field the template needs but the case lacks is a problem. */
export function renderTemplate(
  template: string,
  fields: Record<string, string | number | boolean>,
): { text: string } | { missing: string[] } {
  const missing = [...template.matchAll(PLACEHOLDER)]
    .map((m) => m[1]!)
    .filter((f) => !Object.hasOwn(fields, f));
  if (missing.length > 0) return { missing: [...new Set(missing)] };
  return { text: template.replace(PLACEHOLDER, (_, f: string) => String(fields[f])) };
}

/** The content hash of a suite without its hash: sha256 of its canonical JSON. */
export function suiteHash(suite: Omit<Suite, "hash">): string {
  const plain = JSON.parse(JSON.stringify(suite)) as object;
  return `sha256:${createHash("sha256").update(canonicalize(plain)!).digest("hex")}`;
}

/** `cases[3]` + `.` + `input.messages`, or `casesFile line 12` + `: ` + `input.messages`. */
const join = (at: string, sep: string, rest: string) =>
  !rest ? at || "suite" : !at ? rest : `${at}${sep}${rest}`;

const pathString = (segments: readonly PropertyKey[]) =>
  segments.map((p, k) => (typeof p === "number" ? `[${p}]` : k === 0 ? String(p) : `.${String(p)}`)).join("");

const zodProblems = (at: string, sep: string, error: z.ZodError): FieldProblem[] =>
  error.issues.map((i) => ({ field: join(at, sep, pathString(i.path)), reason: i.message }));

function fail(problems: FieldProblem[]): never {
  const lines = problems.map((p) => `  ${p.field}: ${p.reason}`).join("\n");
  throw new AppError(
    "invalid_input",
    `invalid suite (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines}`,
    {
      errors: problems,
    },
  );
}

/** Parses and validates suite YAML. Throws AppError(invalid_input) listing every problem with its path. */
export function parseSuite(text: string, options: ParseOptions): Suite {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0)
    fail(
      doc.errors.map((e) => ({
        field: `line ${lines.linePos(e.pos[0]).line}`,
        reason: e.message,
      })),
    );
  return parseSuiteObject(doc.toJS(), options);
}

/**
 * Validates a suite already parsed from YAML or JSON (the API receives it so, with the cases
 * inlined: see {@link readSuiteDocument}). Same checks and the same hash as {@link parseSuite}.
 */
export function parseSuiteObject(value: unknown, options: ParseOptions): Suite {
  const file = SuiteFileSchema.safeParse(value);
  if (!file.success) fail(zodProblems("", ".", file.error));
  const s = file.data;

  // Each raw case with the label its problems are reported under.
  let raw: { at: string; sep: string; value: unknown }[] = [];
  if (s.cases && s.casesFile)
    fail([{ field: "casesFile", reason: "give cases inline or a casesFile, not both" }]);
  if (s.cases) raw = s.cases.map((value, i) => ({ at: `cases[${i}]`, sep: ".", value }));
  else if (s.casesFile) raw = readJsonl(s.casesFile, options);
  else fail([{ field: "cases", reason: "give cases inline or a casesFile (JSONL)" }]);

  const problems: FieldProblem[] = [];
  const cases: SuiteCase[] = [];
  const firstAt = new Map<string, string>();
  for (const { at, sep, value } of raw) {
    if (value instanceof Error) {
      problems.push({ field: at, reason: value.message });
      continue;
    }
    const parsed = CaseSchema.safeParse(value);
    if (!parsed.success) {
      problems.push(...zodProblems(at, sep, parsed.error));
      continue;
    }
    const c = parsed.data;
    const first = firstAt.get(c.id);
    const field = (f: string) => join(at, sep, f);
    if (first) problems.push({ field: field("id"), reason: `duplicate id '${c.id}' (first at ${first})` });
    else firstAt.set(c.id, at);
    let input: SuiteCase["input"];
    if (c.input.messages) input = { messages: c.input.messages };
    else if (!s.template) {
      problems.push({ field: field("input.fields"), reason: "fields need a `template` on the suite" });
      continue;
    } else {
      const r = renderTemplate(s.template, c.input.fields!);
      if ("missing" in r) {
        const names = r.missing.map((m) => `'${m}'`).join(", ");
        problems.push({
          field: field("input.fields"),
          reason: `the template needs field ${names}, which the case does not have`,
        });
        continue;
      }
      input = { messages: [{ role: "user", content: r.text }], fields: c.input.fields! };
    }
    const scorers = c.scorers ?? s.scorers;
    for (const sc of scorers) {
      if (!isBuiltinScorer(sc.kind)) continue;
      const problem = expectProblem(sc as Parameters<typeof expectProblem>[0], c.expect);
      if (problem) problems.push({ field: field("expect"), reason: problem });
    }
    cases.push({
      id: c.id,
      input,
      expect: c.expect,
      attributes: c.attributes,
      ...(c.scorers ? { scorers: c.scorers } : {}),
    });
  }
  if (problems.length > 0) fail(problems);

  const body: Omit<Suite, "hash"> = {
    name: s.name,
    ...(s.description !== undefined ? { description: s.description } : {}),
    ...(s.template !== undefined ? { template: s.template } : {}),
    scorers: s.scorers,
    cases,
  };
  return { ...body, hash: suiteHash(body) };
}

function readJsonl(casesFile: string, options: ParseOptions): { at: string; sep: string; value: unknown }[] {
  const file = path.resolve(options.baseDir, casesFile);
  let text: string;
  try {
    text = (options.readText ?? ((p) => readFileSync(p, "utf8")))(file);
  } catch (e) {
    return fail([{ field: "casesFile", reason: `cannot read ${casesFile}: ${(e as Error).message}` }]);
  }
  const out: { at: string; sep: string; value: unknown }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    const at = `casesFile line ${i + 1}`;
    try {
      out.push({ at, sep: ": ", value: JSON.parse(line) });
    } catch (e) {
      out.push({ at, sep: ": ", value: new Error(`not valid JSON (${(e as Error).message})`) });
    }
  });
  if (out.length === 0) fail([{ field: "casesFile", reason: `${casesFile} holds no cases` }]);
  return out;
}

/** Reads and parses a suite file; `casesFile` resolves relative to it. */
export async function loadSuite(file: string): Promise<Suite> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return fail([{ field: "suite", reason: `cannot read ${file}: ${(e as Error).message}` }]);
  }
  return parseSuite(text, { baseDir: path.dirname(path.resolve(file)) });
}

/**
 * The suite file as an object with its JSONL cases inlined (each line parsed as JSON, a bad
 * line kept as its text so the server reports it): what `modelgov eval run` uploads.
 */
export async function readSuiteDocument(file: string): Promise<Record<string, unknown>> {
  await loadSuite(file); // every problem reported here, with file lines
  const doc = parseDocument(await readFile(file, "utf8")).toJS() as Record<string, unknown>;
  if (typeof doc.casesFile === "string") {
    const text = await readFile(path.resolve(path.dirname(path.resolve(file)), doc.casesFile), "utf8");
    doc.cases = text
      .split(/\r?\n/)
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as unknown);
    delete doc.casesFile;
  }
  return doc;
}
