// One simulated rollout, driven the way the controller drives it: the fast path every second
// on the step so far (it can only newly breach at a second in which the candidate failed a
// request, so it is checked at exactly those seconds), and the judge and the step machine at
// every analysis interval on the window since the step started; at a 100% step the baseline's
// reference is the rollout so far, as the service passes it.
//
// One shortcut, exact: the fast path rolls back on errors only when its test of "above the
// limit" crosses its threshold, and that log likelihood ratio falls with every success and
// rises by at most ln(5) (the largest rate ratio of the mixture) with every error. So after a
// check that left it a gap g below the threshold, no check can roll back before ceil(g / ln 5)
// more candidate errors; those checks are skipped, unless the other error rule (every request
// of the last `fastPath.windowMs` failed) could fire at that second.

const MAX_STEP_PER_ERROR = Math.log(Math.max(...RATE_RATIOS.map((r) => r.ratio)));

import { decide, fastPath, judge, stepMaxDurationMs } from "../../src/engines/rollout/index.ts";
import type { Plan, VersionWindow } from "../../src/engines/rollout/types.ts";
import { RATE_RATIOS } from "../../src/engines/stats/index.ts";
import type { Random } from "./random.ts";
import { addTraffic, type Behaviour, bucketProbabilities, emptyWindow, mergeInto } from "./traffic.ts";

export type RolloutOutcome = "rolled_back" | "paused" | "promoted" | "stuck";

export interface RolloutRunResult {
  outcome: RolloutOutcome;
  /** Seconds from the start to the decision that ended the run. */
  seconds: number;
  candidateRequests: number;
  /** "fast path", a metric kind, "inconclusive at max" or "promote". */
  decidedBy: string;
  step: number;
}

export function simulateRollout(
  plan: Plan,
  rps: number,
  baseline: Behaviour,
  candidate: Behaviour,
  random: Random,
): RolloutRunResult {
  const intervalS = plan.analysisIntervalMs / 1000;
  const windowS = plan.fastPath.windowMs / 1000;
  const baseProbs = bucketProbabilities(baseline);
  const candProbs = bucketProbabilities(candidate);
  const horizonS = plan.steps.reduce((s, st) => s + stepMaxDurationMs(st) / 1000, 0) + 10 * intervalS;
  let stepIndex = 0;
  let stepStart = 0;
  let consecutiveFailures = 0;
  let t = 0;
  let candidateTotal = 0;
  let history = emptyWindow(); // the baseline over the rollout before the current step
  let base = emptyWindow();
  let cand = emptyWindow();
  // Candidate error times (s) in the step, for the fast path's recent window, and the first
  // one still inside it.
  let recentErrors: number[] = [];
  let recentFrom = 0;
  // The candidate's error count in the step before which the fast path cannot roll back.
  let checkAtErrors = 0;

  const end = (outcome: RolloutOutcome, at: number, decidedBy: string): RolloutRunResult => ({
    outcome,
    seconds: at,
    candidateRequests: candidateTotal,
    decidedBy,
    step: stepIndex + 1,
  });

  while (t < horizonS) {
    const weight = plan.steps[stepIndex]!.weight / 100;
    const full = weight >= 1;
    const nC = random.poisson(rps * weight * intervalS);
    const nB = full ? 0 : random.poisson(rps * (1 - weight) * intervalS);
    const eC = random.binomial(nC, candidate.errorRate);
    const eB = random.binomial(nB, baseline.errorRate);
    // The candidate's error times within the interval, in order; requests by time spread
    // evenly. The baseline's errors by time t are drawn only when a check needs them: each
    // draw splits the interval's remaining errors binomially (exactly as uniform times would).
    const cTimes = new Float64Array(eC);
    for (let i = 0; i < eC; i++) cTimes[i] = random.uniform() * intervalS;
    cTimes.sort();
    const ref = full ? history : base;
    let bi = 0;
    let bAt = 0;
    let lastSecond = -1;
    for (let i = 0; i < cTimes.length; i++) {
      const second = Math.floor(cTimes[i]!);
      recentErrors.push(t + cTimes[i]!);
      if (second === lastSecond) continue;
      lastSecond = second;
      const at = Math.min(intervalS, second + 1);
      // Errors up to the end of this second.
      let ci = i;
      while (ci + 1 < cTimes.length && cTimes[ci + 1]! < at) ci++;
      if (at > bAt) {
        bi += random.binomial(eB - bi, (at - bAt) / (intervalS - bAt));
        bAt = at;
      }
      const now = t + at;
      const since = now - Math.min(windowS, now - stepStart);
      while (recentFrom < recentErrors.length && recentErrors[recentFrom]! < since) recentFrom++;
      let recentTo = recentFrom;
      while (recentTo < recentErrors.length && recentErrors[recentTo]! < now) recentTo++;
      const recentErr = recentTo - recentFrom;
      const recentReq = Math.max(recentErr, Math.round(rps * weight * Math.min(windowS, now - stepStart)));
      // Skipped only if neither of the fast path's error rules can fire now (see the top).
      const allFailed = recentErr >= plan.fastPath.minRequests && recentErr >= recentReq;
      if (cand.errors + ci + 1 < checkAtErrors && !allFailed) continue;
      const candReq = Math.max(cand.requests + Math.round((nC * at) / intervalS), cand.errors + ci + 1);
      const baseReq = full ? ref.requests : base.requests + Math.round((nB * at) / intervalS);
      const baseErr = full ? ref.errors : base.errors + bi;
      const fp = fastPath(
        {
          candidate: { requests: candReq, errors: cand.errors + ci + 1 },
          baseline: { requests: Math.max(baseReq, baseErr), errors: baseErr },
          concurrent: !full,
          recent: { requests: recentReq, errors: recentErr },
        },
        plan,
        { stepIndex },
      );
      if (fp.rollback) {
        candidateTotal += candReq - cand.requests;
        return end("rolled_back", now, "fast path");
      }
      const llr = fp.test?.logLikelihoodRatioAboveMax;
      const thr = fp.test?.logThreshold;
      if (typeof llr === "number" && typeof thr === "number" && llr < thr) {
        const skip = Math.ceil((thr - llr) / MAX_STEP_PER_ERROR);
        checkAtErrors = cand.errors + ci + 1 + Math.max(1, skip);
      } else checkAtErrors = 0;
    }
    recentErrors = recentErrors.slice(recentFrom).filter((x) => x >= t + intervalS - windowS);
    recentFrom = 0;
    addTraffic(cand, candidate, candProbs, nC, eC, random);
    if (nB > 0) addTraffic(base, baseline, baseProbs, nB, eB, random);
    candidateTotal += nC;
    t += intervalS;
    const j = judge(plan, full ? history : base, cand, { stepIndex, concurrent: !full });
    const d = decide({ plan, stepIndex, stepStartedAt: stepStart * 1000, consecutiveFailures }, j, t * 1000);
    consecutiveFailures = d.next.consecutiveFailures;
    if (d.action === "rollback") {
      const failing = j.metrics.filter((m) => m.status === "fail").map((m) => m.metric);
      return end("rolled_back", t, failing.length ? failing.join("+") : "inconclusive at max");
    }
    if (d.action === "promote") return end("promoted", t, "promote");
    if (d.action === "paused") return end("paused", t, j.verdict);
    if (d.action === "advance") {
      mergeInto(history, base);
      base = emptyWindow();
      cand = emptyWindow();
      recentErrors = [];
      recentFrom = 0;
      checkAtErrors = 0;
      stepIndex = d.next.stepIndex;
      stepStart = t;
    }
  }
  history = emptyWindow();
  return end("stuck", t, "horizon");
}

export type { VersionWindow };
