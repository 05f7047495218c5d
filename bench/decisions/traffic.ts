// Synthetic traffic for the decision benchmark: what one version does per request (error
// rate, success by group, latency), and the windows the judge reads, drawn in bulk per
// analysis interval with the counts a Poisson stream of requests would give.

import { LATENCY_BUCKETS_PER_DOUBLING, LATENCY_MAX_BUCKET } from "../../src/engines/rollout/latency.ts";
import type { VersionWindow } from "../../src/engines/rollout/types.ts";
import { normalCdf } from "../../src/engines/stats/index.ts";
import type { Random } from "./random.ts";

/** Traffic groups: one attribute, a small group and two large ones. */
export const GROUPS: readonly { key: string; share: number }[] = [
  { key: "a", share: 0.1 },
  { key: "b", share: 0.45 },
  { key: "c", share: 0.45 },
];
export const GROUP_ATTRIBUTE = "segment";
const GROUP_SHARES = GROUPS.map((g) => g.share);

export interface Behaviour {
  errorRate: number;
  /** Success rate of served requests' feedback, per group key. */
  success: Record<string, number>;
  /** Latency: log-normal with this median (ms) and log-sd. */
  latencyMedianMs: number;
  latencySigma: number;
  costPerRequestUsd: number;
}

export const BASELINE: Behaviour = {
  errorRate: 0.005,
  success: { a: 0.9, b: 0.9, c: 0.9 },
  latencyMedianMs: 400,
  latencySigma: 0.5,
  costPerRequestUsd: 0.002,
};

/**
 * The histogram bucket probabilities of a behaviour's latency, computed once. Everything
 * faster than `LUMP_BELOW_MS` goes into one bucket: the judge reads only the total and the
 * slow tail (the baseline's p95 and the share above a multiple of it), so the shape below
 * changes no decision, and drawing one bucket there instead of forty halves the draws.
 */
export const LUMP_BELOW_MS = 200;

export function bucketProbabilities(b: Behaviour): number[] {
  const edge = (k: number) => 2 ** (k / LATENCY_BUCKETS_PER_DOUBLING);
  const cdf = (ms: number) => normalCdf((Math.log(ms) - Math.log(b.latencyMedianMs)) / b.latencySigma);
  const probs: number[] = [];
  const lump = Math.floor(LATENCY_BUCKETS_PER_DOUBLING * Math.log2(LUMP_BELOW_MS));
  for (let k = 0; k <= LATENCY_MAX_BUCKET; k++) {
    const lo = k <= lump ? 0 : cdf(edge(k));
    const hi = k === LATENCY_MAX_BUCKET ? 1 : cdf(edge(k + 1));
    // Buckets a draw reaches less than once in 1e12 are left empty: the multinomial skips them.
    probs.push(k < lump ? 0 : hi - lo > 1e-12 ? hi - lo : 0);
  }
  return probs;
}

export function emptyWindow(): VersionWindow {
  return {
    requests: 0,
    errors: 0,
    feedbackCount: 0,
    successes: 0,
    latencyP95Ms: null,
    costUsd: 0,
    costSumSquares: 0,
    latencyHistogram: [],
    groups: { [GROUP_ATTRIBUTE]: {} },
  };
}

/** Adds `requests` requests with `errors` errors to a window: feedback on every served one, latency, cost. */
export function addTraffic(
  w: VersionWindow,
  b: Behaviour,
  probs: readonly number[],
  requests: number,
  errors: number,
  random: Random,
): void {
  w.requests += requests;
  w.errors += errors;
  w.costUsd += requests * b.costPerRequestUsd;
  w.costSumSquares = (w.costSumSquares ?? 0) + requests * b.costPerRequestUsd ** 2;
  const served = requests - errors;
  const perGroup = random.multinomial(served, GROUP_SHARES);
  const groups = w.groups![GROUP_ATTRIBUTE]!;
  GROUPS.forEach((g, i) => {
    const n = perGroup[i]!;
    if (n === 0) return;
    const s = random.binomial(n, b.success[g.key]!);
    const cur = groups[g.key] ?? { successes: 0, n: 0 };
    groups[g.key] = { successes: cur.successes + s, n: cur.n + n };
    w.feedbackCount += n;
    w.successes += s;
  });
  const h = w.latencyHistogram!;
  random.multinomialEach(requests, probs, (k, c) => {
    for (let i = h.length; i <= k; i++) h[i] = 0;
    h[k]! += c;
  });
}

/** A copy deep enough that adding to one leaves the other alone. */
export function cloneWindow(w: VersionWindow): VersionWindow {
  const groups: VersionWindow["groups"] = {};
  for (const [a, g] of Object.entries(w.groups ?? {})) {
    groups[a] = {};
    for (const [k, c] of Object.entries(g)) groups[a]![k] = { ...c };
  }
  return { ...w, latencyHistogram: [...(w.latencyHistogram ?? [])], groups };
}

/** Adds one window's counts into another (the baseline's reference over several steps). */
export function mergeInto(into: VersionWindow, w: VersionWindow): void {
  into.requests += w.requests;
  into.errors += w.errors;
  into.feedbackCount += w.feedbackCount;
  into.successes += w.successes;
  into.costUsd += w.costUsd;
  into.costSumSquares = (into.costSumSquares ?? 0) + (w.costSumSquares ?? 0);
  const h = into.latencyHistogram!;
  (w.latencyHistogram ?? []).forEach((c, k) => {
    for (let i = h.length; i <= k; i++) h[i] = 0;
    h[k]! += c ?? 0;
  });
  for (const [a, g] of Object.entries(w.groups ?? {}))
    for (const [k, c] of Object.entries(g)) {
      const cur = into.groups![a]![k] ?? { successes: 0, n: 0 };
      into.groups![a]![k] = { successes: cur.successes + c.successes, n: cur.n + c.n };
    }
}
