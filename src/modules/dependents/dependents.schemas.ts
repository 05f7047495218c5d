import { z } from "@hono/zod-openapi";
import { parseWindow } from "../../lib/window.ts";
import { RouterPathsSchema } from "../request-log/index.ts";

export const DependentsQuerySchema = z.object({
  window: z
    .string()
    .max(20)
    .default("24h")
    .refine((w) => parseWindow(w) !== null, "a duration like 15m, 24h or 7d (at most 366d)")
    .openapi({ description: "how far back to look: 15m, 24h, 7d, 2w", example: "7d" }),
});
export type DependentsQuery = z.infer<typeof DependentsQuerySchema>;

export const DependentSchema = z
  .object({
    client: z.string().describe("the calling token's name"),
    versionId: z.string().nullable(),
    version: z.string().nullable().describe("null for requests no version answered (refused, unroutable)"),
    requests: z.number().int(),
    errors: z.number().int().describe("requests answered with a status of 400 or above"),
    errorRate: z.number(),
    lastSeen: z.string(),
  })
  .openapi("Dependent");
export type Dependent = z.infer<typeof DependentSchema>;

export const DependentsSchema = z
  .object({
    model: z.string(),
    window: z.string(),
    since: z.string(),
    until: z.string(),
    totals: z.object({
      requests: z.number().int(),
      errors: z.number().int(),
      clients: z.number().int(),
      versions: z.number().int(),
    }),
    dependents: z.array(DependentSchema).describe("one row per client × version, busiest first"),
    paths: z
      .array(RouterPathsSchema)
      .describe(
        "when the model's versions are routers: per router version with traffic in the window, its paths (the tiers each calls) with success and cost per success",
      ),
    calledBy: z
      .array(
        RouterPathsSchema.extend({
          model: z.string().describe("the router's model"),
          viaTiers: z.array(z.string()).describe("its tiers that call this model"),
        }),
      )
      .describe("routers whose tiers call this model: per router version, the paths through those tiers"),
  })
  .openapi("Dependents");
export type Dependents = z.infer<typeof DependentsSchema>;
