import { z } from "@hono/zod-openapi";
import { ApprovalPolicySchema } from "../approvals/approvals.schemas.ts";
import { CardContentSchema, SectionKeySchema } from "../cards/card-sections.ts";
import { FlagInputSchema, FlagKey } from "../flags/flags.schemas.ts";
import { RouteConfigSchema } from "../gateway/routing/route-config.ts";
import { MonitorConfigSchema } from "../monitoring/monitoring.schemas.ts";
import {
  Label,
  Metrics,
  ModelCreateSchema,
  RetentionSchema,
  VersionCreateSchema,
} from "../registry/index.ts";
import { PlanBodySchema } from "../rollouts/plan.schema.ts";
import { TrafficTargetSchema } from "../traffic/index.ts";

/**
 * `modelgov.yaml`: the governance spec. Fields a model or version leaves out are not
 * managed by the spec; nothing absent from the spec is ever deleted. Later issues add
 * sections (approvals, rollouts, routes, monitoring).
 */
// A retrained candidate names a live task: it is registered through the API or the CLI, not declared.
export const SpecVersionSchema = VersionCreateSchema.omit({ card: true, retrainedFrom: true })
  .extend({
    // No defaults here: left out means "not managed by the spec", so apply never resets them.
    metrics: Metrics.optional(),
    limitations: z.array(z.string().min(1).max(2000)).max(100).optional(),
    tags: z.array(Label).max(50).optional(),
    card: CardContentSchema.optional().describe("the card as structured sections"),
    cardMarkdown: z.string().max(1_000_000).optional().describe("the card as Hugging Face Markdown"),
    cardFile: z
      .string()
      .max(1000)
      .optional()
      .describe("path of a Hugging Face card, relative to the spec file; the CLI inlines it as cardMarkdown"),
  })
  .strict()
  .refine((v) => [v.card, v.cardMarkdown, v.cardFile].filter((x) => x !== undefined).length <= 1, {
    message: "give at most one of card, cardMarkdown, cardFile",
    path: ["card"],
  });

export const SpecModelSchema = ModelCreateSchema.extend({
  description: z.string().max(10_000).optional(),
  useCases: z.array(Label).max(50).optional(),
  tags: z.array(Label).max(50).optional(),
  versions: z.array(SpecVersionSchema).max(1000).default([]),
}).strict();

export const SpecSchema = z
  .object({
    $schema: z.string().optional().describe("the JSON Schema, for editors: schema/modelgov.schema.json"),
    apiVersion: z.literal("modelgov/v1").describe("the spec format's version"),
    registry: z
      .object({
        retention: RetentionSchema.optional().describe("how many old versions each model keeps, by default"),
        requiredCardSections: z
          .array(SectionKeySchema)
          .optional()
          .describe("model card sections a version needs before approval"),
      })
      .strict()
      .optional()
      .describe("registry-wide settings"),
    approvals: ApprovalPolicySchema.optional().describe("who must sign before a version reaches production"),
    routes: z
      .record(z.string().max(63), RouteConfigSchema)
      .optional()
      .describe("gateway routing per model: split, fallback, pinning, timeouts, breaker, prices"),
    trafficTargets: z
      .record(z.string().max(63), TrafficTargetSchema)
      .optional()
      .describe(
        "containerised models: the HTTPRoute or VirtualService whose weights follow each model's rollouts (docs/containers.md)",
      ),
    flags: z
      .record(FlagKey, FlagInputSchema.omit({ key: true }))
      .optional()
      .describe(
        "feature flags by key: type, variants, defaultVariant, rules, schedule (docs/flags.md); a flag left out is not touched",
      ),
    monitors: z
      .record(
        z.string().regex(/^(\*|[a-z0-9][a-z0-9._-]{0,62})$/, "a model name, or * for the workspace default"),
        MonitorConfigSchema,
      )
      .optional()
      .describe(
        "monitoring per model (* is the workspace default): baseline and rules in words, e.g. 'success rate drops >10% from baseline for >5 consecutive days' (docs/monitoring.md)",
      ),
    rollouts: z
      .object({
        plans: z
          .record(
            z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "a plan name: lowercase, digits, - and _"),
            PlanBodySchema,
          )
          .default({})
          .describe("named canary plans, used as `modelgov rollout start <model>@<version> --plan <name>`"),
      })
      .strict()
      .optional()
      .describe("rollout settings: named plans"),
    models: z
      .array(SpecModelSchema)
      .max(10_000)
      .default([])
      .describe("the models and their versions (each a version file); a model left out is not touched"),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Map<string, number>();
    spec.models.forEach((m, i) => {
      if (seen.has(m.name))
        ctx.addIssue({
          code: "custom",
          path: ["models", i, "name"],
          message: `duplicate model '${m.name}' (also models[${seen.get(m.name)}])`,
        });
      seen.set(m.name, i);
      const versions = new Set<string>();
      m.versions.forEach((v, j) => {
        if (versions.has(v.version))
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "versions", j, "version"],
            message: `duplicate version ${v.version}`,
          });
        versions.add(v.version);
      });
    });
  })
  .openapi("GovernanceSpec");
export type Spec = z.infer<typeof SpecSchema>;

export const ApplyRequestSchema = z
  .object({ spec: SpecSchema, dryRun: z.boolean().default(false) })
  .strict()
  .openapi("ApplyRequest");

export const PlanItemSchema = z
  .object({
    action: z.enum([
      "update_policy",
      "update_approval_policy",
      "update_route",
      "update_traffic_target",
      "update_rollout_plan",
      "update_monitor",
      "create_flag",
      "update_flag",
      "request_flag_change",
      "create_model",
      "update_model",
      "register_version",
      "update_version",
      "revise_card",
    ]),
    target: z.string(),
    changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
  })
  .openapi("PlanItem");
export type PlanItem = z.infer<typeof PlanItemSchema>;

export const ApplyResultSchema = z
  .object({
    dryRun: z.boolean(),
    applied: z.boolean(),
    changes: z.array(PlanItemSchema),
    specHash: z.string(),
  })
  .openapi("ApplyResult");
