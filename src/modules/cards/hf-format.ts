import { fromMarkdown } from "mdast-util-from-markdown";
import { Document, parseDocument, visit } from "yaml";
import { invalid } from "../../lib/errors.ts";
import { unstorableText } from "../../lib/text-guard.ts";
import { type CardContent, type SectionKey, STANDARD_SECTIONS, validateCard } from "./card-sections.ts";

/**
 * Hugging Face model-card headings → standard sections, compared after `normaliseHeading`
 * (so "Out-of-Scope Use", "## **Downstream Use [optional]**" and "2. Uses" all match).
 *
 * Covers the official HF template, the `transformers` Trainer's generated cards and the
 * model-card-toolkit / Mitchell et al. names. Deliberate choices:
 * - "Uses" and "Evaluation" are real sections, not containers: the template puts a comment or
 *   prose under them, which would otherwise be orphaned at the end of an export.
 * - "Evaluation" → quantitative_analyses: in practice it holds result tables; its "Testing Data"
 *   child still lands in evaluation_data.
 * - "Training and evaluation data" (Trainer cards) → training_data, where those cards describe data.
 * - "Bias, Risks, and Limitations" → ethical_considerations, but a bare "Limitations" is a caveat.
 * - Left unmapped on purpose (they become extraSections): "How to Get Started", "Usage",
 *   "Training Details", "Training Procedure", "Environmental Impact", "Technical Specifications",
 *   "Citation" — none is one of the ten governance sections, and guessing would mix content.
 */
const ALIASES: Record<SectionKey, string> = {
  model_details: "model details|model description|model summary|model overview|model information|overview",
  intended_use:
    "uses|intended use|intended uses|intended use cases|direct use|downstream use|intended uses limitations|" +
    "intended uses and limitations|primary intended uses|primary intended users",
  out_of_scope_use:
    "out of scope use|out of scope uses|out of scope use cases|misuse and out of scope use|" +
    "misuse malicious use and out of scope use",
  factors: "factors|relevant factors|evaluation factors",
  metrics: "metrics|evaluation metrics|model performance measures|performance measures",
  evaluation_data:
    "evaluation data|evaluation dataset|evaluation datasets|testing data|test data|testing data factors metrics|" +
    "testing data factors and metrics",
  training_data: "training data|training dataset|training datasets|training and evaluation data",
  quantitative_analyses:
    "results|evaluation results|evaluation|quantitative analyses|quantitative analysis|unitary results|" +
    "intersectional results|benchmarks",
  ethical_considerations:
    "bias risks and limitations|bias risks limitations|ethical considerations|ethics|bias|risks|" +
    "limitations and bias|limitations and biases|broader implications|broader impact",
  caveats_and_recommendations:
    "recommendations|caveats and recommendations|caveats|limitations|known limitations",
};

/** Aliases naming one aspect of their section: the heading is kept even when it starts the section. */
const LABELLED = new Set([
  "downstream use",
  "primary intended users",
  "unitary results",
  "intersectional results",
]);

const ALIAS_KEY = new Map<string, SectionKey>(
  Object.entries(ALIASES).flatMap(([key, names]) =>
    names.split("|").map((n) => [n, key as SectionKey] as const),
  ),
);

function normaliseHeading(text: string): string {
  return text
    .toLowerCase()
    .replace(/\[optional\]|\(optional\)/g, " ")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .replace(/^(\d+ )+/, "");
}

interface Heading {
  level: number;
  text: string;
  /** Lines the heading takes: 1 for ATX (`## Uses`), 2 or more for setext (`Uses` over `----`). */
  lines: number;
}

type RootContent = ReturnType<typeof fromMarkdown>["children"][number];

const OPEN_FENCE = /^ {0,3}(`{3,}|~{3,})/;
const CLOSE_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** What a code fence or HTML comment running to the end of the text needs to be closed, if anything. */
function closerOf(node: RootContent | undefined, src: string): string | undefined {
  const start = node?.position?.start.offset;
  const end = node?.position?.end.offset;
  if (start === undefined || end === undefined) return undefined;
  const raw = src.slice(start, end);
  if (node!.type === "code") {
    const open = OPEN_FENCE.exec(raw)?.[1];
    if (!open) return undefined; // indented code: nothing to close
    const lines = raw.split("\n");
    const close = lines.length > 1 ? CLOSE_FENCE.exec(lines.at(-1)!)?.[1] : undefined;
    const closed = close !== undefined && close[0] === open[0] && close.length >= open.length;
    return closed ? undefined : open[0]!.repeat(open.length);
  }
  if (node!.type === "html" && /^ {0,3}<!--/.test(raw)) {
    return raw.slice(raw.indexOf("<!--") + 4).includes("-->") ? undefined : "-->";
  }
  return undefined;
}

/**
 * The heading starting on each line, if any (parsed as CommonMark by mdast-util-from-markdown:
 * ATX and setext headings at the top level; `#` lines in fenced code or an HTML comment are not
 * headings); `null` on the further lines a setext heading takes. `closer` is what an unterminated
 * fence or comment at the end needs.
 */
function scan(lines: readonly string[]): { headings: (Heading | null | undefined)[]; closer?: string } {
  const src = lines.join("\n");
  const tree = fromMarkdown(src);
  const headings: (Heading | null | undefined)[] = lines.map(() => undefined);
  for (const node of tree.children) {
    if (node.type !== "heading" || !node.position) continue;
    const first = node.children[0]?.position?.start.offset;
    const last = node.children.at(-1)?.position?.end.offset;
    // An empty heading has nothing to key an extra section by; it stays body text.
    const text =
      first === undefined || last === undefined
        ? ""
        : src
            .slice(first, last)
            .split("\n")
            .map((l) => l.trim())
            .join(" ");
    if (!text) continue;
    const from = node.position.start.line - 1;
    const to = node.position.end.line - 1;
    headings[from] = { level: node.depth, text, lines: to - from + 1 };
    for (let i = from + 1; i <= to; i++) headings[i] = null;
  }
  const closer = closerOf(tree.children.at(-1), src);
  return closer ? { headings, closer } : { headings };
}

function trimBlank(lines: readonly string[]): string {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start]!.trim() === "") start++;
  while (end > start && lines[end - 1]!.trim() === "") end--;
  return lines.slice(start, end).join("\n");
}

/** Writes an ATX heading that reads back as exactly `text` (a trailing `#` needs a closing sequence). */
function headingLine(level: number, text: string): string {
  return `${"#".repeat(level)} ${text}${text.endsWith("#") ? " #" : ""}`;
}

const part = (heading: string, body: string) => (body ? `${heading}\n\n${body}` : heading);

/** Empty, comment-only or template filler, by the same rule that `validateCard` reports. */
const isPlaceholder = (body: string) =>
  validateCard({ metadata: {}, sections: { model_details: body }, extraSections: [] }, ["model_details"])
    .missing.length > 0;

function splitFrontMatter(text: string): { frontMatter?: string; body: string } {
  const src = text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n");
  const open = /^(?:[ \t]*\n)*---[ \t]*\n/.exec(src);
  if (!open) return { body: src };
  const rest = src.slice(open[0].length);
  const close = /^---[ \t]*$/m.exec(rest);
  if (!close) throw invalid("card.frontMatter", "front matter opened with --- is never closed");
  return { frontMatter: rest.slice(0, close.index), body: rest.slice(close.index + close[0].length + 1) };
}

function parseFrontMatter(src: string): Record<string, unknown> {
  let value: unknown;
  try {
    const doc = parseDocument(src);
    if (doc.errors.length > 0) throw doc.errors[0];
    value = doc.toJS();
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split("\n")[0];
    throw invalid("card.frontMatter", `invalid YAML: ${message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw invalid(
      "card.frontMatter",
      `front matter must be a YAML mapping, got ${Array.isArray(value) ? "a list" : typeof value}`,
    );
  // YAML can say what JSON cannot (.inf, 1e400, "\0"): the card's content hash and the store would fail on it.
  const unstorable = unstorableText(value, "card.frontMatter");
  if (unstorable) throw invalid(unstorable.field, unstorable.reason);
  return value as Record<string, unknown>;
}

interface Owner {
  key: SectionKey;
  level: number;
  /** Level the owner's own heading has once exported; its sub-headings keep their depth below it. */
  base: number;
}

/**
 * Parses a Hugging Face model card (YAML front matter + Markdown) into a `CardContent`.
 *
 * The first H1 that is not a section alias is the title. Text before the first heading and under
 * the title is the card's summary and opens model_details, so nothing outside a heading is lost.
 * A second heading for an already present section is appended to it as a `###` line.
 */
export function parseHfCard(text: string): CardContent {
  const { frontMatter, body } = splitFrontMatter(text);
  const metadata = frontMatter === undefined ? {} : parseFrontMatter(frontMatter);

  const lines = body.split("\n");
  const { headings, closer } = scan(lines);
  const blocks: { level: number; text: string; lines: string[] }[] = [{ level: 0, text: "", lines: [] }];
  lines.forEach((line, i) => {
    const h = headings[i];
    if (h) blocks.push({ level: h.level, text: h.text, lines: [] });
    else if (h === undefined) blocks.at(-1)!.lines.push(line);
  });
  // Closed here so that the block can be exported anywhere without swallowing what follows.
  if (closer) {
    const last = blocks.at(-1)!.lines;
    while (last.length > 0 && last.at(-1)!.trim() === "") last.pop();
    last.push(closer);
  }

  const sections: Partial<Record<SectionKey, string>> = {};
  const append = (key: SectionKey, text: string) => {
    if (text) sections[key] = sections[key] ? `${sections[key]}\n\n${text}` : text;
  };
  const preamble: string[] = [];
  const stack: Owner[] = [];
  const candidates: { index: number; heading: string; level: number; body: string; container: boolean }[] =
    [];
  let title: string | undefined;

  blocks.forEach((block, index) => {
    const content = trimBlank(block.lines);
    if (block.level === 0) {
      if (content) preamble.push(content);
      return;
    }
    while (stack.length > 0 && stack.at(-1)!.level >= block.level) stack.pop();
    const name = normaliseHeading(block.text);
    const key = ALIAS_KEY.get(name);
    if (!key && block.level === 1 && title === undefined) {
      title = block.text;
      if (content) preamble.push(content);
    } else if (key) {
      const current = sections[key];
      if (current === undefined && !LABELLED.has(name)) {
        sections[key] = content;
        stack.push({ key, level: block.level, base: 2 });
        return;
      }
      // A second heading for the same section keeps its line unless one side is template filler,
      // so validateCard still sees a section made only of placeholders as a placeholder.
      const keep =
        !isPlaceholder(content) && (LABELLED.has(name) || (current !== undefined && !isPlaceholder(current)));
      sections[key] ??= "";
      append(key, keep ? part(headingLine(3, block.text), content) : content);
      stack.push({ key, level: block.level, base: 3 });
    } else if (stack.length > 0) {
      const owner = stack.at(-1)!;
      append(
        owner.key,
        part(headingLine(Math.min(6, block.level - owner.level + owner.base), block.text), content),
      );
    } else {
      const next = blocks[index + 1];
      const container = content === "" && next !== undefined && next.level > block.level;
      candidates.push({ index, heading: block.text, level: block.level, body: content, container });
    }
  });

  // A container is dropped only if no extra section is left under it; backwards, so that
  // containers of dropped containers go too and a re-import sees nothing more to drop.
  const kept: typeof candidates = [];
  for (const c of [...candidates].reverse()) {
    if (c.container) {
      const end = blocks.findIndex((b, j) => j > c.index && b.level <= c.level);
      if (!kept.some((k) => end === -1 || k.index < end)) continue;
    }
    kept.unshift(c);
  }

  if (preamble.length > 0) {
    const summary = preamble.join("\n\n");
    sections.model_details = sections.model_details ? `${summary}\n\n${sections.model_details}` : summary;
  }

  return {
    ...(title === undefined ? {} : { title }),
    metadata,
    sections,
    extraSections: kept.map(({ heading, level, body }) => ({ heading, level, body })),
  };
}

/**
 * Makes a body safe to embed under a heading: sub-headings are pushed down to `minLevel` (so they
 * stay inside the section on re-import) and an unterminated fence or comment is closed.
 */
function embed(body: string, minLevel: number): string {
  const lines = trimBlank(body.replace(/\r\n?/g, "\n").split("\n")).split("\n");
  const { headings, closer } = scan(lines);
  const top = headings.reduce((min, h) => Math.min(min, h?.level ?? 6), 6);
  const shift = Math.max(0, minLevel - top);
  // Shifted headings are written ATX (a setext heading's underline goes); the rest is kept as it is.
  const out = lines.flatMap((line, i) => {
    const h = headings[i];
    if (shift === 0) return [line];
    if (h) return [headingLine(Math.min(6, h.level + shift), h.text)];
    return h === null ? [] : [line];
  });
  if (closer) out.push(closer);
  return trimBlank(out);
}

/** Strings YAML 1.1 readers (PyYAML, used by huggingface_hub) would not read back as strings, e.g. `no`. */
function ambiguousIn11(value: string): boolean {
  if (value.includes("\n") || value.length > 64) return false;
  try {
    const doc = parseDocument(value, { version: "1.1" });
    return doc.errors.length === 0 && typeof doc.toJS() !== "string";
  } catch {
    return false;
  }
}

function renderFrontMatter(metadata: Record<string, unknown>): string {
  const doc = new Document(metadata, { aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && ambiguousIn11(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0, indentSeq: false });
}

/** Renders a `CardContent` as a Hugging Face model card; `parseHfCard` reads it back unchanged. */
export function renderHfCard(content: CardContent): string {
  const out: string[] = [];
  const title = content.title?.replace(/[\r\n]+/g, " ").trim();
  if (title) out.push(headingLine(1, title));

  const extras = (content.extraSections ?? [])
    .map((e) => ({ ...e, heading: e.heading.replace(/[\r\n]+/g, " ").trim() }))
    .filter((e) => e.heading !== "");
  const extra = (e: (typeof extras)[number]) => part(headingLine(e.level, e.heading), embed(e.body, 1));
  // Leading extras deeper than ## go before the standard sections: after them they would be
  // read back as sub-headings of the last section.
  let lead = 0;
  while (lead < extras.length && extras[lead]!.level > 2) lead++;
  out.push(...extras.slice(0, lead).map(extra));

  for (const { key, title: sectionTitle } of STANDARD_SECTIONS) {
    const body = content.sections?.[key];
    if (body !== undefined) out.push(part(headingLine(2, sectionTitle), embed(body, 3)));
  }
  out.push(...extras.slice(lead).map(extra));

  const metadata = content.metadata ?? {};
  const front = Object.keys(metadata).length > 0 ? `---\n${renderFrontMatter(metadata)}---\n` : "";
  if (out.length === 0) return front;
  return `${front}${front ? "\n" : ""}${out.join("\n\n")}\n`;
}
