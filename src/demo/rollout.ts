import { setTimeout as sleep } from "node:timers/promises";
import semver from "semver";
import type { Client } from "../client/index.ts";
import type { RolloutApiView } from "../modules/rollouts/index.ts";
import { demoCard } from "./card.ts";
import { demoSuite } from "./suite.ts";

/**
 * `modelgov demo rollout`: two canaries of the demo model on the simulator, through the real
 * gateway and the real controller, with the public API only. A degraded candidate (fine
 * overall, much worse for the apac region, which the offline evaluation does not cover)
 * must roll back by itself; a healthy one must
 * promote. Traffic carries group attributes; every answer's simulated outcome comes back as
 * feedback, as a client application would report it.
 */

const MODEL = "support-assistant";
/** Traffic's groups: age bands and languages (which the evaluation suite covers) and regions (which it does not). */
const GROUPS = [
  { age_band: "18-34", language: "en", region: "emea" },
  { age_band: "35-64", language: "en", region: "apac" },
  { age_band: "65+", language: "en", region: "amer" },
  { age_band: "18-34", language: "de", region: "emea" },
  { age_band: "65+", language: "de", region: "apac" },
  { age_band: "35-64", language: "de", region: "amer" },
];

export interface DemoCandidate {
  /** The release it stands for; each run registers it as `<release>-demo.<stamp>`. */
  release: string;
  label: string;
  success: number;
  byGroup: Record<string, number>;
  expect: "rolled_back" | "promoted";
}

export const CANDIDATES: DemoCandidate[] = [
  {
    // Passes the offline evaluation (its suite has no region): only live traffic shows the gap.
    release: "1.3.0",
    label: "degraded for the apac region",
    success: 0.92,
    byGroup: { "region:apac": 0.45 },
    expect: "rolled_back",
  },
  {
    release: "1.4.0",
    label: "healthy",
    success: 0.93,
    byGroup: { "age_band:65+": 0.9, "language:de": 0.91 },
    expect: "promoted",
  },
];

/**
 * The candidate's version in this run: a prerelease of its own (`1.3.0-demo.lz8k2f`), so the
 * demo never takes over a version someone registered (the README's walkthrough makes 1.3.0)
 * and runs again on the same workspace.
 */
/** How long the demo waits for one rollout by default. */
export const DEFAULT_TIMEOUT_MS = 180_000;

export const demoVersion = (c: DemoCandidate, stamp: string) => `${c.release}-demo.${stamp}`;

export interface DemoOptions {
  client: Client;
  baseUrl: string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  out: (line: string) => void;
  /** Concurrent callers through the gateway, one token each (default 40: the demo model answers in ~0.4 s). */
  concurrency?: number;
  /** The candidates to roll out, in order (default: both, CANDIDATES). */
  candidates?: readonly DemoCandidate[];
  /** Give up on a rollout after this long (default 180 s: past a step's 2-minute maximum). */
  timeoutMs?: number;
}

/**
 * Registers a candidate, evaluates it and has it approved: one demo reviewer per seat the
 * policy in force asks for (the demo's own asks one engineering sign-off; the README's, one
 * engineering and one compliance), none of them the requester. Returns once it may serve.
 */
async function prepareCandidate(
  client: Client,
  reviewer: (role: string, seat: number) => Promise<Client>,
  c: DemoCandidate,
  version: string,
  out: (line: string) => void,
) {
  // The contract of the release it follows: a minor (prerelease or not) may not break it.
  const previous = (await client.versions.list({ model: MODEL, limit: 100 })).items
    .filter((v) => semver.prerelease(v.version) === null && semver.lt(v.version, version))
    .sort((a, b) => semver.rcompare(a.version, b.version))[0];
  await client.versions.register(MODEL, {
    version,
    provider: "simulator",
    providerModelId: `sim-support-${c.release}-demo`,
    parameters: {
      latencyMs: { p50: 30, p95: 80 },
      errorRate: 0.002,
      tokens: { output: 60 },
      quality: { success: c.success, byGroup: c.byGroup },
      seed: 2000 + CANDIDATES.indexOf(c),
    },
    contract: previous?.contract ?? undefined,
    changelog: `Demo rollout candidate: ${c.label}.`,
    tags: ["demo"],
    card: demoCard(version, c.success, `Demo rollout candidate: ${c.label}.`),
  });
  // The demo's release gate wants an evaluation first: the demo suite, run on the server.
  let run = await client.evals.start(MODEL, version, { suite: demoSuite(), concurrency: 64 });
  while (run.status === "running") {
    await sleep(200);
    run = await client.evals.get(run.id);
  }
  out(
    `  evaluation ${run.id}: success ${((run.report?.aggregate.successRate ?? 0) * 100).toFixed(1)}% on ${run.total} cases, gates ${run.report?.gates.benchmark.passed && run.report.gates.fairness?.passed !== false ? "pass" : "fail"}`,
  );
  const req = await client.approvals.request(MODEL, version, `Canary of ${version} (${c.label})`);
  for (const [role, n] of Object.entries(req.requirements.roles))
    for (let seat = 0; seat < n; seat++)
      await (await reviewer(role, seat)).approvals.sign(req.id, {
        role,
        decision: "approve",
        comment: "demo sign-off",
      });
}

/**
 * Sends traffic (and feedback) until `stop()` says so: one simulated client application per
 * token, each inside the gateway's default per-token rate limit.
 */
function drive(opts: DemoOptions, tokens: string[], stop: () => boolean) {
  const doFetch = opts.fetch ?? fetch;
  const headers = (token: string, g: Record<string, string>, subject: string) => ({
    "content-type": "application/json",
    authorization: `Bearer ${token}`,
    "x-modelgov-subject": subject,
    "x-modelgov-groups": Object.entries(g)
      .map(([k, v]) => `${k}=${v}`)
      .join("; "),
  });
  let sent = 0;
  const worker = async (w: number) => {
    const token = tokens[w]!;
    for (let i = 0; !stop(); i++) {
      const g = GROUPS[(i + w) % GROUPS.length]!;
      const subject = `demo-user-${w}-${i}`;
      const res = await doFetch(`${opts.baseUrl}/v1/chat/completions`, {
        method: "POST",
        headers: headers(token, g, subject),
        body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "My order is late." }] }),
      }).catch(() => null);
      if (!res) continue;
      const requestId = res.headers.get("x-modelgov-request-id");
      const body = (await res.json().catch(() => null)) as {
        modelgov?: { simulated?: { success?: boolean } };
      } | null;
      sent++;
      const success = body?.modelgov?.simulated?.success;
      if (res.ok && requestId && typeof success === "boolean")
        await doFetch(`${opts.baseUrl}/v1/feedback`, {
          method: "POST",
          headers: headers(token, g, subject),
          body: JSON.stringify({ requestId, success, groups: g }),
        }).catch(() => null);
    }
  };
  const all = Promise.all(tokens.map((_, w) => worker(w)));
  return { done: all, sent: () => sent };
}

/** Runs both demo rollouts; resolves with each one's final state. */
export async function runRolloutDemo(opts: DemoOptions): Promise<RolloutApiView[]> {
  const { client, out } = opts;
  const stamp = Date.now().toString(36);
  const agents: string[] = [];
  for (let i = 0; i < (opts.concurrency ?? 40); i++) {
    const t = await client.tokens.create({
      name: `demo-rollout-app-${i + 1}-${stamp}`,
      roles: ["agent"],
    });
    agents.push(t.token);
  }
  const reviewers = new Map<string, Client>();
  const reviewer = async (role: string, seat: number) => {
    const key = `${role}-${seat + 1}`;
    let r = reviewers.get(key);
    if (!r) {
      const t = await client.tokens.create({ name: `demo-rollout-${key}-${stamp}`, roles: [role] });
      r = client.withToken(t.token);
      reviewers.set(key, r);
    }
    return r;
  };
  const results: RolloutApiView[] = [];
  for (const c of opts.candidates ?? CANDIDATES) {
    const version = demoVersion(c, stamp);
    await prepareCandidate(client, reviewer, c, version, out);
    const started = await client.rollouts.start(MODEL, version, "demo");
    out(`\n▶ rollout of ${MODEL}@${version} (${c.label}) against ${started.baseline}, plan 'demo'`);
    const t0 = Date.now();
    let final: RolloutApiView | null = null;
    const traffic = drive(
      opts,
      agents,
      () => final !== null || Date.now() - t0 > (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    );
    let lastLine = "";
    while (!final) {
      await sleep(500);
      const r = await client.rollouts.status(MODEL);
      const line = `  ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  step ${Math.min(r.stepIndex + 1, r.steps)}/${r.steps}  weight ${String(r.weight).padStart(3)}%  ${r.status}${r.decisions[0] ? `  last: ${r.decisions[0].decision}` : ""}`;
      if (line.replace(/^\s+[\d.]+ s/, "") !== lastLine.replace(/^\s+[\d.]+ s/, "")) out(line);
      lastLine = line;
      if (r.status !== "running" && r.status !== "paused") final = r;
      // The plan pauses a step that runs out of time short of its evidence (traffic too slow to
      // judge on this machine): a demo has nobody to decide, so it ends the rollout, saying why.
      else if (r.status === "paused") {
        out(`  paused: ${r.decisions[0]?.reasons[0] ?? r.pausedReason ?? "for a person to decide"}`);
        final = await client.rollouts.abort(MODEL, "demo: the rollout paused for a person to decide");
      } else if (Date.now() - t0 > (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)) {
        final = await client.rollouts.abort(MODEL, "demo timed out");
      }
    }
    await traffic.done;
    const why = final.decisions[0]?.reasons ?? [];
    out(
      `■ ${final.status} after ${((Date.now() - t0) / 1000).toFixed(1)} s and ${traffic.sent()} requests${final.status === c.expect ? "" : ` (expected ${c.expect})`}`,
    );
    for (const reason of why.slice(0, 4)) out(`  ${reason}`);
    results.push(final);
  }
  return results;
}
