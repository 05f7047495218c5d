import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import Table from "cli-table3";
import { Registry } from "prom-client";
import { compileFlag, FlagSet } from "../src/engines/flags/index.ts";
import { trainHashedLogistic } from "../src/engines/routing/index.ts";
import { registerFlagMetrics } from "../src/modules/flags/index.ts";
import {
  chatRequestOf,
  compileRouter,
  flagContext,
  isRefusal,
  type ModelRoute,
  type RoutableVersion,
  type RoutingSnapshot,
  resolve,
  routerInput,
  throughRouter,
} from "../src/modules/gateway/index.ts";
import type { ChatRequest } from "../src/providers/types.ts";
import { routableVersion } from "../src/test-support/routing-snapshot.ts";

/*
 * What a router version adds to a gateway request, in process: building the router's input
 * from the request (routerInput) and taking the resolution through the policy to its tier
 * (throughRouter: the classifier, then the tier's own resolution), per request, for a rules
 * policy, a complexity policy and a trained classifier, on short and long prompts. The
 * gateway's whole request (bench:gateway) is not in it: this is the router's own share.
 * The same for a route that defers to a flag (issue 19): the context built from the request
 * (metadata, an x-modelgov-context-* header, user), the flag evaluated and counted
 * (modelgov_flag_evaluations_total, as the gateway counts it), against the same model without
 * a flag.
 *
 *   npm run bench:router [-- --n 200000]
 */

const nAt = process.argv.indexOf("--n");
const N = nAt > 0 ? Number(process.argv[nAt + 1]) : 200_000; // without --n, argv[0] read as NaN: every row undefined

/** The shared fixture: a servable production version on the simulator, not switched off. */
const version = (model: string, v: string, extra: Partial<RoutableVersion> = {}) =>
  routableVersion(model, v, null, extra);
const route = (name: string, versions: RoutableVersion[]): ModelRoute => ({
  id: `mdl_${name}`,
  name,
  aliases: { production: versions[0]!.version },
  versions: new Map(versions.map((v) => [v.version, v])),
  byId: new Map(versions.map((v) => [v.id, v])),
  split: null,
  splitScope: null,
  shadow: null,
  fallback: [],
  allowPinning: false,
  timeouts: { totalMs: 1000, firstByteMs: 1000, idleMs: 1000 },
  breaker: null,
});

const TIERS = [
  { name: "cheap", target: "small" },
  { name: "strong", target: "large@1.0.0" },
];
const { model: trained } = trainHashedLogistic(
  [
    ...["opening hours", "where is my order", "reset my password", "thanks"].map((text) => ({
      text,
      label: "cheap",
    })),
    ...[
      "prove the bound",
      "compare both designs and explain why",
      "derive the trade-offs",
      "design a lock-free queue",
    ].map((text) => ({ text, label: "strong" })),
  ],
  { l2: 0.1 },
);
const POLICIES: Record<string, unknown> = {
  "rules (5 rules)": {
    tiers: TIERS,
    classifier: {
      kind: "rules",
      rules: [
        { when: { "metadata.tier": "enterprise" }, tier: "strong" },
        { when: { "features.tokens_in": { $gt: 2000 } }, tier: "strong" },
        { when: { "params.tools": { $exists: true } }, tier: "strong" },
        { when: { "features.script": { $in: ["cyrillic", "greek"] } }, tier: "strong" },
        { when: { "metadata.task": { $regex: "^(legal|medical)" } }, tier: "strong" },
      ],
      default: "cheap",
    },
  },
  complexity: { tiers: TIERS, classifier: { kind: "complexity", thresholds: [0.5] } },
  "trained (hashed n-grams)": { tiers: TIERS, classifier: { kind: "trained", model: trained } },
};

const SHORT = "What are your opening hours on Sunday?";
const LONG = `${"Compare the two designs below and explain why the first deadlocks under load. ".repeat(20)}\n\`\`\`go\nmu.Lock()\ndefer mu.Unlock()\n\`\`\`\nWhat are the trade-offs? Prove the fix step by step.`;
const request = (text: string): ChatRequest =>
  chatRequestOf(
    {
      model: "assistant",
      messages: [
        { role: "system", content: "You are a helpful support assistant." },
        { role: "user", content: text },
      ],
      metadata: { tier: "free", task: "support" },
      max_tokens: 256,
    },
    "openai",
    undefined as never,
  );

const HEADERS = { "content-type": "application/json", "x-modelgov-context-region": "eu" };

/** The gateway's counter of route flag evaluations (the server's is registered by services.ts). */
const countFlag = registerFlagMetrics(new Registry());

function measure(
  snapshot: RoutingSnapshot,
  chat: ChatRequest,
): { p50: number; p99: number; mean: number; tier: string } {
  const samples = new Float64Array(N);
  let tier = "";
  for (let i = 0; i < N + 10_000; i++) {
    const t0 = performance.now();
    const subject = `user-${i & 1023}`;
    const asked = resolve(snapshot, "assistant", subject, "req", false, {
      context: () => flagContext(HEADERS, chat, subject),
      observe: countFlag,
    });
    if (isRefusal(asked)) throw new Error(asked.detail);
    const r = throughRouter(snapshot, asked, () => routerInput(chat), "user-1", "req");
    const dt = performance.now() - t0;
    if (i >= 10_000) samples[i - 10_000] = dt * 1000;
    if ("via" in r && r.via) tier = r.via.tier;
    else if (!isRefusal(r) && "reason" in r) tier = r.reason.split(";")[0]!.replace(/ \(.*$/, "");
  }
  const sorted = Float64Array.from(samples).sort();
  return {
    p50: sorted[Math.floor(N * 0.5)]!,
    p99: sorted[Math.floor(N * 0.99)]!,
    mean: samples.reduce((a, b) => a + b, 0) / N,
    tier,
  };
}

async function main() {
  const small = route("small", [version("small", "1.0.0")]);
  const large = route("large", [version("large", "1.0.0")]);
  const plain = version("assistant", "1.0.0");
  const results: Record<string, unknown>[] = [];
  const table = new Table({ head: ["policy", "prompt", "tier", "p50 µs", "p99 µs", "mean µs"] });
  const baseline = (() => {
    const snap: RoutingSnapshot = {
      position: 1,
      models: new Map([
        ["assistant", route("assistant", [plain])],
        ["small", small],
        ["large", large],
      ]),
    };
    return measure(snap, request(SHORT));
  })();
  table.push([
    "no router (resolve only)",
    "short",
    "-",
    baseline.p50.toFixed(2),
    baseline.p99.toFixed(2),
    baseline.mean.toFixed(2),
  ]);
  // A route deferring to a flag: internal tenants to the canary, EU traffic pinned, the rest
  // 90/10 by subject; the request matches none of the first two rules (the rollout hashes).
  const canary = version("assistant", "1.1.0");
  const flagged = route("assistant", [plain, canary]);
  flagged.aliases.canary = "1.1.0";
  flagged.flag = "assistant.version";
  const flagRow = measure(
    {
      position: 1,
      models: new Map([["assistant", flagged]]),
      flags: new FlagSet([
        compileFlag({
          key: "assistant.version",
          type: "string",
          variants: { canary: "assistant@canary", eu: "assistant@1.0.0", production: "assistant@production" },
          defaultVariant: "production",
          enabled: true,
          rules: [
            { when: { tenant: "internal" }, variant: "canary" },
            { when: { region: "eu", tier: "enterprise" }, variant: "eu" },
            {
              rollout: [
                { variant: "production", weight: 90 },
                { variant: "canary", weight: 10 },
              ],
            },
          ],
        }),
      ]),
    },
    request(SHORT),
  );
  table.push([
    "route flag (3 rules, 90/10 rollout)",
    "short",
    "flag",
    flagRow.p50.toFixed(2),
    flagRow.p99.toFixed(2),
    flagRow.mean.toFixed(2),
  ]);
  const flagAdded = { p50: flagRow.p50 - baseline.p50, mean: flagRow.mean - baseline.mean };
  for (const [name, policy] of Object.entries(POLICIES)) {
    const v = version("assistant", "1.0.0", { provider: "router", router: compileRouter(policy) });
    const snap: RoutingSnapshot = {
      position: 1,
      models: new Map([
        ["assistant", route("assistant", [v])],
        ["small", small],
        ["large", large],
      ]),
    };
    for (const [label, text] of [
      ["short", SHORT],
      ["long", LONG],
    ] as const) {
      const m = measure(snap, request(text));
      results.push({ policy: name, prompt: label, chars: text.length, ...m });
      table.push([
        name,
        `${label} (${text.length} chars)`,
        m.tier,
        m.p50.toFixed(2),
        m.p99.toFixed(2),
        m.mean.toFixed(2),
      ]);
    }
  }
  console.log(table.toString());
  console.log(
    `a route's flag adds ${flagAdded.p50.toFixed(2)} µs p50 (${flagAdded.mean.toFixed(2)} µs mean) over resolve alone (bar: 20 µs)`,
  );
  console.log(
    `${N.toLocaleString()} requests per row after 10,000 warm-up; load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}, ${os.cpus().length} cores, node ${process.version}`,
  );
  await mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await writeFile(
    new URL("./results/router.json", import.meta.url),
    `${JSON.stringify({ at: new Date().toISOString(), n: N, baseline, flag: { ...flagRow, added: flagAdded }, results }, null, 2)}\n`,
  );
}

await main();
