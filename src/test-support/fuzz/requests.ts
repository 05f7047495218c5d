/**
 * Fuzz requests for one API operation, generated from its own OpenAPI description: path
 * parameters (real objects, missing ones, hostile text), query, headers and bodies
 * (valid-shaped, laced with hostile values, malformed, wrongly typed).
 */
import fc from "fast-check";
import {
  deepJson,
  encodeComponent,
  fromSchema,
  hostileKey,
  hostileNumber,
  hostileString,
  Raw,
  type Schema,
  type SchemaContext,
  toJsonText,
} from "./values.ts";

export interface FuzzRequest {
  method: string;
  /** Path and query, percent-encoded. */
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface Operation {
  method: string;
  /** The OpenAPI path template: /api/v1/models/{model}. */
  path: string;
  params: { name: string; in: "path" | "query"; required: boolean; schema: Schema }[];
  body?: { contentType: string; schema: Schema };
}

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is read loosely
type Doc = Record<string, any>;

/** Every control-plane operation (/api/...) of an OpenAPI document; the gateway's /v1 is not fuzzed here. */
export function operationsOf(doc: Doc): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Doc>(doc.paths ?? {}))
    for (const [method, op] of Object.entries<Doc>(item)) {
      if (!path.startsWith("/api/")) continue;
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const content = op.requestBody?.content as Record<string, { schema?: Schema }> | undefined;
      const [contentType, media] = Object.entries(content ?? {})[0] ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        params: ((op.parameters ?? []) as Doc[])
          .filter((p) => p.in === "path" || p.in === "query")
          .map((p) => ({ name: p.name, in: p.in, required: !!p.required, schema: p.schema ?? {} })),
        ...(contentType ? { body: { contentType, schema: media?.schema ?? {} } } : {}),
      });
    }
  return out;
}

export interface Pools {
  /** Real values for path parameters by name (model names, versions, ids), plus missing ones. */
  path: Record<string, string[]>;
  /** Authorization header values: the first is the admin's and used most. */
  authorization: string[];
}

const MALFORMED_SEGMENTS = ["%", "%E0%A4%A", "%00", "%ED%A0%80", "..", "%2F", "%2e%2e", "a%20b", "%FF"];

const INVALID_JSON = [
  "{",
  '{"a":',
  "[1,]",
  "{'a':1}",
  "nul",
  "\u0000",
  '{"name":"a\u0000b"}',
  '{"a":1}}',
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":-}',
  "\uFEFF{}",
  '{"a":"\\uD800"}',
  '{"a":"\\u0000"}',
  '{"\\u0000":1}',
  '{"a":"\\x41"}',
];

const TOP_LEVEL = ["", " ", "null", "[]", "0", "-0", "1e400", '"text"', "true", "{}", "[{}]"];

const INVALID_UTF8 = [
  Uint8Array.from([0xff, 0xfe, 0x7b, 0x7d]),
  Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // {"a":"<CESU surrogate>"}
  Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]), // truncated sequence
  Uint8Array.from([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), // BOM + {}
];

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "Application/JSON",
  "application/merge-patch+json",
  "application/json; charset=latin1",
];
const OTHER_TYPES = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "text/markdown",
  "application/problem+json",
  "json",
  ";",
];

const REQUEST_IDS = ["fuzz-1", "", "a".repeat(129), "x y", "req_ÿ", "../../", "%00"];

function pathValue(name: string, schema: Schema, ctx: SchemaContext, pools: Pools): fc.Arbitrary<string> {
  const real = pools.path[name] ?? [];
  const arbs: fc.WeightedArbitrary<string>[] = [
    {
      weight: 2,
      arbitrary: (fromSchema(schema, { ...ctx, hostile: false }) as fc.Arbitrary<unknown>)
        .map(String)
        .map(encodeComponent),
    },
    { weight: 2, arbitrary: hostileString.filter((s) => s.length < 5_000).map(encodeComponent) },
    { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_SEGMENTS) },
  ];
  if (real.length) arbs.push({ weight: 8, arbitrary: fc.constantFrom(...real).map(encodeComponent) });
  return fc.oneof(...arbs);
}

const queryText = (v: unknown): string =>
  v instanceof Raw
    ? v.text
    : typeof v === "string"
      ? v
      : v === null
        ? ""
        : typeof v === "object"
          ? JSON.stringify(v)
          : String(v);

function queryValue(schema: Schema, ctx: SchemaContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fromSchema(schema, { ...ctx, hostile: false }).map(queryText) },
    { weight: 2, arbitrary: hostileString.filter((s) => s.length < 5_000) },
    { weight: 1, arbitrary: hostileNumber.map(queryText) },
  );
}

function bodyArb(
  op: Operation,
  ctx: SchemaContext,
): fc.Arbitrary<{ body?: string | Uint8Array; type?: string }> {
  const type = op.body?.contentType ?? "application/json";
  const rightType = type === "application/json" ? fc.constantFrom(...JSON_TYPES) : fc.constant(type);
  const anyType = fc.oneof(
    { weight: 6, arbitrary: rightType },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_TYPES) },
  );
  const withType = (b: fc.Arbitrary<string | Uint8Array>, t = anyType) =>
    fc.tuple(b, t).map(([body, ct]) => ({ body, type: ct }));
  if (!op.body)
    return fc.oneof(
      { weight: 8, arbitrary: fc.constant({}) },
      { weight: 1, arbitrary: withType(fc.constantFrom(...INVALID_JSON, ...TOP_LEVEL)) },
    );
  if (type === "text/markdown")
    return withType(markdown(), fc.oneof(rightType, fc.constantFrom(...OTHER_TYPES, "application/json")));
  const schema = op.body.schema;
  return fc.oneof(
    { weight: 10, arbitrary: withType(fromSchema(schema, { ...ctx, hostile: true }).map(toJsonText)) },
    {
      weight: 4,
      arbitrary: withType(fromSchema(schema, { ...ctx, hostile: false }).map(toJsonText), rightType),
    },
    // Valid but for a place or two: these get past validation to the services and the store.
    {
      weight: 6,
      arbitrary: withType(
        fromSchema(schema, { ...ctx, hostile: true, ratio: 40 }).map(toJsonText),
        rightType,
      ),
    },
    { weight: 1, arbitrary: withType(fc.constantFrom(...INVALID_JSON, ...TOP_LEVEL)) },
    { weight: 1, arbitrary: withType(deepJson.map((r) => r.text)) },
    { weight: 1, arbitrary: withType(fc.constantFrom(...INVALID_UTF8)) },
    { weight: 1, arbitrary: fc.constant({}) }, // no body at all
  );
}

/** Hugging Face card text: front matter (sometimes hostile YAML) and sections. */
function markdown(): fc.Arbitrary<string | Uint8Array> {
  const yaml = fc.oneof(
    fc.constantFrom(
      "license: apache-2.0\ntags: [a, b]",
      "a: &a [1,2]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]",
      "a: !!js/function 'function(){}'",
      "model-index: 5",
      "model-index:\n  - name: x\n    results: [{metrics: [{value: 1e400}]}]",
      "- just\n- a list",
      "key: [unclosed",
      "\u0000: x",
      "a: \uD800",
      "? [complex, key]\n: v",
    ),
    fc.constantFrom(10, 1_000).map((d) => `a: ${"[".repeat(d)}${"]".repeat(d)}`),
  );
  const section = fc.tuple(
    fc.constantFrom("Intended Use", "Limitations", "Uses", "", "\u0000"),
    hostileString.filter((s) => s.length < 10_000),
  );
  return fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(fc.option(yaml, { freq: 5 }), fc.array(section, { maxLength: 4 }))
        .map(
          ([fm, secs]) =>
            `${fm === null ? "" : `---\n${fm}\n---\n`}# Card\n\n${secs.map(([h, t]) => `## ${h}\n\n${t}\n`).join("\n")}`,
        ),
    },
    { weight: 1, arbitrary: fc.constantFrom("", "---", "---\n---", "---\na: 1\n", ...INVALID_UTF8) },
  );
}

/** Requests for one operation. */
export function requestsFor(op: Operation, ctx: SchemaContext, pools: Pools): fc.Arbitrary<FuzzRequest> {
  const segments = op.path.split("/").map((seg) => {
    const m = /^\{(.+)\}$/.exec(seg);
    if (!m) return fc.constant(seg);
    const p = op.params.find((x) => x.in === "path" && x.name === m[1]);
    return pathValue(m[1]!, p?.schema ?? { type: "string" }, ctx, pools);
  });
  const query = op.params
    .filter((p) => p.in === "query")
    .map((p) =>
      fc
        .option(queryValue(p.schema, ctx), { freq: 2 })
        .map((v) => (v === null ? null : ([p.name, v] as const))),
    );
  const junkQuery = fc.array(
    fc.tuple(
      fc.oneof(hostileKey, fc.constant("limit")),
      hostileString.filter((s) => s.length < 1_000),
    ),
    {
      maxLength: 2,
    },
  );
  const headers = fc.record({
    authorization: fc.oneof(
      { weight: 12, arbitrary: fc.constant(pools.authorization[0]!) },
      { weight: 2, arbitrary: fc.constantFrom(...pools.authorization) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          "",
          "Bearer",
          "Bearer x",
          "Basic YTpi",
          "Bearer ÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿÿ",
          `Bearer ${"a".repeat(5000)}`,
        ),
      },
    ),
    requestId: fc.option(fc.constantFrom(...REQUEST_IDS), { freq: 8 }),
  });
  return fc
    .tuple(fc.tuple(...segments), fc.tuple(...query), junkQuery, fc.nat(9), headers, bodyArb(op, ctx))
    .map(([segs, q, junk, junkOdds, h, b]) => {
      const pairs = [
        ...q.filter((x): x is readonly [string, string] => x !== null),
        ...(junkOdds === 0 ? junk : []),
      ];
      const qs = pairs.map(([k, v]) => `${encodeComponent(k)}=${encodeComponent(v)}`).join("&");
      const headers: Record<string, string> = {};
      if (h.authorization) headers.authorization = h.authorization;
      if (h.requestId !== null) headers["x-request-id"] = h.requestId;
      if (b.type !== undefined) headers["content-type"] = b.type;
      const req: FuzzRequest = { method: op.method, url: `${segs.join("/")}${qs ? `?${qs}` : ""}`, headers };
      // GET and HEAD carry no body (fetch refuses one).
      if (b.body !== undefined && op.method !== "GET" && op.method !== "HEAD") req.body = b.body;
      return req;
    });
}

/** A short, printable account of a request, for failure reports. */
export function describeRequest(r: FuzzRequest): string {
  const body =
    r.body === undefined
      ? ""
      : typeof r.body === "string"
        ? ` body(${r.body.length})=${JSON.stringify(r.body.slice(0, 300))}`
        : ` body(bytes)=${Buffer.from(r.body).toString("hex").slice(0, 200)}`;
  const url = r.url.length > 300 ? `${r.url.slice(0, 300)}…(${r.url.length})` : r.url;
  const headers = Object.entries(r.headers)
    .filter(([k]) => k !== "authorization")
    .map(([k, v]) => `${k}=${JSON.stringify(v.slice(0, 80))}`)
    .join(" ");
  return `${r.method} ${url} ${headers}${body}`;
}
