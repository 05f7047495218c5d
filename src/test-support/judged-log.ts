import type { RouteMember } from "../modules/request-log/index.ts";
import type { Harness } from "./stores.ts";

/** One tier of a router's logged path (`request_log.route_path`). */
export const routeMember = (
  tier: string,
  versionId: string | null,
  outcome: RouteMember["outcome"],
): RouteMember => ({
  tier,
  versionId,
  version: null,
  outcome,
  reason: outcome === "escalated" ? "a refusal" : null,
  tokensIn: 1,
  tokensOut: 1,
  costUsd: 0,
  upstreamMs: 1,
});

/**
 * A request in the log as the gateway writes it, with the feedback verdicts callers sent on it
 * a minute apart (the last is the latest); a score-only feedback for a null verdict. `text`
 * is the user message of the kept body, or null when the body policy kept none. Flush the
 * writers (requestLog, feedbackLog) before reading.
 */
export function logJudged(
  h: Harness,
  r: {
    id: string;
    at: Date;
    model: string;
    routedVersionId: string;
    versionId: string;
    routeReason?: string;
    routePath?: RouteMember[] | null;
    text: string | null;
    verdicts: (boolean | null)[];
  },
): void {
  h.services.requestLog.record({
    id: r.id,
    at: r.at,
    tokenId: "tok_a",
    client: "bot",
    model: r.model,
    versionId: r.versionId,
    version: null,
    routedVersionId: r.routedVersionId,
    routeReason: r.routeReason ?? "alias:production",
    endpoint: "chat.completions",
    stream: false,
    status: 200,
    errorClass: null,
    totalMs: 1,
    upstreamMs: 1,
    tokensIn: 1,
    tokensOut: 1,
    costUsd: 0,
    fallbackPath: [],
    sampledBody:
      r.text === null
        ? null
        : { request: { model: r.model, messages: [{ role: "user", content: r.text }] }, response: {} },
    routePath: r.routePath ?? null,
  });
  for (const [i, success] of r.verdicts.entries())
    h.services.feedbackLog.record({
      id: `fbk_${r.id}_${i}`,
      requestId: r.id,
      at: new Date(r.at.getTime() + (i + 1) * 60_000),
      success,
      score: success === null ? 0.5 : null,
      labels: [],
      groups: {},
      comment: "",
      tokenId: "tok_a",
      client: "bot",
    });
}
