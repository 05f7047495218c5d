/** The shapes the API returns, as the typed client (CLI and console) sees them. */
import type { z } from "zod";
import type { PairedComparison, RunAggregate } from "../engines/evaluation/index.ts";
import type { CardContent, CardValidation } from "../modules/cards/index.ts";
import type { CaseRow, RunReport, RunView } from "../modules/evals/index.ts";
import type { Token } from "../modules/identity/index.ts";

/** An error answer of the API: the problem+json document, kept whole. */

export class ApiError extends Error {
  readonly status: number;
  readonly problem: {
    code?: string;
    detail?: string;
    errors?: { field: string; reason: string }[];
    [k: string]: unknown;
  };
  constructor(status: number, problem: ApiError["problem"]) {
    super(problem.detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }
}

export interface ClientOptions {
  baseUrl: string;
  /** The API token, sent as `Authorization: Bearer`. */
  token?: string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
export type Query = Record<string, string | number | boolean | undefined>;

/**
 * What a caller sends for a request body: the schema's input, before parsing, so a field
 * with a server default is optional here (the schema's output makes it required).
 */
export type Input<S extends z.ZodType> = z.input<S>;
/**
 * A query string's input. `z.coerce.number()` takes `unknown` in, which would let any value
 * through; such a field is typed as the number it becomes, still optional.
 */
export type QueryInput<S extends z.ZodType> = {
  [K in keyof z.input<S>]: unknown extends z.input<S>[K]
    ? (K extends keyof z.output<S> ? z.output<S>[K] : never) | undefined
    : z.input<S>[K];
};
export interface CardRevisionView {
  id: string;
  revision: number;
  contentHash: string;
  source: string;
  createdBy: string;
  createdAt: string;
  model: string;
  version: string;
  content: CardContent;
  validation: CardValidation;
  changed?: boolean;
}
export interface AliasMove {
  alias: string;
  version: string | null;
  previousVersion: string | null;
  reason: string;
  actor: string;
  at: string;
}
export interface PlanItem {
  action: string;
  target: string;
  changes?: Record<string, { from: unknown; to: unknown }>;
}
export type { RegistryPolicy } from "../modules/registry/index.ts";
/** A created token: its secret (`token`) is in this answer only. */
export type TokenCreated = Token & { token: string };
export interface WhoAmI {
  name: string;
  roles: string[];
  permissions: string[];
  builtInRoles: string[];
}

export interface ApprovalRule {
  name: string;
  match: { models?: string[]; riskTiers?: string[]; useCases?: string[] };
  roles: Record<string, number>;
  evidence: string[];
  signoffTtlDays: number;
  allowSameSignerForMultipleRoles: boolean;
}
export interface SignoffView {
  id: string;
  signer: string;
  role: string;
  decision: "approve" | "reject";
  comment: string;
  evidenceRefs: string[];
  signedAt: string;
}
export interface EvidenceView {
  id: string;
  kind: string;
  uri: string;
  contentHash: string;
  passed: boolean | null;
  summary: string;
  attachedBy: string;
  attachedAt: string;
  /** Computed by a platform evaluation run (`runId`), or attested by `attachedBy`. */
  provenance: "computed" | "attested";
  /** The evaluation run behind benchmark-passed / fairness-passed evidence. */
  runId?: string | null;
  /** The gates' verdict: gatesHash, failures, acceptance. */
  details?: Record<string, unknown> | null;
}
/** Evidence a request was made on; provenance is absent on requests made before it was recorded. */
export interface RequestEvidenceView {
  id: string;
  kind: string;
  contentHash: string;
  passed: boolean | null;
  provenance?: "computed" | "attested";
  attachedBy?: string;
}
export interface ApprovalRequestView {
  id: string;
  model: string;
  version: string;
  requestedBy: string;
  summary: string;
  evidenceRefs: string[];
  status: "pending" | "approved" | "rejected" | "voided";
  cardHash: string | null;
  evidence: RequestEvidenceView[];
  requirements: {
    rules: string[];
    roles: Record<string, number>;
    evidence: string[];
    /** benchmark / fairness: kinds for which an attested report counts (absent on requests made before provenance was recorded). */
    acceptAttested?: string[];
    signoffTtlDays: number;
    allowSameSignerForMultipleRoles: boolean;
  };
  signoffs: SignoffView[];
  createdAt: string;
  decidedAt: string | null;
  voidedAt: string | null;
  voidReason: string | null;
  inForce: boolean;
  unmet: { requirement: string; reason: string }[];
}
export interface AsOfView {
  model: string;
  at: string;
  production: string | null;
  aliases: Record<string, string>;
  versions: { version: string; status: string }[];
  approvals: {
    requestId: string;
    version: string;
    requestedBy: string;
    approvedAt: string | null;
    summary: string;
    signoffs: SignoffView[];
    cardHash: string | null;
    evidence: RequestEvidenceView[];
  }[];
}

export interface RouteConfigView {
  split: { version: string; weight: number }[] | null;
  /** The split's identity (an experiment's id); null with no split. */
  splitScope?: string | null;
  /** Shadow mode: a share of plain calls mirrored to this version. */
  shadow?: { version: string; share: number } | null;
  fallback: string[];
  /** The string flag that decides the version for a bare-name request (docs/flags.md). */
  flag?: string | null;
  allowPinning: boolean;
  timeouts?: { totalMs?: number; firstByteMs?: number; idleMs?: number };
  breaker?: Record<string, number>;
  prices: Record<string, { inputPer1kUsd: number; outputPer1kUsd: number }>;
}

/** An evaluation run as the API returns it (report: modules/evals/report.ts RunReport). */
export type EvalRunView = Omit<RunView, "report"> & { report: RunReport | null; resumed?: boolean };
export type EvalCaseView = CaseRow & { seq: number };
export type EvalComparisonView = PairedComparison & {
  suite: string;
  suiteHash: string;
  a: { id: string; model: string; version: string; status: string; aggregate: RunAggregate | null };
  b: { id: string; model: string; version: string; status: string; aggregate: RunAggregate | null };
};

/** The standard card sections: plain data with no imports, so the console's bundle can hold it. */
export { STANDARD_SECTIONS } from "../modules/cards/standard-sections.ts";
/*
 * The API's views that the console and the CLI name, through the client: callers outside the
 * server never import a module's route or schema files.
 */
export type { ExperimentApiView } from "../modules/experiments/index.ts";
export type { RolloutApiView, ShadowReportView } from "../modules/rollouts/index.ts";
