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
      .enum(["HTTPRoute", "VirtualService"])
      .describe(
        "HTTPRoute (Gateway API, gateway.networking.k8s.io/v1) or VirtualService (Istio, networking.istio.io/v1beta1)",
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
        "version → backend: the backendRef's name (HTTPRoute), the destination's subset or else host (VirtualService)",
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
