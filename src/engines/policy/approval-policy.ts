/**
 * Approval policy evaluation: pure data in, a verdict with reasons out. No I/O, no
 * imports from modules. The approvals service feeds it the request, sign-offs, evidence
 * and card state it read; the same function answers "is an approval in force now?" and
 * "was it in force at time T?".
 */

import { gatesFor, gatesHash, type ReleaseGate } from "./gates.ts";
import { type ModelFacts, type RuleMatch, ruleMatches } from "./match.ts";

/**
 * `benchmark` and `fairness` are reports attached by hand (a URI and a hash): a person attests
 * them. `benchmark-passed` and `fairness-passed` are computed by modelgov's own evaluation runs,
 * judged by the release gates. A rule asking for `benchmark` or `fairness` is met by the computed
 * kind, and by an attested report only where the rule lists the kind under `acceptAttested`.
 */
export const EVIDENCE_KINDS = [
  "card",
  "benchmark",
  "fairness",
  "benchmark-passed",
  "fairness-passed",
] as const;
export type EvidenceKind = (typeof EVIDENCE_KINDS)[number];

/** Evidence kinds a person may attach by hand, and the computed kind that stands for each. */
export const ATTESTABLE_KINDS = ["benchmark", "fairness"] as const;
export type AttestableKind = (typeof ATTESTABLE_KINDS)[number];
const COMPUTED_KIND: Record<AttestableKind, EvidenceKind> = {
  benchmark: "benchmark-passed",
  fairness: "fairness-passed",
};
const isAttestable = (k: string): k is AttestableKind => (ATTESTABLE_KINDS as readonly string[]).includes(k);

/** Who vouches for a piece of evidence: a platform evaluation run, or the named person who attached it. */
export type Provenance = "computed" | "attested";

export interface ApprovalRule {
  name: string;
  /** Fields AND together; values within a field OR. An empty match selects every model. */
  match: RuleMatch;
  /** Role → how many distinct people of that role must approve. */
  roles: Record<string, number>;
  evidence: EvidenceKind[];
  /**
   * Attestable kinds (`benchmark`, `fairness`) for which a report a person attached counts.
   * By default only evidence computed by an evaluation run meets them.
   */
  acceptAttested?: AttestableKind[];
  /** A sign-off older than this no longer counts. */
  signoffTtlDays: number;
  /** May one person sign for two roles of the same request? */
  allowSameSignerForMultipleRoles: boolean;
}

export interface Requirements {
  rules: string[];
  roles: Record<string, number>;
  evidence: EvidenceKind[];
  /** Release gates that apply (names), and the hash of their content: evidence judged by other gates does not count. */
  gates?: string[];
  gatesHash?: string | null;
  /**
   * Attestable kinds for which an attested report counts. Absent on requests made before
   * provenance was recorded: they accepted attested reports.
   */
  acceptAttested?: AttestableKind[];
  signoffTtlDays: number;
  allowSameSignerForMultipleRoles: boolean;
}

/**
 * Both sets of requirements at once: the strictest quorum per role, every evidence kind
 * either asks for, the shorter sign-off lifetime, one signer per role unless both allow more,
 * and the gates of both (judged by `b`'s gate content, the one in force). An approval
 * request made under `a` counts under a policy `b` adopted since only where it meets both.
 */
export function strictestOf(a: Requirements, b: Requirements): Requirements {
  const roles: Record<string, number> = { ...a.roles };
  for (const [role, n] of Object.entries(b.roles)) roles[role] = Math.max(roles[role] ?? 0, n);
  return {
    rules: [...new Set([...a.rules, ...b.rules])],
    roles,
    evidence: EVIDENCE_KINDS.filter((k) => a.evidence.includes(k) || b.evidence.includes(k)),
    gates: [...new Set([...(a.gates ?? []), ...(b.gates ?? [])])],
    gatesHash: b.gates?.length ? (b.gatesHash ?? null) : (a.gatesHash ?? null),
    acceptAttested: acceptedBy(a).filter((k) => acceptedBy(b).includes(k)),
    signoffTtlDays: Math.min(a.signoffTtlDays, b.signoffTtlDays),
    allowSameSignerForMultipleRoles: a.allowSameSignerForMultipleRoles && b.allowSameSignerForMultipleRoles,
  };
}

/** The attestable kinds a set of requirements accepts attested reports for (all, for legacy requests). */
const acceptedBy = (r: Requirements): AttestableKind[] => r.acceptAttested ?? [...ATTESTABLE_KINDS];

export const DEFAULT_RULE: ApprovalRule = {
  name: "default",
  match: {},
  roles: { engineering: 1 },
  evidence: ["card"],
  signoffTtlDays: 90,
  allowSameSignerForMultipleRoles: false,
};

/**
 * Every matching rule applies: the strictest quorum per role, the union of evidence, the
 * shortest sign-off lifetime, and one signer per role unless every matching rule allows more.
 * No matching rule falls back to the default rule: nothing reaches production unapproved.
 */
export function requirementsFor(
  rules: readonly ApprovalRule[],
  m: ModelFacts,
  gates: readonly ReleaseGate[] = [],
): Requirements {
  const matching = rules.filter((r) => ruleMatches(r, m));
  const applied = matching.length ? matching : [DEFAULT_RULE];
  const roles: Record<string, number> = {};
  for (const r of applied)
    for (const [role, n] of Object.entries(r.roles)) roles[role] = Math.max(roles[role] ?? 0, n);
  // A gate that applies makes its evaluation evidence required.
  const gated = gatesFor(gates, m);
  const fromGates: EvidenceKind[] = gated.length
    ? ["benchmark-passed", ...(gated.some((g) => g.fairness) ? (["fairness-passed"] as const) : [])]
    : [];
  return {
    rules: applied.map((r) => r.name),
    roles,
    evidence: EVIDENCE_KINDS.filter(
      (k) => applied.some((r) => r.evidence.includes(k)) || fromGates.includes(k),
    ),
    gates: gated.map((g) => g.name),
    gatesHash: gated.length ? gatesHash(gated) : null,
    // An attested report counts only where every rule asking for that kind accepts it.
    acceptAttested: ATTESTABLE_KINDS.filter((k) =>
      applied.every((r) => !r.evidence.includes(k) || (r.acceptAttested ?? []).includes(k)),
    ),
    signoffTtlDays: Math.min(...applied.map((r) => r.signoffTtlDays)),
    allowSameSignerForMultipleRoles: applied.every((r) => r.allowSameSignerForMultipleRoles),
  };
}

export interface SignoffFact {
  signer: string;
  role: string;
  decision: "approve" | "reject";
  signedAt: string;
}

export interface EvidenceFact {
  kind: string;
  contentHash: string;
  passed: boolean | null;
  /** Computed by an evaluation run, or attested by `attachedBy`; absent means attested. */
  provenance?: Provenance;
  attachedBy?: string;
  /** Evaluation evidence: the gates it was judged by and what failed (or who accepted the disparity). */
  details?: {
    runId?: string;
    gatesHash?: string | null;
    failures?: { reason: string }[];
    acceptance?: { by: string; justification: string; at: string } | null;
  } | null;
}

export interface RequestFacts {
  status: "pending" | "approved" | "rejected" | "voided";
  /** Card hash and evidence hashes the request was made on. */
  cardHash: string | null;
  evidence: EvidenceFact[];
  signoffs: SignoffFact[];
}

export interface CurrentFacts {
  /** Latest card hash of the version and whether it passes the required sections. */
  cardHash: string | null;
  cardComplete: boolean;
  cardMissing: string[];
  /** The latest evidence of each kind attached to the version. */
  evidence: EvidenceFact[];
}

export interface Unmet {
  requirement: string;
  reason: string;
}

export interface Verdict {
  satisfied: boolean;
  unmet: Unmet[];
  /** Per role: who counts towards the quorum at `at`. */
  quorum: Record<string, { needed: number; signers: string[] }>;
}

const DAY = 86_400_000;

/** Evaluates a request against the requirements and the version's current card and evidence at time `at`. */
export function evaluate(req: Requirements, request: RequestFacts, current: CurrentFacts, at: Date): Verdict {
  const unmet: Unmet[] = [];
  if (request.status === "rejected")
    unmet.push({ requirement: "no rejection", reason: "the request was rejected; start a new one" });
  if (request.status === "voided")
    unmet.push({ requirement: "valid request", reason: "the request was voided" });

  const quorum: Verdict["quorum"] = {};
  for (const [role, needed] of Object.entries(req.roles)) {
    const signers = request.signoffs
      .filter(
        (s) =>
          s.role === role &&
          s.decision === "approve" &&
          at.getTime() - new Date(s.signedAt).getTime() < req.signoffTtlDays * DAY,
      )
      .map((s) => s.signer);
    const unique = [...new Set(signers)];
    quorum[role] = { needed, signers: unique };
    if (unique.length < needed) {
      const expired = request.signoffs.filter(
        (s) => s.role === role && s.decision === "approve" && !unique.includes(s.signer),
      );
      unmet.push({
        requirement: `role:${role}`,
        reason: `${unique.length} of ${needed} ${role} sign-off(s)${expired.length ? `; expired: ${expired.map((s) => s.signer).join(", ")}` : ""}`,
      });
    }
  }

  for (const kind of req.evidence) {
    if (kind === "card") {
      if (!current.cardHash)
        unmet.push({ requirement: "evidence:card", reason: "the version has no model card" });
      else if (!current.cardComplete)
        unmet.push({
          requirement: "evidence:card",
          reason: `the card is incomplete: ${current.cardMissing.join(", ")}`,
        });
      else if (request.cardHash !== current.cardHash)
        unmet.push({
          requirement: "evidence:card",
          reason: "the card changed after the request: the approval is void",
        });
      continue;
    }
    if (isAttestable(kind) && !acceptedBy(req).includes(kind)) {
      // Only the platform's own run counts: the computed kind's check (required wherever a
      // gate judges this) stands for this one. With no gate judging it, nothing can meet it.
      if (req.evidence.includes(COMPUTED_KIND[kind])) continue;
      const attested = current.evidence.find((e) => e.kind === kind);
      unmet.push({
        requirement: `evidence:${kind}`,
        reason: `only ${kind} evidence computed by an evaluation run counts here, and no release gate judges ${kind === "fairness" ? "fairness" : "benchmarks"} for this model${
          attested
            ? ` (the ${kind} report attached by ${attested.attachedBy ?? "a person"} is attested, not computed)`
            : ""
        }: add a release gate${kind === "fairness" ? " with fairness" : ""}, or list ${kind} under the rule's acceptAttested`,
      });
      continue;
    }
    const now = current.evidence.find((e) => e.kind === kind);
    const then = request.evidence.find((e) => e.kind === kind);
    const fromRun = kind === "benchmark-passed" || kind === "fairness-passed";
    if (!now)
      unmet.push({
        requirement: `evidence:${kind}`,
        reason: fromRun
          ? `no evaluation run judged by the release gates (${(req.gates ?? []).join(", ") || "none"}): run modelgov eval run`
          : `no ${kind} evidence attached`,
      });
    else if (fromRun && (req.gatesHash ?? null) !== (now.details?.gatesHash ?? null))
      unmet.push({
        requirement: `evidence:${kind}`,
        reason: `run ${now.details?.runId ?? "?"} was judged by other release gates than this request's: evaluate again`,
      });
    else if (now.passed !== true)
      unmet.push({
        requirement: `evidence:${kind}`,
        reason: now.details?.failures?.length
          ? `run ${now.details.runId}: ${now.details.failures.map((f) => f.reason).join("; ")}`
          : `the ${kind} evidence did not pass`,
      });
    else if (!then || then.contentHash !== now.contentHash)
      unmet.push({
        requirement: `evidence:${kind}`,
        reason: `the ${kind} evidence changed after the request: the approval is void`,
      });
  }
  return { satisfied: unmet.length === 0, unmet, quorum };
}
