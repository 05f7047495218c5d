import type { Script } from "../../request-log/index.ts";

/*
 * The script a text is written in, by the Unicode blocks of its letters: each letter counts
 * for its script and the script with the most letters wins (ties: the order of SCRIPTS).
 * Digits, punctuation, spaces and symbols count for none; a letter outside the listed blocks
 * counts as `other`; a text without letters is `none`. Japanese kana count as `cjk`. Only the
 * first SCAN_LIMIT UTF-16 units are read, so a long prompt costs no more than a short one.
 */

export const SCAN_LIMIT = 4096;

const SCRIPTS: readonly Script[] = [
  "latin",
  "cyrillic",
  "greek",
  "arabic",
  "hebrew",
  "devanagari",
  "cjk",
  "hangul",
  "thai",
  "other",
];
const LATIN = 0;
const OTHER = 9;

/** [first, last, script index], sorted by first code point. */
const BLOCKS: readonly [number, number, number][] = [
  [0x00c0, 0x024f, LATIN], // Latin-1 letters, Latin Extended-A/B
  [0x0370, 0x03ff, 2], // Greek and Coptic
  [0x0400, 0x052f, 1], // Cyrillic, Cyrillic Supplement
  [0x0590, 0x05ff, 4], // Hebrew
  [0x0600, 0x06ff, 3], // Arabic
  [0x0750, 0x077f, 3], // Arabic Supplement
  [0x08a0, 0x08ff, 3], // Arabic Extended-A
  [0x0900, 0x097f, 5], // Devanagari
  [0x0e00, 0x0e7f, 8], // Thai
  [0x1100, 0x11ff, 7], // Hangul Jamo
  [0x1c80, 0x1c8f, 1], // Cyrillic Extended-C
  [0x1e00, 0x1eff, LATIN], // Latin Extended Additional
  [0x1f00, 0x1fff, 2], // Greek Extended
  [0x2c60, 0x2c7f, LATIN], // Latin Extended-C
  [0x2de0, 0x2dff, 1], // Cyrillic Extended-A
  [0x2e80, 0x2fdf, 6], // CJK radicals, Kangxi radicals
  [0x3040, 0x30ff, 6], // Hiragana, Katakana
  [0x3100, 0x312f, 6], // Bopomofo
  [0x3130, 0x318f, 7], // Hangul Compatibility Jamo
  [0x31f0, 0x31ff, 6], // Katakana Phonetic Extensions
  [0x3400, 0x4dbf, 6], // CJK Unified Ideographs Extension A
  [0x4e00, 0x9fff, 6], // CJK Unified Ideographs
  [0xa640, 0xa69f, 1], // Cyrillic Extended-B
  [0xa720, 0xa7ff, LATIN], // Latin Extended-D
  [0xa8e0, 0xa8ff, 5], // Devanagari Extended
  [0xa960, 0xa97f, 7], // Hangul Jamo Extended-A
  [0xab30, 0xab6f, LATIN], // Latin Extended-E
  [0xac00, 0xd7ff, 7], // Hangul Syllables, Hangul Jamo Extended-B
  [0xf900, 0xfaff, 6], // CJK Compatibility Ideographs
  [0xfb00, 0xfb06, LATIN], // Latin ligatures
  [0xfb1d, 0xfb4f, 4], // Hebrew presentation forms
  [0xfb50, 0xfdff, 3], // Arabic Presentation Forms-A
  [0xfe70, 0xfeff, 3], // Arabic Presentation Forms-B
  [0xff21, 0xff3a, LATIN], // fullwidth A-Z
  [0xff41, 0xff5a, LATIN], // fullwidth a-z
  [0xff66, 0xff9f, 6], // halfwidth Katakana
  [0xffa0, 0xffdc, 7], // halfwidth Hangul
  [0x20000, 0x3134f, 6], // CJK Unified Ideographs Extensions B-G
];

const LETTER = /\p{L}/u;
/** Vowel signs of Devanagari and Thai are marks, yet they are writing in that script. */
const MARK = /\p{M}/u;

/** The script index of a code point's letter, -1 when it is no letter. */
function classify(c: number): number {
  if (c < 0x80) return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? LATIN : -1;
  const ch = String.fromCodePoint(c);
  let lo = 0;
  let hi = BLOCKS.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last, script] = BLOCKS[mid]!;
    if (c < first) hi = mid - 1;
    else if (c > last) lo = mid + 1;
    // Inside a block: the digits, signs and punctuation that live there are no letters.
    else return LETTER.test(ch) || MARK.test(ch) ? script : -1;
  }
  return LETTER.test(ch) ? OTHER : -1;
}

/** The Basic Multilingual Plane's answers, worked out once per code point: script + 2, 1 for none. */
const BMP = new Uint8Array(0x10000);

function scriptIndex(c: number): number {
  if (c > 0xffff) return classify(c);
  let v = BMP[c]!;
  if (v === 0) {
    v = classify(c) + 2;
    BMP[c] = v;
  }
  return v - 2;
}

/** The script most of the text's letters are in (see the file's comment). */
export function scriptOf(text: string): Script {
  const counts = new Array<number>(SCRIPTS.length).fill(0);
  let any = false;
  const end = Math.min(text.length, SCAN_LIMIT);
  for (let i = 0; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = ((c - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
        i++;
      }
    }
    const s = scriptIndex(c);
    if (s >= 0) {
      counts[s]!++;
      any = true;
    }
  }
  if (!any) return "none";
  let best = 0;
  for (let s = 1; s < counts.length; s++) if (counts[s]! > counts[best]!) best = s;
  return SCRIPTS[best]!;
}
