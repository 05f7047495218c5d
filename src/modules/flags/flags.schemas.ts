import { z } from "@hono/zod-openapi";
import { FLAG_KEY } from "../../engines/flags/index.ts";

export const FLAG_TYPES = ["boolean", "string", "number", "object"] as const;
export const FlagKey = z
  .string()
  .regex(FLAG_KEY, "letters, digits, '.', '_' and '-', starting with a letter or digit (at most 128)");
const VariantName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "letters, digits, '.', '_' and '-' (at most 64)");
const Time = z.string().datetime({ offset: true });

const ConditionSchema = z.record(z.string(), z.unknown()).openapi("FlagCondition", {
  description:
    "The routing conditions' query shape over the evaluation context: `{ tenant: internal }`, `{ region: { $in: [eu-west] } }`, `$and`, `$or`, `$not`; a path names a context attribute, bare or as `context.<name>`",
});

const RuleSchema = z
  .object({
    when: ConditionSchema.optional().describe(
      "the rule holds for contexts this matches (every context when absent)",
    ),
    variant: VariantName.optional().describe("the variant the rule gives"),
    rollout: z
      .array(
        z
          .object({
            variant: VariantName.describe("a variant of the flag"),
            weight: z.number().min(0).describe("its share, relative to the other slices' weights"),
          })
          .strict(),
      )
      .min(1)
      .optional()
      .describe("or a sticky split among variants by relative weight, hashed on the context's targetingKey"),
  })
  .strict()
  .refine((r) => (r.variant === undefined) !== (r.rollout === undefined), {
    message: "a rule gives a variant or a rollout, not both",
  })
  .openapi("FlagRule");

/** A flag as written (API body, `modelgov flags set -f`, modelgov.yaml `flags:`). */
export const FlagInputSchema = z
  .object({
    key: FlagKey,
    type: z.enum(FLAG_TYPES).describe("the type of every variant's value: boolean, string, number or object"),
    description: z.string().max(2000).default("").describe("what the flag is for"),
    variants: z
      .record(VariantName, z.unknown())
      .describe(
        "name -> value, each of the flag's type; a string naming `model@1.2.0` or `model@alias` must be servable",
      ),
    defaultVariant: VariantName.describe(
      "served when no rule holds, and to everyone while disabled or out of schedule",
    ),
    enabled: z.boolean().default(true).describe("false serves the default variant to everyone"),
    rules: z.array(RuleSchema).max(200).default([]).describe("in order: the first that holds decides"),
    schedule: z
      .object({
        onAt: Time.optional().describe("the rules apply from this instant (ISO 8601)"),
        offAt: Time.optional().describe("the default variant again from this instant (ISO 8601)"),
      })
      .strict()
      .optional()
      .describe("on from onAt, off from offAt (ISO 8601)"),
  })
  .strict()
  .openapi("FlagInput");
export type FlagInput = z.output<typeof FlagInputSchema>;

export const FlagSchema = z
  .object({
    key: z.string(),
    type: z.enum(FLAG_TYPES),
    description: z.string(),
    variants: z.record(z.string(), z.unknown()),
    defaultVariant: z.string(),
    enabled: z.boolean(),
    rules: z.array(RuleSchema),
    schedule: z.object({ onAt: z.string().optional(), offAt: z.string().optional() }).optional(),
    revision: z.number().int(),
    updatedAt: z.string(),
    updatedBy: z.string(),
  })
  .openapi("Flag");
export type Flag = z.output<typeof FlagSchema>;

export const FLAG_CHANGES = ["created", "updated", "enabled", "disabled", "deleted"] as const;
export const FlagRevisionSchema = z
  .object({
    key: z.string(),
    revision: z.number().int(),
    change: z.enum(FLAG_CHANGES),
    actor: z.string(),
    at: z.string(),
    flag: FlagSchema.nullable().describe("the flag as this change left it; null once deleted"),
  })
  .openapi("FlagRevision");
export type FlagRevision = z.output<typeof FlagRevisionSchema>;

export const EvaluationContextSchema = z.record(z.string(), z.unknown()).openapi("EvaluationContext", {
  description: "OpenFeature evaluation context: targetingKey and any attributes",
});

export const FlagChangeRequestSchema = z
  .object({
    id: z.string(),
    key: z.string(),
    change: z.enum(FLAG_CHANGES).describe("what the change does to the flag"),
    baseRevision: z
      .number()
      .int()
      .nullable()
      .describe("the flag's revision it was proposed against (null: a new flag)"),
    proposed: FlagInputSchema.nullable().describe("the flag as the change leaves it; null for a delete"),
    reason: z.string(),
    requestedBy: z.string(),
    requirements: z.object({
      rules: z.array(z.string()).describe("the policy's flagChanges rules that asked for sign-offs"),
      roles: z.record(z.string(), z.number()),
      allowSameSignerForMultipleRoles: z.boolean(),
    }),
    status: z
      .enum(["pending", "applied", "rejected", "withdrawn", "superseded", "lapsed"])
      .describe("superseded: the flag moved after the change was proposed; lapsed: not signed in time"),
    createdAt: z.string(),
    expiresAt: z.string(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    appliedRevision: z.number().int().nullable(),
    signoffs: z.array(
      z.object({
        signer: z.string(),
        role: z.string(),
        decision: z.enum(["approve", "reject"]),
        comment: z.string(),
        signedAt: z.string(),
      }),
    ),
  })
  .openapi("FlagChangeRequest");
export type FlagChangeRequest = z.output<typeof FlagChangeRequestSchema>;

export const FlagChangeSignSchema = z
  .object({
    role: z.string().min(1).max(50).describe("the role you sign for; your token must hold it"),
    decision: z.enum(["approve", "reject"]),
    comment: z.string().max(5000).default(""),
  })
  .strict()
  .openapi("FlagChangeSign");
