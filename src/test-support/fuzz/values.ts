/**
 * Values for fuzzing the HTTP API: JSON Schema (as the OpenAPI document gives it) turned
 * into fast-check arbitraries of valid-shaped values, optionally laced with hostile ones
 * (NUL, lone surrogates, huge numbers, deep nesting, wrong types, extra and missing keys).
 */
import fc from "fast-check";

/** JSON text placed verbatim where a value stands: numbers JSON.stringify cannot write, deep nesting. */
export class Raw {
  constructor(readonly text: string) {}
}

// biome-ignore lint/suspicious/noExplicitAny: JSON Schema is read loosely, keyword by keyword
export type Schema = Record<string, any> | boolean;

export interface SchemaContext {
  /** The OpenAPI document, for `#/components/schemas/...` references. */
  doc: { components?: { schemas?: Record<string, Schema> } };
  /** Lace valid-shaped values with hostile ones. */
  hostile: boolean;
  /**
   * How many valid-shaped values to one hostile one at each position (default 7). A high ratio
   * gives bodies valid but for one or two places, which get past validation to the store.
   */
  ratio?: number;
}

const NUL_AND_SURROGATES = [
  "\u0000",
  "a\u0000b",
  "\u0000\u0000",
  "\uD800",
  "\uDC00",
  "x\uDBFFy",
  "\uDFFF\uD800",
  "ok\uD83D",
  "\u0000\uDC00",
];

const ODD_STRINGS = [
  "",
  " ",
  "\t\n\r",
  "\u202E\u200B\uFEFF",
  "🙂‍🔥",
  "../../etc/passwd",
  "%00",
  "%ZZ",
  "' OR 1=1 --",
  "$1",
  "\\",
  '"',
  "<script>",
  "NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "1e400",
  "18446744073709551616",
  "null",
  "true",
  "__proto__",
  "constructor",
  "2026-02-30T25:61:61Z",
  "0000-00-00",
  "a".repeat(257),
];

/** Numbers at and past the edges: JSON text, since JSON.stringify writes -0 as 0 and cannot write 1e400. */
const RAW_NUMBERS = [
  "1e308",
  "-1e308",
  "1e400",
  "-1e400",
  "-0",
  "-0.0",
  "1e-400",
  "5e-324",
  "18446744073709551616",
  "-9223372036854775809",
  "9007199254740993",
  "123456789012345678901234567890.5",
  "0.1e-999999",
  "1E+2",
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NUL_AND_SURROGATES) },
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 24 }) },
  // A plausible value with a NUL or a lone surrogate somewhere inside it.
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.string({ maxLength: 12 }), fc.constantFrom("\u0000", "\uD800", "\uDFFF"), fc.nat())
      .map(([s, bad, at]) => s.slice(0, at % (s.length + 1)) + bad + s.slice(at % (s.length + 1))),
  },
  // Long: past every maxLength in the schemas; the longest ones are rare (they cost time to store).
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(300, 5_000, 70_000, 300_000), fc.constantFrom("x", "é", "\u0000", "🙂"))
      .map(([n, ch]) => ch.repeat(n)),
  },
);

export const hostileNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...RAW_NUMBERS).map((t) => new Raw(t)),
  fc.constantFrom(
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
    2 ** 53 + 2,
    2 ** 64,
    -(2 ** 63),
    0.1,
    -1,
    2 ** 31,
  ),
  fc.constantFrom("NaN", "Infinity", "1e400", "-0", "1e308", "0x10", "1_000"),
);

/** Nesting deep enough to find recursion without a bound (depth 10,000 included). */
export const deepJson: fc.Arbitrary<Raw> = fc
  .tuple(fc.constantFrom(64, 300, 2_000, 10_000), fc.constantFrom("array", "object", "mixed"))
  .map(([d, kind]) =>
    kind === "array"
      ? new Raw(`${"[".repeat(d)}${"]".repeat(d)}`)
      : kind === "object"
        ? new Raw(`${'{"a":'.repeat(d)}1${"}".repeat(d)}`)
        : new Raw(`${'[{"a":'.repeat(d)}null${"}]".repeat(d)}`),
  );

const wrongType: fc.Arbitrary<unknown> = fc.constantFrom(null, true, false, 0, -1, "", [], {}, [null], {
  "": null,
});

/** Anything hostile that may stand in any JSON position. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 3, arbitrary: hostileNumber },
  { weight: 3, arbitrary: wrongType },
  { weight: 1, arbitrary: deepJson },
);

/** Object keys: mostly plain, sometimes ones the store cannot hold or that mean something to JS. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("extra", "__proto__", "constructor", "", "a.b", "$where"),
  fc.constantFrom(...NUL_AND_SURROGATES),
  fc.string({ unit: "binary", maxLength: 8 }),
);

const MAX_DEPTH = 6;

function resolveRef(schema: Schema, ctx: SchemaContext): Schema {
  let s = schema;
  for (let i = 0; i < 20 && typeof s === "object" && typeof s.$ref === "string"; i++) {
    const name = (s.$ref as string).replace(/^#\/components\/schemas\//, "");
    s = ctx.doc.components?.schemas?.[name] ?? {};
  }
  return s;
}

/** Any small JSON value: for schemas that say nothing (`{}`) and for depth past the limit. */
const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

const matchingByPattern = new Map<string, fc.Arbitrary<string>>();

/**
 * fc.stringMatching for a pattern, built once: building one is costly (fast-check tokenizes
 * its list of dangerous strings against each character class of the pattern), and an
 * arbitrary holds no state, so every schema naming the pattern shares it and draws the same
 * values from the same seed as before.
 */
function stringMatching(pattern: string): fc.Arbitrary<string> {
  let arb = matchingByPattern.get(pattern);
  if (!arb) {
    arb = fc.stringMatching(new RegExp(pattern, "u"));
    matchingByPattern.set(pattern, arb);
  }
  return arb;
}

function stringArb(s: Record<string, unknown>): fc.Arbitrary<string> {
  const minLength = typeof s.minLength === "number" ? s.minLength : 0;
  const maxLength = Math.max(minLength, Math.min(typeof s.maxLength === "number" ? s.maxLength : 24, 40));
  switch (s.format) {
    case "date-time":
      return fc
        .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString());
    case "date":
      return fc
        .date({ min: new Date("2000-01-01"), max: new Date("2100-01-01"), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case "uri":
    case "url":
      return fc.webUrl();
    case "email":
      return fc.emailAddress();
    case "uuid":
      return fc.uuid();
  }
  if (typeof s.pattern === "string") {
    // Bounded by the schema's own lengths only: a pattern may need more than the clamp above.
    const max = typeof s.maxLength === "number" ? s.maxLength : Number.POSITIVE_INFINITY;
    try {
      const matching = stringMatching(s.pattern);
      return fc.oneof(
        matching.filter((x) => x.length >= minLength && x.length <= max),
        // When the filter would rarely pass, a plain string stands in (the route says 400).
        fc.string({ minLength, maxLength }),
      );
    } catch {
      // A pattern fast-check cannot invert: plain strings (the route answers 400, which is fine).
    }
  }
  return fc.string({ minLength, maxLength });
}

function numberArb(s: Record<string, unknown>, integer: boolean): fc.Arbitrary<number> {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  let min = num(s.minimum) ?? num(s.exclusiveMinimum);
  let max = num(s.maximum) ?? num(s.exclusiveMaximum);
  if (integer) {
    min = Math.max(min === undefined ? -1_000_000 : Math.ceil(min), Number.MIN_SAFE_INTEGER);
    max = Math.min(max === undefined ? 1_000_000 : Math.floor(max), Number.MAX_SAFE_INTEGER);
    if (s.exclusiveMinimum !== undefined) min += 1;
    if (s.exclusiveMaximum !== undefined) max -= 1;
    return max >= min ? fc.integer({ min, max }) : fc.constant(min);
  }
  return fc.double({
    min: min ?? -1e6,
    max: max ?? 1e6,
    noNaN: true,
    noDefaultInfinity: true,
    minExcluded: s.exclusiveMinimum !== undefined,
    maxExcluded: s.exclusiveMaximum !== undefined,
  });
}

/** A value shaped by the schema; with `ctx.hostile`, any node may be swapped for a hostile one. */
export function fromSchema(schema: Schema, ctx: SchemaContext, depth = 0): fc.Arbitrary<unknown> {
  const shaped = shapedBy(schema, ctx, depth);
  if (!ctx.hostile) return shaped;
  // Free-form positions (`{}`: parameters, metadata) take anything, so they get hostile values more often.
  const freeForm = schema === true || (typeof schema === "object" && Object.keys(schema).length === 0);
  const ratio = ctx.ratio ?? 7;
  return fc.oneof(
    { weight: freeForm ? Math.ceil(ratio / 4) : ratio, arbitrary: shaped },
    { weight: 1, arbitrary: hostileValue },
  );
}

function shapedBy(raw: Schema, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const s = resolveRef(raw, ctx);
  if (s === true || s === false || depth > MAX_DEPTH) return anyJson;
  if ("const" in s) return fc.constant(s.const);
  if (Array.isArray(s.enum) && s.enum.length) return fc.constantFrom(...s.enum);
  const alternatives = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length)
    return fc.oneof(...alternatives.map((a) => fromSchema(a, ctx, depth + 1)));
  if (Array.isArray(s.allOf) && s.allOf.length) {
    // Merge the object parts; good enough for the schemas zod writes.
    const merged: Record<string, unknown> = { properties: {}, required: [] };
    for (const part of s.allOf as Schema[]) {
      const a = resolveRef(part, ctx);
      if (typeof a !== "object") continue;
      const { properties, required, ...rest } = a;
      Object.assign(merged, rest);
      Object.assign(merged.properties as object, properties);
      (merged.required as string[]).push(...((required as string[]) ?? []));
    }
    return shapedBy(merged, ctx, depth + 1);
  }
  const type = Array.isArray(s.type) ? undefined : s.type;
  if (Array.isArray(s.type))
    return fc.oneof(...s.type.map((t: string) => shapedBy({ ...s, type: t }, ctx, depth)));
  switch (type) {
    case "string":
      return stringArb(s);
    case "integer":
      return numberArb(s, true);
    case "number":
      return numberArb(s, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const minLength = typeof s.minItems === "number" ? s.minItems : 0;
      const maxLength = Math.max(minLength, Math.min(typeof s.maxItems === "number" ? s.maxItems : 3, 4));
      const items: Schema = s.items && typeof s.items === "object" ? s.items : {};
      return fc.array(fromSchema(items, ctx, depth + 1), { minLength, maxLength });
    }
  }
  if (type === "object" || s.properties || s.additionalProperties) return objectArb(s, ctx, depth);
  return anyJson;
}

function objectArb(s: Record<string, unknown>, ctx: SchemaContext, depth: number): fc.Arbitrary<unknown> {
  const props = (s.properties ?? {}) as Record<string, Schema>;
  const required = new Set((s.required as string[] | undefined) ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [k, v] of Object.entries(props)) model[k] = fromSchema(v, ctx, depth + 1);
  const base = fc.record(model, { requiredKeys: Object.keys(props).filter((k) => required.has(k)) });
  const additional = s.additionalProperties;
  const valueSchema = (additional && typeof additional === "object" ? additional : {}) as Schema;
  const keySchema = (s.propertyNames ?? { type: "string" }) as Schema;
  const extraCount = additional === false || additional === undefined ? 0 : 2;
  const extras =
    extraCount > 0
      ? fc.dictionary(
          shapedBy(keySchema, { ...ctx, hostile: false }, depth + 1) as fc.Arbitrary<string>,
          fromSchema(valueSchema, ctx, depth + 1),
          { maxKeys: extraCount },
        )
      : fc.constant({});
  if (!ctx.hostile) return fc.tuple(base, extras).map(([b, e]) => ({ ...(e as object), ...(b as object) }));
  // Hostile: extra keys the schema does not know, and now and then a required key dropped.
  return fc
    .tuple(
      base,
      extras,
      fc.dictionary(hostileKey, hostileValue, { maxKeys: 2 }),
      fc.option(fc.nat(), { freq: 6 }),
    )
    .map(([b, e, junk, drop]) => {
      const out: Record<string, unknown> = { ...(e as object), ...(b as object) };
      for (const [k, v] of Object.entries(junk as Record<string, unknown>))
        Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
      const req = [...required];
      if (drop !== null && req.length) delete out[req[drop % req.length]!];
      return out;
    });
}

/** JSON text for a value that may hold `Raw` pieces (written verbatim). */
export function toJsonText(value: unknown): string {
  const raws: string[] = [];
  const marker = `\u0001raw${Math.random().toString(36).slice(2)}:`;
  const text = JSON.stringify(value, (_k, v) => {
    if (v instanceof Raw) {
      raws.push(v.text);
      return `${marker}${raws.length - 1}`;
    }
    return v;
  });
  if (text === undefined) return "null";
  if (!raws.length) return text;
  // JSON.stringify writes the \u0001 as the six characters \u0001.
  const escaped = JSON.stringify(marker)
    .slice(1, -1)
    .replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  return text.replace(new RegExp(`"${escaped}(\\d+)"`, "g"), (_m, i) => raws[Number(i)]!);
}

/** A string as a path segment or query value: percent-encoded, lone surrogates as (invalid) CESU-8 bytes. */
export function encodeComponent(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    let out = "";
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      if (c >= 0xd800 && c <= 0xdfff)
        out +=
          `%${(0xe0 | (c >> 12)).toString(16)}%${(0x80 | ((c >> 6) & 0x3f)).toString(16)}%${(0x80 | (c & 0x3f)).toString(16)}`.toUpperCase();
      else out += encodeURIComponent(ch);
    }
    return out;
  }
}
