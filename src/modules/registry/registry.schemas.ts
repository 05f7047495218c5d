import { z } from "@hono/zod-openapi";
import { PROVIDER_KINDS } from "../../providers/registrations.ts";
import { CardContentSchema } from "../cards/card-sections.ts";

// The semver 2.0.0 grammar (semver.org), strict: no leading "v", no leading zeros.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

export const Slug = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "must be a slug: lowercase letters, digits and inner hyphens");
/** The store keeps major, minor and patch as PostgreSQL integers. */
const MAX_VERSION_PART = 2_147_483_647;
export const SemverString = z
  .string({
    // YAML reads `version: 1.6` as a number: say what to write instead.
    error: (issue) =>
      issue.input === undefined
        ? "required"
        : `must be a string such as "1.6.0" (quote it in YAML: version: "1.6.0"; got ${JSON.stringify(issue.input)})`,
  })
  .max(128)
  .regex(SEMVER, "must be a strict semantic version (semver 2.0.0), e.g. 1.4.0")
  .refine(
    (v) => (v.split(/[-+]/)[0] ?? "").split(".").every((n) => Number(n) <= MAX_VERSION_PART),
    `major, minor and patch must each be at most ${MAX_VERSION_PART}`,
  );
export const AliasName = z
  .string()
  .max(63)
  .regex(/^[a-z][a-z0-9-]*$/, "must start with a letter and hold lowercase letters, digits and hyphens");
export const Label = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9_.:/-]*$/, "lowercase letters, digits and _ . : / -");

export const RISK_TIERS = ["low", "medium", "high", "critical"] as const;
export const STATUSES = ["development", "canary", "production", "deprecated", "retired"] as const;
export type Status = (typeof STATUSES)[number];

export const RetentionSchema = z
  .object({
    keepProduction: z
      .number()
      .int()
      .min(1)
      .max(100)
      .describe("production versions kept for instant rollback"),
    keepDeprecated: z.number().int().min(0).max(100).describe("deprecated versions kept before retirement"),
  })
  .strict()
  .openapi("Retention");
export type Retention = z.infer<typeof RetentionSchema>;

const JsonSchemaObject = z.union([z.record(z.string(), z.unknown()), z.boolean()]);
export const ContractSchema = z
  .object({ input: JsonSchemaObject.optional(), output: JsonSchemaObject.optional() })
  .strict()
  .openapi("Contract", { description: "Input/output contract as JSON Schema" });

export const Metrics = z.record(z.string().min(1).max(100), z.number().finite());

export const ModelCreateSchema = z
  .object({
    name: Slug,
    owner: z.string().min(1).max(200),
    description: z.string().max(10_000).default(""),
    useCases: z.array(Label).max(50).default([]),
    riskTier: z.enum(RISK_TIERS),
    tags: z.array(Label).max(50).default([]),
    retention: RetentionSchema.optional(),
  })
  .strict()
  .openapi("ModelCreate");
export type ModelCreate = z.infer<typeof ModelCreateSchema>;

export const ModelPatchSchema = z
  .object({
    owner: z.string().min(1).max(200),
    description: z.string().max(10_000),
    useCases: z.array(Label).max(50),
    riskTier: z.enum(RISK_TIERS),
    tags: z.array(Label).max(50),
    retention: RetentionSchema.nullable(),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, "give at least one field to change")
  .openapi("ModelPatch");
export type ModelPatch = z.infer<typeof ModelPatchSchema>;

/** A retraining task's id, as `modelgov retraining list` shows it. */
export const RetrainingTaskId = z
  .string()
  .max(100)
  .regex(/^rtk_[a-z0-9]{1,90}$/, "a retraining task id (rtk_…)");

export const RetrainedFromSchema = z
  .object({
    version: SemverString.describe("the version of the same model it was retrained from"),
    task: RetrainingTaskId.describe("the retraining task it answers (rtk_…), open on the same model"),
  })
  .strict();

export const VersionCreateSchema = z
  .object({
    version: SemverString.describe('the semantic version, e.g. "1.4.0" (quote it in YAML)'),
    provider: z
      .enum(PROVIDER_KINDS)
      .describe(
        "who serves it: a provider's API, an OpenAI-compatible server, the built-in simulator, or a router over other models (docs/routing.md)",
      ),
    providerModelId: z.string().min(1).max(200).describe("pinned provider model id, e.g. gpt-4o-2024-08-06"),
    endpoint: z
      .string()
      .url()
      .max(2000)
      .refine(
        (u) => /^https?:\/\//i.test(u),
        "must be an http:// or https:// URL (file://, gopher:// and the like are refused)",
      )
      .refine((u) => {
        try {
          const url = new URL(u);
          return !url.username && !url.password;
        } catch {
          return false;
        }
      }, "must not carry credentials (name the API key's variable in parameters.apiKeyEnv)")
      .optional()
      .describe(
        "the provider's base URL: required for openai-compatible, optional for openai and anthropic, refused for simulator; its host must be on MODELGOV_EGRESS_ALLOW_HOSTS",
      ),
    parameters: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        "per provider: sampling defaults (temperature, top_p, max_tokens), timeout_ms, apiKeyEnv (the variable holding the API key); for simulator its own (simulator-parameters.md)",
      ),
    artifact: z
      .object({
        uri: z.string().min(1).max(2000).describe("where the weights or package live"),
        digest: z
          .string()
          .regex(/^sha256:[a-f0-9]{64}$/, "must be sha256:<64 hex digits>")
          .describe("sha256:<64 hex digits> of the artifact"),
      })
      .strict()
      .optional()
      .describe("a self-hosted model's artifact, pinned by its digest"),
    contract: ContractSchema.optional().describe(
      "JSON Schemas of the input and output (`input`, `output`); a new version is checked against the previous one's",
    ),
    changelog: z.string().max(50_000).default("").describe("what changed since the previous version"),
    metrics: Metrics.default({}).describe(
      "offline metrics by name, e.g. success_rate: 0.92; `recommend` ranks by them",
    ),
    limitations: z
      .array(z.string().min(1).max(2000))
      .max(100)
      .default([])
      .describe("known limitations, shown on the model card"),
    tags: z
      .array(Label)
      .max(50)
      .default([])
      .describe("labels to search by: lowercase letters, digits and _ . : / -"),
    card: CardContentSchema.optional().describe(
      "the model card as structured sections (title, metadata, sections, extraSections); see `modelgov cards`",
    ),
    retrainedFrom: RetrainedFromSchema.optional().describe(
      "a retrained candidate: the version it was retrained from and the retraining task it answers; registering it moves the task to candidate_registered (docs/retraining.md)",
    ),
  })
  .strict()
  .openapi("VersionCreate");
export type VersionCreate = z.infer<typeof VersionCreateSchema>;

export const VersionPatchSchema = z
  .object({
    metrics: Metrics,
    limitations: z.array(z.string().min(1).max(2000)).max(100),
    tags: z.array(Label).max(50),
  })
  .partial()
  .strict()
  .refine((p) => Object.keys(p).length > 0, "give at least one of metrics, limitations, tags")
  .openapi("VersionPatch");
export type VersionPatch = z.infer<typeof VersionPatchSchema>;

export const StatusChangeSchema = z
  .object({ status: z.enum(STATUSES), reason: z.string().max(2000).default("") })
  .strict()
  .openapi("StatusChange");

export const AliasSetSchema = z
  .object({ version: SemverString, reason: z.string().max(2000).default("") })
  .strict()
  .openapi("AliasSet");

const Limit = z.coerce.number().int().min(1).max(500).default(50);
const Cursor = z.string().max(500).optional();

export const ModelQuerySchema = z.object({
  q: z.string().max(200).optional(),
  useCase: z.string().max(100).optional(),
  owner: z.string().max(200).optional(),
  tag: z.string().max(100).optional(),
  riskTier: z.enum(RISK_TIERS).optional(),
  status: z.enum(STATUSES).optional().describe("models having a version in this status"),
  provider: z.string().max(100).optional().describe("models having a version on this provider"),
  limit: Limit,
  cursor: Cursor,
});
export type ModelQuery = z.infer<typeof ModelQuerySchema>;

export const VersionQuerySchema = z.object({
  model: z.string().max(63).optional(),
  q: z.string().max(200).optional(),
  useCase: z.string().max(100).optional(),
  owner: z.string().max(200).optional(),
  tag: z.string().max(100).optional(),
  status: z.enum(STATUSES).optional(),
  provider: z.string().max(100).optional(),
  limit: Limit,
  cursor: Cursor,
});
export type VersionQuery = z.infer<typeof VersionQuerySchema>;

export const RecommendQuerySchema = z.object({
  useCase: z.string().min(1).max(100),
  metric: z.string().min(1).max(100),
  order: z
    .enum(["asc", "desc"])
    .optional()
    .describe("default: asc for latency/cost/error metrics, else desc"),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});
export type RecommendQuery = z.infer<typeof RecommendQuerySchema>;

export const ModelSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    description: z.string(),
    useCases: z.array(z.string()),
    riskTier: z.enum(RISK_TIERS),
    tags: z.array(z.string()),
    retention: RetentionSchema.nullable(),
    aliases: z.record(z.string(), z.string()).describe("alias → version"),
    versionCount: z.number().int(),
    latestVersion: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Model");
export type Model = z.infer<typeof ModelSchema>;

export const VersionSchema = z
  .object({
    id: z.string(),
    model: z.string(),
    modelId: z.string(),
    version: z.string(),
    provider: z.string(),
    providerModelId: z.string(),
    endpoint: z.string().nullable(),
    parameters: z.record(z.string(), z.unknown()),
    artifact: z.object({ uri: z.string(), digest: z.string() }).nullable(),
    contract: ContractSchema.nullable(),
    changelog: z.string(),
    pinnedDigest: z.string().describe("sha256 over the pinned fields"),
    metrics: z.record(z.string(), z.number()),
    limitations: z.array(z.string()),
    tags: z.array(z.string()),
    status: z.enum(STATUSES),
    aliases: z.array(z.string()),
    promotedAt: z.string().nullable(),
    retrainedFrom: z
      .object({ version: z.string(), task: z.string() })
      .nullable()
      .describe("the version it was retrained from and the retraining task it answers; null for others"),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi("Version");
export type Version = z.infer<typeof VersionSchema>;

export const page = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);
