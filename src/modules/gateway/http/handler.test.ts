import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { compileFlag, FlagSet } from "../../../engines/flags/index.ts";
import { systemClock } from "../../../lib/clock.ts";
import { createLogger } from "../../../lib/logger.ts";
import { createSimulatorAdapter } from "../../../providers/simulator/adapter.ts";
import type { ChatResponse, Json, ProviderAdapter } from "../../../providers/types.ts";
import { passThroughTranslate, readWholeBody } from "../../../test-support/gateway-fakes.ts";
import { type RequestFeatures, requestLogRow } from "../../request-log/index.ts";
import type { RoutableVersion, RoutingSnapshot } from "../routing/snapshot.ts";
import type { BodyPolicy, GatewayDeps, GatewayLogEntry } from "./deps.ts";
import { createGatewayHandler } from "./handler.ts";

const version: RoutableVersion = {
  id: "ver_1",
  model: "m",
  version: "1.0.0",
  status: "production",
  provider: "simulator",
  providerModelId: "sim",
  endpoint: null,
  parameters: {},
  refusal: null,
  price: { inputPer1kUsd: 1, outputPer1kUsd: 2 },
};
const snapshotOf = (v: RoutableVersion): RoutingSnapshot => ({
  position: 1,
  models: new Map([
    [
      "m",
      {
        id: "mdl_1",
        name: "m",
        aliases: { production: "1.0.0" },
        shadow: null,
        splitScope: null,
        versions: new Map([["1.0.0", v]]),
        byId: new Map([["ver_1", v]]),
        split: null,
        fallback: [],
        allowPinning: false,
        timeouts: { totalMs: 1000, firstByteMs: 1000, idleMs: 1000 },
        breaker: null,
      },
    ],
  ]),
});
const snapshot = snapshotOf(version);
const answer: ChatResponse = {
  id: "c1",
  object: "chat.completion",
  model: "sim",
  choices: [{ index: 0, message: { role: "assistant", content: "ok" } }],
};
const adapter: ProviderAdapter = {
  kind: "simulator",
  complete: async () => ({
    response: answer,
    usage: { inputTokens: 1000, outputTokens: 500 },
    upstreamMs: 1,
  }),
  stream: async () => {
    throw new Error("not used");
  },
};

/** A gateway over fakes: a fixed snapshot, a fake adapter, a log that collects entries. */
function gateway(
  bodies: BodyPolicy,
  opts: {
    rateOk?: boolean;
    storeDown?: { value: boolean };
    /** Another adapter (the real simulator), serving the version with these parameters. */
    simulator?: { adapter: ProviderAdapter; parameters: Json };
    /** The runtime's clock, when the test sets one. */
    now?: () => Date;
    /** Another routing snapshot (a route with a flag). */
    routed?: RoutingSnapshot;
  } = {},
) {
  const logged: GatewayLogEntry[] = [];
  const changes: ((s: RoutingSnapshot) => void)[] = [];
  const routed = opts.routed
    ? opts.routed
    : opts.simulator
      ? snapshotOf({ ...version, parameters: opts.simulator.parameters })
      : snapshot;
  const deps: GatewayDeps = {
    routing: { current: () => routed, onChange: (l) => changes.push(l) },
    authenticate: async (t) => {
      if (opts.storeDown?.value) throw new Error("connection refused");
      return t === "good" ? { tokenId: "tok_1", name: "bot", roles: ["agent"] } : null;
    },
    adapters: { simulator: opts.simulator?.adapter ?? adapter } as GatewayDeps["adapters"],
    execute: async (chain, attempt, o) => ({
      result: await attempt(chain[0]!, o.signal, 1),
      servedBy: chain[0]!,
      path: [{ versionId: "ver_1", version: "1.0.0", outcome: "served", attempts: 1, durationMs: 1 }],
    }),
    translate: passThroughTranslate,
    readBody: readWholeBody,
    rateLimit: () =>
      opts.rateOk === false
        ? { ok: false, retryAfterSec: 7, limit: 20, ratePerSec: 10 }
        : { ok: true, retryAfterSec: 0, limit: 20, ratePerSec: 10 },
    log: (e) => logged.push(e),
    // The feedback service's own answers: 202, or a refusal as problem+json.
    feedback: async (_p, body) =>
      (body as { requestId?: unknown }).requestId === undefined
        ? {
            status: 400,
            headers: { "content-type": "application/problem+json" },
            body: { title: "Invalid input", status: 400, detail: "body.requestId: required" },
          }
        : { status: 202, headers: { "content-type": "application/json" }, body: {} },
    apiKeyFor: () => undefined,
    bodies,
    ...(opts.now ? { now: opts.now } : {}),
  };
  const handler = createGatewayHandler(deps, createLogger("silent"));
  const changed = () => {
    for (const l of changes) l(snapshot);
  };
  return { handler, logged, changed };
}

async function serve(h: ReturnType<typeof gateway>["handler"]) {
  const server = createServer((req, res) => void h.handle(req, res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const call = (url: string, token = "good") =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "secret prompt" }] }),
  });

describe("gateway handler with fakes", () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });
  let off: ReturnType<typeof gateway>;
  let offUrl = "";
  before(async () => {
    off = gateway({ mode: "off" });
    const s = await serve(off.handler);
    servers.push(s.server);
    offUrl = s.url;
  });

  test("a row is stamped with the runtime's clock when it has one (a manual clock places it), else the system's", async () => {
    const at = new Date("2026-03-02T01:30:00Z");
    const fixed = gateway({ mode: "off" }, { now: () => at });
    const s = await serve(fixed.handler);
    servers.push(s.server);
    await (await call(s.url)).json();
    assert.equal(fixed.logged.at(-1)!.at, at.toISOString());
    const before = Date.now();
    await (await call(offUrl)).json();
    assert.ok(Date.parse(off.logged.at(-1)!.at) >= before - 1000);
  });

  test("by default no body is kept: no hash, no sample; cost comes from the price table", async () => {
    const res = await call(offUrl);
    assert.equal(res.status, 200);
    await res.json();
    const e = off.logged.at(-1)!;
    assert.equal(e.promptHash, undefined);
    assert.equal(e.sampledBody, undefined);
    assert.equal(e.costUsd, 2);
    assert.equal(e.routeReason, "alias:production");
  });

  test("hash keeps SHA-256s only; sample:1 keeps the bodies", async () => {
    const hashed = gateway({ mode: "hash" });
    const s1 = await serve(hashed.handler);
    servers.push(s1.server);
    await (await call(s1.url)).json();
    assert.match(hashed.logged[0]!.promptHash ?? "", /^sha256:[a-f0-9]{64}$/);
    assert.match(hashed.logged[0]!.responseHash ?? "", /^sha256:[a-f0-9]{64}$/);
    assert.equal(hashed.logged[0]!.sampledBody, undefined);
    assert.ok(!JSON.stringify(hashed.logged[0]).includes("secret prompt"));
    const sampled = gateway({ mode: "sample", rate: 1 });
    const s2 = await serve(sampled.handler);
    servers.push(s2.server);
    await (await call(s2.url)).json();
    assert.match(JSON.stringify(sampled.logged[0]!.sampledBody), /secret prompt/);
  });

  test("with the store down, known tokens keep being served; an unknown one gets 503, not a crash", async () => {
    const down = { value: false };
    const g = gateway({ mode: "off" }, { storeDown: down });
    const s = await serve(g.handler);
    servers.push(s.server);
    assert.equal((await call(s.url)).status, 200);
    down.value = true;
    g.changed(); // a change arrived: the cached answer must be re-checked, and the check fails
    assert.equal((await call(s.url)).status, 200);
    const unknown = await call(s.url, "never-seen");
    assert.equal(unknown.status, 503);
    assert.equal(unknown.headers.get("retry-after"), "5");
    assert.equal(g.logged.filter((e) => e.status === 200).length, 2);
  });

  test("feedback the service refuses reaches the client as problem+json (it used to say application/json)", async () => {
    const send = (body: unknown) =>
      fetch(`${offUrl}/v1/feedback`, {
        method: "POST",
        headers: { authorization: "Bearer good", "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const refused = await send({ success: true });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.equal(((await refused.json()) as { detail: string }).detail, "body.requestId: required");
    const accepted = await send({ requestId: "req_1", success: true });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.headers.get("content-type"), "application/json");
  });

  test("a body nested past 200 levels is a 400 before the log hashes it (depth 10,000 overflowed the stack)", async () => {
    const hashed = gateway({ mode: "hash" });
    const s = await serve(hashed.handler);
    servers.push(s.server);
    const deep = (d: number) =>
      fetch(`${s.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer good", "content-type": "application/json" },
        body: `{"model":"m","messages":[{"role":"user","content":"x","extra":${"[".repeat(d)}${"]".repeat(d)}}]}`,
      });
    const refused = await deep(10_000);
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get("content-type"), "application/problem+json");
    assert.match(((await refused.json()) as { detail: string }).detail, /nested deeper than 200/);
    const ok = await deep(50);
    assert.equal(ok.status, 200);
    await ok.json();
    assert.match(hashed.logged.at(-1)!.promptHash ?? "", /^sha256:/);
  });

  test("a message of the wrong shape is a 400 naming it, before any upstream is called (it was a 502)", async () => {
    const send = (messages: unknown) =>
      fetch(`${offUrl}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer good", "content-type": "application/json" },
        body: JSON.stringify({ model: "m", messages }),
      });
    for (const [messages, detail] of [
      [[null], "messages.0: must be an object"],
      [[{ role: "user", content: [null] }], "messages.0.content.0: must be an object with a type"],
      [[{ role: "user", content: 7 }], "messages.0.content: must be a string or an array of content parts"],
      [
        [
          { role: "user", content: "hi" },
          { role: "wizard", content: "x" },
        ],
        /^messages\.1\.role: must be one of/,
      ],
    ] as const) {
      const res = await send(messages);
      assert.equal(res.status, 400, JSON.stringify(messages));
      const problem = (await res.json()) as { error?: { message: string }; detail?: string };
      const text = problem.detail ?? problem.error?.message ?? "";
      if (typeof detail === "string") assert.equal(text, detail);
      else assert.match(text, detail);
    }
    const fine = await send([
      { role: "system", content: "be brief" },
      { role: "user", content: [{ type: "text", text: "hi" }] },
      { role: "assistant", content: null, tool_calls: [] },
    ]);
    assert.equal(fine.status, 200);
    await fine.json();
  });

  test("a token over its rate limit gets 429 with Retry-After; a bad token 401", async () => {
    const limited = gateway({ mode: "off" }, { rateOk: false });
    const s = await serve(limited.handler);
    servers.push(s.server);
    const res = await call(s.url);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    // The limit and the settings that change it are named: a first traffic loop hits it unawares.
    const problem = (await res.json()) as { detail: string; rateLimit: unknown; errors: { field: string }[] };
    assert.match(
      problem.detail,
      /^rate limit exceeded for token 'bot': this server allows 10 requests\/s per token, in bursts of up to 20; retry after 7 s, or have the operator raise MODELGOV_GATEWAY_RATE_PER_SEC and MODELGOV_GATEWAY_RATE_BURST$/,
    );
    assert.deepEqual(problem.rateLimit, {
      ratePerSec: 10,
      burst: 20,
      settings: ["MODELGOV_GATEWAY_RATE_PER_SEC", "MODELGOV_GATEWAY_RATE_BURST"],
    });
    assert.equal(problem.errors[0]?.field, "authorization");
    const bad = await call(offUrl, "bad");
    assert.equal(bad.status, 401);
    // A wrong token is told so, rather than asked for a token it sent.
    assert.match(JSON.stringify(await bad.json()), /the API token is unknown, revoked or expired/);
    const none = await fetch(`${offUrl}/v1/chat/completions`, { method: "POST", body: "{}" });
    assert.equal(none.status, 401);
    assert.match(JSON.stringify(await none.json()), /send an API token/);
  });
});

test("a route's flag picks the version from the request: the route header and the log's route_reason name flag and variant", async () => {
  const flagged = snapshotOf(version);
  flagged.models.get("m")!.flag = "m.version";
  flagged.flags = new FlagSet([
    compileFlag({
      key: "m.version",
      type: "string",
      variants: { internal: "m@1.0.0", missing: "m@nightly", everyone: "m@production" },
      defaultVariant: "everyone",
      enabled: true,
      rules: [
        { when: { tenant: "internal" }, variant: "internal" },
        { when: { tenant: "beta" }, variant: "missing" },
      ],
    }),
  ]);
  const g = gateway({ mode: "off" }, { routed: flagged });
  const { server, url } = await serve(g.handler);
  try {
    const ask = (metadata: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: "Bearer good", "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "m", metadata, messages: [{ role: "user", content: "hi" }] }),
      });
    const internal = await ask({ tenant: "internal" });
    assert.equal(internal.status, 200);
    await internal.json();
    assert.match(
      internal.headers.get("x-modelgov-route") ?? "",
      /^flag:m\.version=internal \(TARGETING_MATCH\); pinned/,
    );
    assert.equal(g.logged.at(-1)!.routeReason, "flag:m.version=internal (TARGETING_MATCH); pinned");
    const byHeader = await ask({ tenant: "internal" }, { "x-modelgov-context-tenant": "acme" });
    await byHeader.json();
    assert.equal(g.logged.at(-1)!.routeReason, "flag:m.version=everyone (DEFAULT); alias:production");
    // A variant that cannot serve: a 502 naming the flag and the variant, nothing served or logged as served.
    const served = g.logged.length;
    const beta = await ask({ tenant: "beta" });
    assert.equal(beta.status, 502);
    assert.match(
      JSON.stringify(await beta.json()),
      /flag:m\.version=missing \(TARGETING_MATCH\) names m@nightly, which cannot serve/,
    );
    assert.equal(g.logged.length, served);
  } finally {
    server.close();
  }
  // The flag's schedule reads the runtime's clock: off since 2000 by the system's, on by a clock in 1999.
  const scheduled = snapshotOf(version);
  scheduled.models.get("m")!.flag = "m.version";
  scheduled.flags = new FlagSet([
    compileFlag({
      key: "m.version",
      type: "string",
      variants: { pinned: "m@1.0.0" },
      defaultVariant: "pinned",
      enabled: true,
      schedule: { offAt: "2000-01-01T00:00:00Z" },
    }),
  ]);
  for (const [now, reason] of [
    [undefined, "alias:production; flag:m.version DISABLED"],
    [new Date("1999-06-01T00:00:00Z"), "flag:m.version=pinned (STATIC); pinned"],
  ] as const) {
    const t = gateway({ mode: "off" }, { routed: scheduled, ...(now ? { now: () => now } : {}) });
    const s = await serve(t.handler);
    try {
      await (await call(s.url)).json();
      assert.equal(t.logged.at(-1)!.routeReason, reason);
    } finally {
      s.server.close();
    }
  }
});

describe("request features in the log, through the simulator provider", () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });
  const simulator = createSimulatorAdapter({ clock: systemClock, random: () => 0.5 });
  async function through(parameters: Json, body: Json, headers: Record<string, string> = {}) {
    const g = gateway({ mode: "off" }, { simulator: { adapter: simulator, parameters } });
    const s = await serve(g.handler);
    servers.push(s.server);
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer good", "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "m", ...body }),
    });
    const text = await res.text();
    const entry = g.logged.at(-1)!;
    // Derived when the writer turns the entry into its row (at flush time), not on the request's path.
    assert.equal(typeof entry.features, "function");
    const row = requestLogRow({ ...entry, at: new Date(entry.at) });
    assert.ok(!JSON.stringify(row).includes("order 1234"), "the prompt is not stored");
    return { status: res.status, text, features: row.features as RequestFeatures | null };
  }
  const fast = { latencyMs: { p50: 0, p95: 0 }, seed: 3, quality: { success: 1 } };
  const messages = [
    { role: "system", content: "You track orders." },
    { role: "user", content: "Where is order 1234?" },
  ];
  const tools = [
    {
      type: "function",
      function: { name: "get_order", parameters: { type: "object", properties: { id: { type: "string" } } } },
    },
  ];

  test("tools offered and the tool call the answer made, plain and streamed", async () => {
    const plain = await through(fast, { messages, tools });
    assert.equal(plain.status, 200);
    assert.deepEqual(plain.features, {
      messages: 2,
      script: "latin",
      toolsOffered: 1,
      toolCalls: 1,
      refusal: false,
      valid: null,
      label: null,
      finishReason: "tool_calls",
    });
    const streamed = await through(
      fast,
      { messages, tools, stream: true, metadata: { tenant: "acme", feature: "tracking" } },
      { "x-modelgov-groups": "region=eu" },
    );
    assert.match(streamed.text, /\[DONE\]/);
    assert.deepEqual(streamed.features, {
      ...plain.features,
      metadata: { tenant: "acme", feature: "tracking" },
    });
  });

  test("JSON asked: the simulator's text answer is not JSON; a short answer is a label", async () => {
    for (const stream of [false, true]) {
      const r = await through(fast, {
        messages: [{ role: "user", content: "Классифицируй: заказ 1234 опоздал" }],
        max_tokens: 2, // "SIM-OK A", cut at two tokens
        response_format: { type: "json_object" },
        stream,
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.features, {
        messages: 1,
        script: "cyrillic",
        toolsOffered: 0,
        toolCalls: 0,
        refusal: false,
        valid: false,
        label: "SIM-OK A",
        finishReason: "length",
      });
    }
    const schema = await through(fast, {
      messages,
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } },
    });
    assert.deepEqual([schema.features?.valid, schema.features?.label], [false, null]);
  });

  test("a call no version answered keeps the request's features, none of an answer", async () => {
    const r = await through({ ...fast, errorRate: 1 }, { messages, tools });
    assert.equal(r.status, 502);
    assert.deepEqual(r.features, {
      messages: 2,
      script: "latin",
      toolsOffered: 1,
      toolCalls: null,
      refusal: null,
      valid: null,
      label: null,
      finishReason: null,
    });
  });
});
