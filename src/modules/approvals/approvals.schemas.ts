import { z } from "@hono/zod-openapi";
import { FAIRNESS_METRICS } from "../../engines/fairness/index.ts";
import { ATTESTABLE_KINDS, EVIDENCE_KINDS } from "../../engines/policy/approval-policy.ts";
import { RoleName } from "../identity/identity.schemas.ts";
import { FlagChangeRuleSchema, Roles, RuleMatchSchema, SegmentSchema } from "./segments.schemas.ts";

export const ApprovalRuleSchema = z
  .object({
    name: z.string().min(1).max(100).describe("unique among the rules"),
    match: RuleMatchSchema.describe(
      "which models it applies to: fields AND together, values within a field OR; empty: every model",
    ),
    roles: Roles.describe("signatures needed per role, e.g. { engineering: 1, compliance: 1 }"),
    evidence: z
      .array(z.enum(EVIDENCE_KINDS))
      .default(["card"])
      .describe(
        "what must be in place before signing: card (complete model card), benchmark / fairness (met by an evaluation run that passed the release gates, or an attested report where acceptAttested allows)",
      ),
    acceptAttested: z
      .array(z.enum(ATTESTABLE_KINDS))
      .optional()
      .describe(
        "benchmark / fairness: a report a person attached (attested) counts for these; by default only evidence computed by an evaluation run does",
      ),
    signoffTtlDays: z.number().int().min(1).max(3650).default(90).describe("days a signature stays valid"),
    allowSameSignerForMultipleRoles: z
      .boolean()
      .default(false)
      .describe("one person holding two roles may sign for both"),
  })
  .strict()
  .openapi("ApprovalRule");

const AttributeName = z.string().regex(/^[a-z][a-z0-9_]{0,49}$/, "an attribute name (age_band)");
const Selector = z.union([
  z.string().min(1),
  z.record(AttributeName, z.string()),
  z.array(z.union([z.string().min(1), z.record(AttributeName, z.string())])).min(1),
]);
const Min = (max: number) =>
  z.object({ min: z.number().min(0).max(max).describe("the least value that passes") }).strict();
const Max = z.object({ max: z.number().min(0).describe("the most that passes") }).strict();

/** Release gates: the numbers an evaluation run must reach, per use case (docs/evals.md). */
export const ReleaseGateSchema = z
  .object({
    name: z.string().min(1).max(100).describe("unique among the gates"),
    match: ApprovalRuleSchema.shape.match.describe(
      "which models it applies to, as a rule's match (usually by use case)",
    ),
    suite: z.string().min(1).max(100).optional().describe("only runs of this suite count"),
    successRate: Min(1).optional().describe("share of cases that passed, 0..1"),
    meanScore: Min(1).optional().describe("mean case score, 0..1"),
    latencyP95Ms: Max.optional().describe("95th percentile latency, ms"),
    costPer1kUsd: Max.optional().describe("USD per 1,000 calls"),
    safetyViolations: Max.optional().describe("cases the safety scorer flagged"),
    fairness: z
      .object({
        maxGapPoints: z.number().min(0).max(100).optional().describe("largest gap between groups, in points"),
        minRatio: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe(
            "smallest ratio of a group's success rate to the best group's (0.8: the four-fifths rule)",
          ),
        privileged: Selector.optional().describe("AIF360 variants: the privileged groups"),
        unprivileged: Selector.optional().describe("AIF360 variants: the unprivileged groups"),
        metrics: z
          .array(z.enum(FAIRNESS_METRICS))
          .min(1)
          .optional()
          .describe("the fairness metrics checked (docs/fairness.md)"),
        attributes: z
          .array(AttributeName)
          .min(1)
          .optional()
          .describe("the case attributes compared, e.g. age_band"),
        intersections: z
          .array(z.array(AttributeName).min(2))
          .optional()
          .describe("attribute combinations also compared, e.g. [age_band, language]"),
        minGroupSize: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .optional()
          .describe("groups with fewer cases are left out (default 30)"),
      })
      .strict()
      .refine((f) => f.maxGapPoints !== undefined || f.minRatio !== undefined, "set maxGapPoints or minRatio")
      .optional()
      .describe("gaps between groups the run must stay within; set maxGapPoints or minRatio"),
  })
  .strict()
  .openapi("ReleaseGate");

export const ApprovalPolicySchema = z
  .object({
    rules: z.array(ApprovalRuleSchema).max(100),
    gates: z.array(ReleaseGateSchema).max(100).default([]),
    segments: z.array(SegmentSchema).max(100).default([]),
    flagChanges: z.array(FlagChangeRuleSchema).max(100).default([]),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const key of ["rules", "gates", "segments", "flagChanges"] as const) {
      const names = new Set<string>();
      p[key].forEach((r, i) => {
        if (names.has(r.name))
          ctx.addIssue({ code: "custom", path: [key, i, "name"], message: `duplicate name '${r.name}'` });
        names.add(r.name);
      });
    }
  })
  .openapi("ApprovalPolicy");
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;

/** `PUT /approvals/policy`: gates left out keep the ones in force (a file of rules alone drops none). */
export const ApprovalPolicyWriteSchema = z
  .object({
    rules: z
      .array(ApprovalRuleSchema)
      .max(100)
      .describe(
        "who must sign before a version reaches production; every matching rule applies, and with none matching the default rule does",
      ),
    gates: z
      .array(ReleaseGateSchema)
      .max(100)
      .optional()
      .describe("the release gates; left out, the gates in force stay as they are"),
    segments: z
      .array(SegmentSchema)
      .max(100)
      .optional()
      .describe(
        "segments of traffic and what a version a flag sends there must have; left out, those in force stay",
      ),
    flagChanges: z
      .array(FlagChangeRuleSchema)
      .max(100)
      .optional()
      .describe("which flag changes wait for sign-offs; left out, those in force stay"),
  })
  .strict()
  .openapi("ApprovalPolicyWrite");

export const PolicyWriteQuerySchema = z.object({
  dryRun: z.enum(["true", "false"]).optional().describe("true: answer what would change, and change nothing"),
  allowRemovals: z
    .enum(["true", "false"])
    .optional()
    .describe("true: the write may remove rules or gates (refused otherwise, naming them)"),
});

export const PolicyChangeSchema = z
  .object({
    kind: z.enum(["rule", "gate", "segment", "flagChange"]),
    name: z.string(),
    change: z.enum(["added", "removed", "changed"]),
  })
  .openapi("PolicyChange");
export type PolicyChange = z.infer<typeof PolicyChangeSchema>;

export const PolicyWriteResultSchema = z
  .object({
    dryRun: z.boolean(),
    changes: z.array(PolicyChangeSchema),
    policy: ApprovalPolicySchema,
  })
  .openapi("ApprovalPolicyWriteResult");

const Hash = z.string().regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<64 hex digits>");

export const EvidenceCreateSchema = z
  .object({
    kind: z.enum(["benchmark", "fairness"]).describe("card evidence is the version's model card itself"),
    uri: z.string().min(1).max(2000).describe("where the report lives"),
    contentHash: Hash.describe("SHA-256 of the report: a different report voids approvals made on this one"),
    passed: z.boolean(),
    summary: z.string().max(5000).default(""),
  })
  .strict()
  .openapi("EvidenceCreate");
export type EvidenceCreate = z.infer<typeof EvidenceCreateSchema>;

export const EvidenceSchema = z
  .object({
    id: z.string(),
    kind: z.string(),
    uri: z.string(),
    contentHash: z.string(),
    passed: z.boolean().nullable(),
    summary: z.string(),
    attachedBy: z.string(),
    attachedAt: z.string(),
    provenance: z
      .enum(["computed", "attested"])
      .describe(
        "computed by a platform evaluation run (runId), or attested by the person who attached it (attachedBy)",
      ),
    runId: z.string().nullable().describe("the evaluation run behind benchmark-passed / fairness-passed"),
    details: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("the gates' verdict: failures, gates hash"),
  })
  .openapi("Evidence");
export type Evidence = z.infer<typeof EvidenceSchema>;

export const RequestCreateSchema = z
  .object({
    summary: z.string().min(1).max(5000),
    evidenceRefs: z
      .array(z.string().max(2000))
      .max(50)
      .default([])
      .describe(
        "what the requester points the signers at (links, ticket ids); attached evidence is bound by hash anyway",
      ),
  })
  .strict()
  .openapi("ApprovalRequestCreate");

export const SignSchema = z
  .object({
    role: RoleName.describe("the role you sign for; your token must hold it"),
    decision: z.enum(["approve", "reject"]),
    comment: z.string().max(5000).default(""),
    evidenceRefs: z.array(z.string().max(2000)).max(50).default([]),
  })
  .strict()
  .openapi("SignOff");
export type Sign = z.infer<typeof SignSchema>;

const UnmetSchema = z.object({ requirement: z.string(), reason: z.string() });

export const SignoffSchema = z.object({
  id: z.string(),
  signer: z.string(),
  role: z.string(),
  decision: z.enum(["approve", "reject"]),
  comment: z.string(),
  evidenceRefs: z.array(z.string()),
  signedAt: z.string(),
});

export const ApprovalRequestSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    version: z.string(),
    versionId: z.string(),
    requestedBy: z.string(),
    summary: z.string(),
    evidenceRefs: z.array(z.string()),
    status: z.enum(["pending", "approved", "rejected", "voided"]),
    cardHash: z.string().nullable(),
    evidence: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        contentHash: z.string(),
        passed: z.boolean().nullable(),
        provenance: z.enum(["computed", "attested"]).optional(),
        attachedBy: z.string().optional(),
      }),
    ),
    requirements: z.object({
      rules: z.array(z.string()),
      roles: z.record(z.string(), z.number()),
      evidence: z.array(z.string()),
      gates: z.array(z.string()).optional(),
      gatesHash: z.string().nullable().optional(),
      acceptAttested: z.array(z.string()).optional(),
      signoffTtlDays: z.number(),
      allowSameSignerForMultipleRoles: z.boolean(),
    }),
    signoffs: z.array(SignoffSchema),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
    voidedAt: z.string().nullable(),
    voidReason: z.string().nullable(),
    inForce: z.boolean().describe("whether this request, evaluated now, lets the version reach production"),
    unmet: z.array(UnmetSchema),
  })
  .openapi("ApprovalRequest");
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;
