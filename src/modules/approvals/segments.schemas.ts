import { z } from "@hono/zod-openapi";
import { CONTEXT_PATHS, ConditionError, compileCondition } from "../../engines/routing/index.ts";
import { RoleName } from "../identity/index.ts";
import { Label } from "../registry/index.ts";

/** Signatures per role: what approval rules, segments and flag-change rules ask for. */
export const Roles = z
  .record(RoleName, z.number().int().min(1).max(20))
  .refine((r) => Object.keys(r).length > 0, "name at least one role that must sign")
  .refine(
    (r) => !Object.keys(r).some((k) => k === "agent" || k === "viewer"),
    "agent and viewer cannot sign approvals",
  );

/** Which models a rule applies to (approval rules, release gates, flag-change rules). */
export const RuleMatchSchema = z
  .object({
    models: z.array(z.string().max(63)).optional().describe("model names"),
    riskTiers: z
      .array(z.enum(["low", "medium", "high", "critical"]))
      .optional()
      .describe("the model's risk tier"),
    useCases: z.array(z.string().max(100)).optional().describe("any of the model's use cases"),
  })
  .strict()
  .default({});

/**
 * A segment of traffic and what a version must have before a flag may send it there (issue 19:
 * the release gate per segment). Checked on every flag write and enable.
 */
export const SegmentSchema = z
  .object({
    name: z.string().min(1).max(100).describe("unique among the segments"),
    description: z.string().max(2000).default("").describe("what the segment is, for people"),
    when: z
      .record(z.string(), z.unknown())
      .superRefine((c, ctx) => {
        try {
          compileCondition(c, "", CONTEXT_PATHS);
        } catch (e) {
          if (!(e instanceof ConditionError)) throw e;
          ctx.addIssue({ code: "custom", path: e.at ? e.at.split(".") : [], message: e.message });
        }
      })
      .describe(
        "the evaluation contexts in the segment, in the flags' condition language: `{ region: { $in: [eu-west, eu-central] } }`",
      ),
    require: z
      .object({
        tags: z
          .array(Label)
          .min(1)
          .optional()
          .describe("the version carries every one of these tags (hosting:eu)"),
        gates: z
          .array(z.string().min(1).max(100))
          .min(1)
          .optional()
          .describe("release gates (by name) the version's latest completed evaluation run passes"),
        roles: Roles.optional().describe(
          "approving sign-offs per role the version's latest approval carries ({ compliance: 1 })",
        ),
      })
      .strict()
      .refine((r) => r.tags || r.gates || r.roles, "require tags, gates or roles")
      .describe("what a version served to the segment must have"),
  })
  .strict()
  .openapi("Segment");
export type Segment = z.infer<typeof SegmentSchema>;

/** Which flag changes wait for sign-offs (issue 19: flag changes follow the approval policy). */
export const FlagChangeRuleSchema = z
  .object({
    name: z.string().min(1).max(100).describe("unique among the flag-change rules"),
    match: RuleMatchSchema.describe(
      "the models whose traffic the flag steers (a variant names one, before or after the change, or its route defers to the flag); empty: any model",
    ),
    keys: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\*?$/, "a flag key, or a prefix ending in *"))
      .min(1)
      .optional()
      .describe(
        "flag keys (`checkout.*` for a prefix); given alone, these flags are governed whether or not they steer a model",
      ),
    roles: Roles.describe("sign-offs needed per role before the change applies, e.g. { engineering: 1 }"),
    allowSameSignerForMultipleRoles: z
      .boolean()
      .default(false)
      .describe("one person holding two roles may sign for both"),
    expiresAfterDays: z
      .number()
      .int()
      .min(1)
      .max(90)
      .default(7)
      .describe("a change not signed within this many days lapses"),
  })
  .strict()
  .openapi("FlagChangeRule");
export type FlagChangeRule = z.infer<typeof FlagChangeRuleSchema>;
