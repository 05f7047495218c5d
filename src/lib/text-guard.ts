// Text PostgreSQL cannot store: a NUL character (text columns and jsonb refuse \u0000) and
// lone UTF-16 surrogates (no UTF-8 encoding; Node would silently turn them into U+FFFD);
// and numbers JSON cannot hold (1e400 parses as Infinity). Refused at the edge with the
// field named, instead of failing in the store or the content hash as a 500.

import type { FieldProblem } from "./errors.ts";

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or null when it can. */
export function textProblem(s: string): string | null {
  if (s.includes("\u0000")) return "must not contain a NUL character (\\u0000)";
  if (LONE_SURROGATE.test(s)) return "must be well-formed Unicode text (it holds a lone surrogate)";
  return null;
}

const MAX_DEPTH = 200;

/** The first string or key in a JSON value that cannot be stored, with its dotted path. */
export function unstorableText(value: unknown, path: string, depth = 0): FieldProblem | null {
  if (typeof value === "string") {
    const reason = textProblem(value);
    return reason ? { field: path, reason } : null;
  }
  // JSON.parse reads 1e400 as Infinity (YAML reads .inf and .nan too): JSON cannot write it
  // back, and the content hash refuses it.
  if (typeof value === "number" && !Number.isFinite(value))
    return { field: path, reason: "must be a finite number (this one is beyond the range of a double)" };
  if (value === null || typeof value !== "object") return null;
  // Deeper than any real document: the content hash (recursive) would overflow the stack.
  if (depth >= MAX_DEPTH)
    return { field: path, reason: `must not be nested deeper than ${MAX_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = unstorableText(value[i], `${path}.${i}`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const keyReason = textProblem(k);
    if (keyReason) return { field: `${path}.${JSON.stringify(k).slice(1, -1)}`, reason: `key ${keyReason}` };
    const p = unstorableText(v, `${path}.${k}`, depth + 1);
    if (p) return p;
  }
  return null;
}

const ESCAPED = /\\u0000|\\u[dD][89a-fA-F]/;
/**
 * An exponent of three digits or more, or a run of 309 digits: a number that may overflow a
 * double. (The look-behind starts the digit count only at the start of a run: linear time.)
 */
const HUGE_NUMBER = /[eE][+]?0*[1-9]\d{2}|(?<!\d)\d{309}/;

/**
 * Whether a JSON text may hold such a string (a raw NUL, a \u0000 escape, an escaped
 * surrogate), a number that overflows to Infinity, or nesting past the limit. Cheap enough for every body; only a
 * hit pays for parsing and walking it.
 */
export function suspectJson(text: string): boolean {
  return text.includes("\u0000") || ESCAPED.test(text) || HUGE_NUMBER.test(text) || mayNestDeep(text);
}

/** More opening brackets than the depth limit: only then can the text nest too deep. */
function mayNestDeep(text: string): boolean {
  let open = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 0x5b || c === 0x7b) && ++open >= MAX_DEPTH) return true;
  }
  return false;
}

// A NUL (built from a string: a control character in a regex literal is a lint error) or a lone surrogate.
const UNSTORABLE = new RegExp(`\u0000|${LONE_SURROGATE.source}`);
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, "g");
const storableString = (s: string) => (UNSTORABLE.test(s) ? s.replace(UNSTORABLE_ALL, "\uFFFD") : s);

/**
 * A JSON value PostgreSQL's json types can hold: every NUL and lone surrogate in its strings
 * and keys becomes U+FFFD. For records of what happened (a sampled request body, an upstream's
 * error text) that must be kept even when a client or upstream sent such text; input the API
 * acts on is refused instead (unstorableText). Returns the value itself when nothing changes.
 */
export function storableJson<T>(value: T): T {
  return hasUnstorable(value) ? (deepStorable(value) as T) : value;
}

/** Plain JSON containers only: a Date or a Buffer passes through as it is. */
const isPlain = (v: object) => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

function hasUnstorable(value: unknown): boolean {
  if (typeof value === "string") return UNSTORABLE.test(value);
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(hasUnstorable);
  if (!isPlain(value)) return false;
  for (const [k, v] of Object.entries(value)) if (UNSTORABLE.test(k) || hasUnstorable(v)) return true;
  return false;
}

function deepStorable(value: unknown): unknown {
  if (typeof value === "string") return storableString(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(deepStorable);
  if (!isPlain(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableString(k), deepStorable(v)]));
}
