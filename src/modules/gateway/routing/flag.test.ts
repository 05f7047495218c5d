import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { compileFlag, type FlagDefinition, FlagSet } from "../../../engines/flags/index.ts";
import { registerFlagMetrics } from "../../flags/index.ts";
import { flagContext } from "./flag-context.ts";
import { isRefusal, type Resolution, resolve } from "./resolve.ts";
import type { KillInfo, ModelRoute, RoutableVersion, RoutingSnapshot } from "./snapshot.ts";
import { DEFAULT_TIMEOUTS } from "./snapshot.ts";
import { compileSplit } from "./split.ts";

const SW: KillInfo = {
  id: "ksw_1",
  scope: "version",
  target: "chat@1.3.0",
  reason: "leaks the system prompt",
  engagedBy: "alice",
  engagedAt: "2026-12-07T18:00:00.000Z",
};

function version(v: string, o: Partial<RoutableVersion> = {}): RoutableVersion {
  return {
    id: `ver_chat_${v}`,
    model: "chat",
    version: v,
    status: "production",
    provider: "simulator",
    providerModelId: "sim",
    endpoint: null,
    parameters: {},
    refusal: null,
    killed: null,
    price: { inputPer1kUsd: 0, outputPer1kUsd: 0 },
    ...o,
  };
}

const V = {
  prod: version("1.0.0"),
  canary: version("1.1.0", { status: "canary" }),
  unapproved: version("1.2.0", {
    status: "canary",
    refusal: "chat@1.2.0 is canary without an approval in force",
  }),
  killed: version("1.3.0", { killed: SW }),
};

const FLAG: FlagDefinition = {
  key: "chat.version",
  type: "string",
  variants: {
    production: "chat@production",
    canary: "chat@canary",
    pinned: "chat@1.1.0",
    unapproved: "chat@1.2.0",
    killed: "chat@1.3.0",
    elsewhere: "other@production",
    half: "chat@canary",
  },
  defaultVariant: "production",
  enabled: true,
  rules: [
    { when: { tenant: "internal" }, variant: "canary" },
    { when: { user: "alice" }, variant: "pinned" },
    { when: { tenant: "beta" }, variant: "unapproved" },
    { when: { tenant: "doomed" }, variant: "killed" },
    { when: { tenant: "other" }, variant: "elsewhere" },
    {
      when: { tenant: "rollout" },
      rollout: [
        { variant: "production", weight: 1 },
        { variant: "half", weight: 1 },
      ],
    },
  ],
};

function snap(def: FlagDefinition | null, o: Partial<ModelRoute> = {}): RoutingSnapshot {
  const vs = Object.values(V);
  const chat: ModelRoute = {
    id: "mdl_chat",
    name: "chat",
    aliases: { production: "1.0.0", canary: "1.1.0" },
    versions: new Map(vs.map((v) => [v.version, v])),
    byId: new Map(vs.map((v) => [v.id, v])),
    split: null,
    splitScope: null,
    shadow: null,
    fallback: [V.prod],
    flag: "chat.version",
    allowPinning: false,
    timeouts: DEFAULT_TIMEOUTS,
    breaker: null,
    ...o,
  };
  return {
    position: 1,
    models: new Map([["chat", chat]]),
    flags: new FlagSet(def ? [compileFlag(def)] : []),
  };
}

const S = snap(FLAG);
/** Resolves `chat` for a request with these headers and body, as the gateway's handler does. */
function ask(
  s: RoutingSnapshot,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
  field = "chat",
) {
  const subject = headers["x-modelgov-subject"] ?? (typeof body.user === "string" ? body.user : undefined);
  let built = 0;
  const r = resolve(s, field, subject, "req_1", false, {
    context: () => {
      built++;
      return flagContext(headers, body, subject);
    },
  });
  return { r, built };
}
const ok = (r: ReturnType<typeof resolve>): Resolution => {
  assert.ok(!isRefusal(r), JSON.stringify(r));
  return r;
};

test("the flag picks the version from the request's metadata, context headers and user; the reason names flag and variant", () => {
  const byMeta = ok(ask(S, { metadata: { tenant: "internal" } }).r);
  assert.equal(byMeta.chain[0]!.version, "1.1.0");
  assert.equal(byMeta.reason, "flag:chat.version=canary (TARGETING_MATCH); alias:canary");
  assert.deepEqual(
    byMeta.chain.map((v) => v.version),
    ["1.1.0", "1.0.0"],
    "the model's fallback chain still follows",
  );
  // A header wins over a metadata field of the same name.
  const byHeader = ok(
    ask(S, { metadata: { tenant: "internal" } }, { "x-modelgov-context-tenant": "acme" }).r,
  );
  assert.equal(byHeader.reason, "flag:chat.version=production (DEFAULT); alias:production");
  assert.equal(byHeader.chain[0]!.version, "1.0.0");
  // `user` is the OpenAI field: metadata cannot pose as it. A pinned variant serves though the
  // route does not allow callers to pin.
  const byUser = ok(ask(S, { user: "alice", metadata: { user: "bob" } }).r);
  assert.equal(byUser.reason, "flag:chat.version=pinned (TARGETING_MATCH); pinned");
  assert.equal(byUser.chain[0]!.version, "1.1.0");
  assert.equal(ok(ask(S, { user: "bob", metadata: { user: "alice" } }).r).chain[0]!.version, "1.0.0");
});

test("a rollout hashes the split's subject (x-modelgov-subject, else user): sticky, and both arms serve", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const a = ok(ask(S, { metadata: { tenant: "rollout" }, user: `u${i}` }).r);
    const b = ok(ask(S, { metadata: { tenant: "rollout" } }, { "x-modelgov-subject": `u${i}` }).r);
    assert.equal(a.chain[0]!.version, b.chain[0]!.version, "the header and user name one subject");
    assert.match(a.reason, /^flag:chat\.version=(production|half) \(SPLIT\)/);
    seen.add(a.chain[0]!.version);
  }
  assert.deepEqual([...seen].sort(), ["1.0.0", "1.1.0"]);
});

test("a variant that cannot serve is refused with a 502 naming flag and variant: never the unapproved version, never another model", () => {
  const beta = ask(S, { metadata: { tenant: "beta" } }).r;
  assert.ok(isRefusal(beta));
  assert.equal(beta.status, 502);
  assert.match(
    beta.detail,
    /^flag:chat\.version=unapproved \(TARGETING_MATCH\) names chat@1\.2\.0, which cannot serve: .*without an approval in force/,
  );
  const other = ask(S, { metadata: { tenant: "other" } }).r;
  assert.ok(isRefusal(other));
  assert.match(other.detail, /names other@production, which cannot serve: not a version or alias of 'chat'/);
});

test("a killed variant: the model's fallback chain serves and the reason names the switch; nothing left is the switch's 503", () => {
  const r = ok(ask(S, { metadata: { tenant: "doomed" } }).r);
  assert.equal(r.chain[0]!.version, "1.0.0");
  assert.equal(r.killed, SW);
  assert.equal(r.reason, "flag:chat.version=killed (TARGETING_MATCH); pinned; kill-switch ksw_1 -> 1.0.0");
  const bare = ask(snap(FLAG, { fallback: [] }), { metadata: { tenant: "doomed" } }).r;
  assert.ok(isRefusal(bare));
  assert.equal(bare.status, 503);
  assert.equal(bare.killSwitch, SW);
  assert.match(bare.detail, /^flag:chat\.version=killed \(TARGETING_MATCH\): chat@1\.3\.0 is switched off/);
});

test("a disabled, missing or failing flag leaves the route's split/production serving, and the reason says why", () => {
  const split = { split: compileSplit([{ target: V.canary, weight: 1 }]), splitScope: "exp_1" };
  const off = ok(ask(snap({ ...FLAG, enabled: false }, split), { metadata: { tenant: "internal" } }).r);
  assert.match(off.reason, /^split:.* bucket=\d+ \(no subject\); flag:chat\.version DISABLED$/);
  assert.equal(off.splitScope, "exp_1");
  const gone = ok(ask(snap(null), { metadata: { tenant: "internal" } }).r);
  assert.equal(gone.reason, "alias:production; flag:chat.version FLAG_NOT_FOUND");
  // A rollout with no subject to hash: the flag errs, production serves.
  const keyless = ok(ask(S, { metadata: { tenant: "rollout" } }).r);
  assert.equal(keyless.reason, "alias:production; flag:chat.version TARGETING_KEY_MISSING");
});

test("a flag's schedule reads the runtime's clock when the gateway has one", () => {
  const scheduled = snap({ ...FLAG, schedule: { onAt: "2030-01-01T00:00:00Z" } });
  const at = (iso: string) =>
    resolve(scheduled, "chat", undefined, "r", false, {
      context: () => ({ tenant: "internal" }),
      now: () => Date.parse(iso),
    });
  assert.equal(ok(at("2029-12-31T23:59:59Z")).reason, "alias:production; flag:chat.version DISABLED");
  assert.equal(
    ok(at("2030-01-01T00:00:00Z")).reason,
    "flag:chat.version=canary (TARGETING_MATCH); alias:canary",
  );
});

test("an explicit model@selector, a router's tier and a route without a flag bypass it: the context is never built", () => {
  const pinned = ask(S, { metadata: { tenant: "internal" } }, {}, "chat@production");
  assert.equal(ok(pinned.r).reason, "alias:production");
  assert.equal(pinned.built, 0);
  const tier = resolve(S, "chat", "u1", "r", true, {
    context: () => {
      throw new Error("a router's tier does not evaluate the flag");
    },
  });
  assert.equal(ok(tier).reason, "alias:production");
  const plain = ask(snap(FLAG, { flag: null }), { metadata: { tenant: "internal" } });
  assert.equal(ok(plain.r).reason, "alias:production");
  assert.equal(plain.built, 0);
  assert.equal(ask(S, { metadata: { tenant: "internal" } }).built, 1);
});

test("the context: metadata fields flattened, x-modelgov-context-* headers over them, user and targetingKey last", () => {
  assert.deepEqual(
    flagContext(
      { "x-modelgov-context-region": "eu", "x-modelgov-context-": "x", "x-other": "y" },
      { user: "u1", metadata: { tenant: "acme", region: "us", targetingKey: "spoof", n: null } },
      "subj",
    ),
    { tenant: "acme", region: "eu", user: "u1", targetingKey: "subj" },
  );
  assert.deepEqual(flagContext({}, { metadata: { targetingKey: "spoof", user: "x" } }, undefined), {});
});

test("each evaluation counts in modelgov_flag_evaluations_total by flag, variant and reason, failures too; a bypassed flag does not", async () => {
  const registry = new Registry();
  const count = registerFlagMetrics(registry);
  const call = (s: RoutingSnapshot, tenant: string, field = "chat") =>
    resolve(s, field, undefined, "r", false, { context: () => ({ tenant }), observe: count });
  const counted = async () =>
    Object.fromEntries(
      [...(await registry.metrics()).matchAll(/^modelgov_flag_evaluations_total\{(.*)\} (\d+)$/gm)].map(
        (m) => [m[1]!, Number(m[2])],
      ),
    );
  call(S, "internal");
  call(S, "acme");
  call(S, "beta"); // evaluated, then refused: its variant cannot serve
  call(S, "rollout"); // no targeting key to hash
  call(snap({ ...FLAG, enabled: false }), "internal");
  call(snap(null), "internal");
  call(S, "internal", "chat@production");
  resolve(S, "chat", "u1", "r", true, { context: () => ({ tenant: "internal" }), observe: count });
  const canary = 'flag="chat.version",variant="canary",reason="TARGETING_MATCH"';
  assert.deepEqual(await counted(), {
    [canary]: 1,
    'flag="chat.version",variant="production",reason="DEFAULT"': 1,
    'flag="chat.version",variant="unapproved",reason="TARGETING_MATCH"': 1,
    'flag="chat.version",variant="(none)",reason="TARGETING_KEY_MISSING"': 1,
    'flag="chat.version",variant="production",reason="DISABLED"': 1,
    'flag="(unknown)",variant="(none)",reason="FLAG_NOT_FOUND"': 1,
  });
  // Read again: nothing counted twice. A recompiled flag (a new snapshot) adds to the same series.
  assert.equal((await counted())[canary], 1);
  call(S, "internal");
  call(snap(FLAG), "internal");
  assert.equal((await counted())[canary], 3);
});
