import { z } from "@hono/zod-openapi";

const Reason = z
  .string({ error: (i) => (i.input === undefined ? "required: say why" : "must be a string") })
  .trim()
  .min(1, "required: say why")
  .max(2000);

export const EngageSchema = z
  .object({
    scope: z
      .enum(["version", "provider"])
      .describe("`version`: one model version; `provider`: every version served by that provider"),
    target: z
      .string()
      .min(1)
      .max(200)
      .describe(
        "`model@1.2.0` for a version; a provider name (openai, anthropic, simulator, ...) for a provider",
      ),
    reason: Reason.describe("why the switch is pulled: shown to every caller it refuses"),
  })
  .strict()
  .openapi("KillSwitchEngage");
export type EngageInput = z.infer<typeof EngageSchema>;

export const ReleaseSchema = z
  .object({ reason: Reason.describe("why the switch is released") })
  .strict()
  .openapi("KillSwitchRelease");

export const KillSwitchSchema = z
  .object({
    id: z.string(),
    scope: z.enum(["version", "provider"]),
    target: z.string().describe("`model@version` or the provider name"),
    versionId: z.string().nullable(),
    state: z.enum(["engaged", "released"]),
    reason: z.string(),
    engagedBy: z.string(),
    engagedAt: z.string(),
    releasedBy: z.string().nullable(),
    releasedAt: z.string().nullable(),
    releaseReason: z.string().nullable(),
  })
  .openapi("KillSwitch");
export type KillSwitch = z.infer<typeof KillSwitchSchema>;

export const KillSwitchListSchema = z.object({ items: z.array(KillSwitchSchema) }).openapi("KillSwitchList");

export const KillSwitchQuerySchema = z.object({
  state: z
    .enum(["engaged", "released", "all"])
    .default("all")
    .describe("engaged switches, released ones, or all (newest first)"),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const KillSwitchIdParam = z.object({
  id: z.string().regex(/^ksw_[a-z0-9]+$/, "must be a kill switch id (ksw_…)"),
});

/** A switch in words, as every refusal, failed case and decision it causes names it. */
export const describeSwitch = (sw: Pick<KillSwitch, "id" | "scope" | "target" | "engagedBy" | "reason">) =>
  `kill switch ${sw.id} (${sw.scope} ${sw.target}, engaged by ${sw.engagedBy}: ${sw.reason})`;
