import { createHash } from "node:crypto";
import type { ChatRequest, Usage } from "../../../../providers/types.ts";
import type { RouteMember } from "../../../request-log/index.ts";
import { type AnswerFacts, requestFacts, requestFeatures } from "../../features/derive.ts";
import type { FallbackStep } from "../../resilience/fallback.ts";
import type { RoutableVersion } from "../../routing/snapshot.ts";
import type { BodyPolicy, GatewayLogEntry } from "../deps.ts";

/** What the log row holds before any version is called: who asked, for what, routed how. */
export type EntryStart = Readonly<
  Pick<
    GatewayLogEntry,
    | "id"
    | "at"
    | "tokenId"
    | "client"
    | "model"
    | "routedVersionId"
    | "routeReason"
    | "splitScope"
    | "endpoint"
    | "stream"
    | "subject"
    | "groups"
  > & {
    /** Through a `route` router: the tier its policy chose (the log keeps it as the route's path). */
    routeTier?: string | null;
  }
>;

/** What the log keeps of the bodies, as the deployment's body policy asks. */
export type KeptBodies = Pick<GatewayLogEntry, "promptHash" | "responseHash" | "sampledBody">;

/** How a call ended, as the complete and stream paths report it. */
export interface Outcome {
  status: number;
  errorClass: string | null;
  /** The version that answered, or began to (a stream cut mid-way); none when every one failed. */
  servedBy?: RoutableVersion;
  path: readonly FallbackStep[];
  usage?: Usage;
  upstreamMs?: number;
  bodies?: KeptBodies;
  /** A stream: milliseconds from the call's start to its first chunk (the metrics' TTFT, not logged). */
  firstTokenMs?: number;
  /** What the features need of the answer (a served call only). */
  answer?: AnswerFacts;
  /** A router's cascade or ensemble: the cost of every tier it called (else the served version's). */
  costUsd?: number;
  /** A router's cascade or ensemble: each tier it called, in order. */
  routePath?: readonly RouteMember[];
  /** A router's cascade or ensemble: which (the writer derives the request's path from both). */
  routeStrategy?: "cascade" | "ensemble";
}

/** Milliseconds since a `performance.now()` reading, to the microsecond. */
export const elapsedMs = (since: number) => Math.round((performance.now() - since) * 1000) / 1000;

export const costOf = (v: RoutableVersion, u: Usage) =>
  (u.inputTokens / 1000) * v.price.inputPer1kUsd + (u.outputTokens / 1000) * v.price.outputPer1kUsd;

/**
 * A request's log row, built once when it ended; the writer owns it from then on. Its features
 * are derived from `chat` and the answer when the writer flushes it, not now.
 */
export function logEntry(
  start: EntryStart,
  o: Outcome,
  totalMs: number,
  chat?: ChatRequest,
): GatewayLogEntry {
  const answer = o.status < 400 ? o.answer : undefined;
  const facts = chat ? requestFacts(chat) : undefined;
  return {
    id: start.id,
    at: start.at,
    tokenId: start.tokenId,
    client: start.client,
    model: start.model,
    routedVersionId: start.routedVersionId ?? null,
    versionId: o.servedBy?.id ?? null,
    version: o.servedBy?.version ?? null,
    routeReason: start.routeReason,
    splitScope: start.splitScope ?? null,
    endpoint: start.endpoint,
    stream: start.stream,
    status: o.status,
    errorClass: o.errorClass,
    totalMs,
    upstreamMs: o.upstreamMs ?? null,
    tokensIn: o.usage?.inputTokens ?? 0,
    tokensOut: o.usage?.outputTokens ?? 0,
    costUsd: o.costUsd ?? (o.servedBy && o.usage ? costOf(o.servedBy, o.usage) : 0),
    fallbackPath: o.path,
    subject: start.subject,
    groups: start.groups,
    features: facts ? () => requestFeatures(facts, answer) : null,
    routePath: o.routePath ?? (start.routeTier ? [tierMember(start.routeTier, o)] : null),
    routeStrategy: o.routeStrategy ?? (start.routeTier ? "route" : null),
    ...o.bodies,
  };
}

/** A `route` router's one tier, as a cascade's members are kept: what it answered, or that it failed. */
function tierMember(tier: string, o: Outcome): RouteMember {
  const last = o.path[o.path.length - 1];
  const served = o.status < 400 && o.servedBy !== undefined;
  return {
    tier,
    versionId: o.servedBy?.id ?? last?.versionId ?? null,
    version: o.servedBy?.version ?? last?.version ?? null,
    outcome: served ? "served" : "failed",
    reason: served ? null : o.errorClass,
    tokensIn: o.usage?.inputTokens ?? 0,
    tokensOut: o.usage?.outputTokens ?? 0,
    costUsd: o.servedBy && o.usage ? costOf(o.servedBy, o.usage) : 0,
    upstreamMs: o.upstreamMs ?? null,
  };
}

const sha = (x: unknown) =>
  `sha256:${createHash("sha256")
    .update(typeof x === "string" ? x : JSON.stringify(x))
    .digest("hex")}`;

/** Run after the answer went out: bodies are hashed or sampled only if the deployment asks. */
export function keepBodies(policy: BodyPolicy, chat: ChatRequest, answer: unknown): KeptBodies | undefined {
  if (policy.mode === "hash") return { promptHash: sha(chat.messages), responseHash: sha(answer) };
  if (policy.mode === "sample" && Math.random() < policy.rate)
    return { sampledBody: { request: chat, response: answer } };
  return undefined;
}
