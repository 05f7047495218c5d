import { z } from "@hono/zod-openapi";
import { SemverString } from "../registry/index.ts";

/** Kubernetes object names: DNS-1123 labels (namespaces) and subdomains (routes, backends). */
const Label = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS-1123 label: lowercase letters, digits, inner '-'");
const Subdomain = z
  .string()
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    "must be a DNS-1123 subdomain: lowercase letters, digits, inner '-' and '.'",
  );

export const TrafficTargetSchema = z
  .object({
    kind: z
      .enum(["HTTPRoute", "VirtualService", "InferenceService"])
      .describe(
        "HTTPRoute (Gateway API, gateway.networking.k8s.io/v1), VirtualService (Istio, networking.istio.io/v1beta1) or InferenceService (KServe, serving.kserve.io/v1beta1: spec.predictor.canaryTrafficPercent)",
      ),
    namespace: Label.describe("the route's namespace"),
    name: Subdomain.describe("the route's name"),
    ruleIndex: z
      .number()
      .int()
      .min(0)
      .max(63)
      .default(0)
      .describe(
        "which rule's backends carry the weights: spec.rules[i] (HTTPRoute) or spec.http[i] (VirtualService)",
      ),
    backends: z
      .record(SemverString, Subdomain)
      .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 20, "name 1 to 20 versions")
      .describe(
        "version → backend: the backendRef's name (HTTPRoute), the destination's subset or else host (VirtualService), `latest` or `previous` revision (InferenceService)",
      ),
    total: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(100)
      .describe("what the managed backends' weights sum to (Gateway API and Istio weights are proportional)"),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.kind !== "InferenceService") return;
    // KServe splits between the latest revision and the one before it, in percent.
    for (const [version, backend] of Object.entries(t.backends))
      if (backend !== "latest" && backend !== "previous")
        ctx.addIssue({
          code: "custom",
          path: ["backends", version],
          message: "an InferenceService's backends are its `latest` or `previous` revision",
        });
    if (t.total !== 100)
      ctx.addIssue({
        code: "custom",
        path: ["total"],
        message: "an InferenceService takes a percentage: total 100",
      });
    if (t.ruleIndex !== 0)
      ctx.addIssue({ code: "custom", path: ["ruleIndex"], message: "an InferenceService has no rules: 0" });
  })
  .openapi("TrafficTarget");
export type TrafficTarget = z.infer<typeof TrafficTargetSchema>;

export const TrafficSyncSchema = z
  .object({
    state: z
      .enum(["pending", "in_sync", "failing"])
      .describe(
        "pending: not applied yet; in_sync: the route carries the desired weights; failing: the last apply failed (retried)",
      ),
    desired: z.record(z.string(), z.number().int()).nullable().describe("backend → weight modelgov wants"),
    applied: z
      .record(z.string(), z.number().int())
      .nullable()
      .describe("backend → weight last written or confirmed"),
    appliedAt: z.string().nullable(),
    resourceVersion: z.string().nullable(),
    lastError: z.string().nullable(),
    lastErrorAt: z.string().nullable(),
    failures: z.number().int().describe("consecutive failed applies"),
  })
  .openapi("TrafficSync");
export type TrafficSync = z.infer<typeof TrafficSyncSchema>;

export const TrafficTargetViewSchema = z
  .object({ model: z.string(), target: TrafficTargetSchema, sync: TrafficSyncSchema })
  .openapi("TrafficTargetView");
export type TrafficTargetView = z.infer<typeof TrafficTargetViewSchema>;
