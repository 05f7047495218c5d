import {
  hasPatterns,
  parseJsonOutput,
  refusalPhrasesIn,
  schemaProblems,
  validateJson,
} from "../../../engines/scoring/index.ts";
import type { ChatChunk, ChatRequest, Json } from "../../../providers/types.ts";
import { cutValue, type RequestFeatures } from "../../request-log/index.ts";
import { SCAN_LIMIT, scriptOf } from "./script.ts";

/*
 * A request's features (request-log/features.ts) from the canonical (OpenAI-shaped) request
 * and what the answer was: counts, the script, flags and a short label, never the text.
 * When the call ends the gateway takes the few facts it needs (`requestFacts`, `AnswerFacts`:
 * counts and references, no scan), so the request and response objects are not kept alive
 * while the entry waits in the log's buffer; the log runs `requestFeatures` at flush time.
 */

/** What the features need of a request: taken when the call ends, in O(1) but for text parts. */
export interface RequestFacts {
  messages: number;
  /** The last user message's text (its text parts joined, up to SCAN_LIMIT). */
  lastUserText: string;
  toolsOffered: number;
  responseFormat: unknown;
  metadata: unknown;
}

/** What the features need of an answer's first choice, from a plain response or a stream. */
export interface AnswerFacts {
  /** The text content: whole when `complete`, else its first TEXT_LIMIT units. */
  text: string;
  complete: boolean;
  toolCalls: number;
  /** OpenAI's `refusal` (structured outputs), when the model refused that way. */
  refusal: string | null;
  finishReason: string | null;
}

/** A stream keeps this much of its text when nothing needs all of it. */
export const TEXT_LIMIT = 4096;
/** Refusals open with the phrase: only the answer's beginning is searched. */
export const REFUSAL_SCAN = 300;
/** A label is one line of at most this many characters. */
export const LABEL_MAX = 40;
/** OpenAI allows 16 metadata pairs; more are not kept. */
export const METADATA_KEYS = 16;

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

function partsText(content: unknown, limit = Number.POSITIVE_INFINITY): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let out = "";
  for (const p of content) {
    if (out.length >= limit) break;
    if (isObject(p) && p.type === "text" && typeof p.text === "string") out += out ? ` ${p.text}` : p.text;
  }
  return out;
}

const firstChoice = (choices: unknown): Json | undefined =>
  Array.isArray(choices)
    ? (choices.find((c) => isObject(c) && (c.index ?? 0) === 0) as Json | undefined)
    : undefined;

/** The facts of a plain answer's choices. */
export function answerOfChoices(choices: unknown): AnswerFacts {
  const c = firstChoice(choices);
  const m = isObject(c?.message) ? c.message : {};
  const calls = Array.isArray(m.tool_calls) ? m.tool_calls.length : 0;
  const refusalPart = Array.isArray(m.content)
    ? (m.content as unknown[]).find(
        (p) => isObject(p) && p.type === "refusal" && typeof p.refusal === "string",
      )
    : undefined;
  return {
    text: partsText(m.content),
    complete: true,
    toolCalls: calls + (isObject(m.function_call) ? 1 : 0),
    refusal:
      typeof m.refusal === "string" && m.refusal
        ? m.refusal
        : ((refusalPart as { refusal?: string } | undefined)?.refusal ?? null),
    finishReason: typeof c?.finish_reason === "string" ? c.finish_reason : null,
  };
}

/**
 * The facts of a streamed answer, gathered chunk by chunk: a few field reads per chunk, the
 * text kept whole only when `keepAll` (JSON to check, or bodies to keep), else its beginning.
 */
export class StreamedAnswer {
  private text = "";
  private cut = false;
  private calls = -1;
  private refusal = "";
  private finish: string | null = null;
  constructor(private readonly keepAll: boolean) {}

  add(chunk: ChatChunk): void {
    const c = firstChoice(chunk.choices);
    if (!c) return;
    const d = c.delta as { content?: unknown; refusal?: unknown; tool_calls?: unknown } | undefined;
    if (d) {
      if (typeof d.content === "string" && d.content) {
        if (this.keepAll || this.text.length < TEXT_LIMIT) this.text += d.content;
        else this.cut = true;
      }
      if (typeof d.refusal === "string") this.refusal += d.refusal;
      if (Array.isArray(d.tool_calls))
        for (const t of d.tool_calls) {
          const i = isObject(t) && typeof t.index === "number" ? t.index : 0;
          if (i > this.calls) this.calls = i;
        }
    }
    if (typeof c.finish_reason === "string") this.finish = c.finish_reason;
  }

  /** The text streamed so far (all of it when `keepAll`). */
  get content(): string {
    return this.text;
  }

  facts(): AnswerFacts {
    const complete = !this.cut && (this.keepAll || this.text.length <= TEXT_LIMIT);
    return {
      text: complete ? this.text : this.text.slice(0, TEXT_LIMIT),
      complete,
      toolCalls: this.calls + 1,
      refusal: this.refusal || null,
      finishReason: this.finish,
    };
  }
}

/** Whether a `response_format` asks for JSON: json_object or json_schema. */
export function asksForJson(responseFormat: unknown): boolean {
  const t = isObject(responseFormat) ? responseFormat.type : undefined;
  return t === "json_object" || t === "json_schema";
}

/**
 * A refusal: OpenAI's `refusal` set, a `content_filter` finish (Anthropic's `stop_reason:
 * "refusal"` arrives as that), or, for a text answer, one of the evaluation scorers' refusal
 * phrases (engines/scoring: "I can't help with", "I'm unable to", …) in its first 300 characters.
 */
export function isRefusal(a: AnswerFacts): boolean {
  if (a.refusal) return true;
  if (a.finishReason === "content_filter") return true;
  if (a.toolCalls > 0) return false;
  const head = a.text.trimStart().slice(0, REFUSAL_SCAN);
  return head !== "" && refusalPhrasesIn(head).length > 0;
}

/**
 * JSON validity of a text answer to a request asking for JSON: it parses as it is (no fence
 * taken off), and for json_schema satisfies the schema (JSON Schema 2020-12 with formats, on Ajv:
 * engines/scoring/json-schema.ts). A schema Ajv refuses, or one with a `pattern` (a client's regular
 * expression could backtrack for seconds on the event loop), leaves parsing as the check. Null when JSON
 * was not asked, the answer made tool calls or was a refusal, or its text is not whole.
 */
export function validity(responseFormat: unknown, a: AnswerFacts, refused: boolean): boolean | null {
  if (!asksForJson(responseFormat) || refused || a.toolCalls > 0 || !a.complete) return null;
  const parsed = parseJsonOutput(a.text, { stripFences: false });
  if (!parsed.ok) return false;
  const rf = responseFormat as Json;
  const schema = rf.type === "json_schema" && isObject(rf.json_schema) ? rf.json_schema.schema : undefined;
  if (!isObject(schema) || hasPatterns(schema) || schemaProblems(schema).length > 0) return true;
  return validateJson(parsed.value, schema).length === 0;
}

/** A classifier-like answer: its trimmed text when that is one line of at most 40 characters. */
export function labelOf(a: AnswerFacts): string | null {
  if (a.toolCalls > 0 || !a.complete) return null;
  const t = a.text.trim();
  if (t === "" || t.length > 2 * LABEL_MAX || /[\r\n]/.test(t)) return null;
  let n = 0;
  for (const _ of t) if (++n > LABEL_MAX) return null;
  return t;
}

function metadataOf(m: unknown): Record<string, string> | undefined {
  if (!isObject(m)) return undefined;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "string") continue;
    out[cutValue(k)] = cutValue(v);
    if (++n >= METADATA_KEYS) break;
  }
  return n ? out : undefined;
}

function lastUserText(messages: readonly Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--)
    if (messages[i]?.role === "user") return partsText(messages[i]!.content, SCAN_LIMIT);
  return "";
}

/** The request's facts the features need (see RequestFacts). */
export function requestFacts(chat: ChatRequest): RequestFacts {
  const messages = Array.isArray(chat.messages) ? chat.messages : [];
  return {
    messages: messages.length,
    lastUserText: lastUserText(messages),
    toolsOffered:
      (Array.isArray(chat.tools) ? chat.tools.length : 0) +
      (Array.isArray(chat.functions) ? chat.functions.length : 0),
    responseFormat: chat.response_format,
    metadata: chat.metadata,
  };
}

/** The features of a request and its answer (none when no version answered). */
export function requestFeatures(req: RequestFacts, answer: AnswerFacts | undefined): RequestFeatures {
  const metadata = metadataOf(req.metadata);
  const input = {
    messages: req.messages,
    script: scriptOf(req.lastUserText),
    toolsOffered: req.toolsOffered,
  };
  const output = answer
    ? (() => {
        const refused = isRefusal(answer);
        return {
          toolCalls: answer.toolCalls,
          refusal: refused,
          valid: validity(req.responseFormat, answer, refused),
          label: refused ? null : labelOf(answer),
          finishReason: answer.finishReason === null ? null : cutValue(answer.finishReason),
        };
      })()
    : { toolCalls: null, refusal: null, valid: null, label: null, finishReason: null };
  return { ...input, ...output, ...(metadata ? { metadata } : {}) };
}
