import { z } from "@hono/zod-openapi";
import {
  DEFAULT_RULES,
  DRIFT_STATISTICS,
  METRICS,
  type MonitorRule,
  parseRuleText,
  RuleTextError,
} from "../../engines/monitoring/index.ts";
import { RouterPathsSchema } from "../request-log/index.ts";

const RuleName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, "a rule name: lowercase letters, digits, - and _ (at most 80)");

const Common = {
  name: RuleName.optional().describe("unique within the monitor; defaults to a slug of the words"),
  windows: z.number().int().min(1).max(365).describe("consecutive breaching windows that make the rule fire"),
  windowHours: z
    .union([z.literal(1), z.literal(24)])
    .default(24)
    .describe("window length: 24 (a UTC day) or 1"),
  alpha: z
    .number()
    .gt(0)
    .max(0.5)
    .optional()
    .describe("one-sided level of each window's test (default 0.05)"),
  minSample: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .optional()
    .describe("observations a window needs (default 100)"),
};

const MetricRuleSchema = z
  .object({
    kind: z.literal("metric"),
    metric: z.enum(METRICS),
    direction: z.enum(["drop", "rise"]),
    change: z
      .number()
      .positive()
      .describe("how far past the baseline breaches: 0.1 (relative) or 0.1 / 200 ms (absolute)"),
    changeKind: z.enum(["relative", "absolute"]).default("relative"),
    group: z
      .object({ attribute: z.string().regex(/^[a-z0-9_]{1,64}$/), value: z.string().min(1).max(64) })
      .strict()
      .optional()
      .describe("only one group's judged requests (successRate only)"),
    ...Common,
  })
  .strict();

const DriftRuleSchema = z
  .object({
    kind: z.literal("drift"),
    feature: z
      .string()
      .min(1)
      .max(100)
      .describe("a request feature: tokens_in, tokens_out, messages, script, label, group:<attr>"),
    statistic: z.enum(DRIFT_STATISTICS).default("psi"),
    threshold: z.number().positive(),
    ...Common,
  })
  .strict();

const BiasRuleSchema = z.object({ kind: z.literal("bias"), ...Common }).strict();

export const RuleInputSchema = z
  .union([
    z
      .string()
      .min(3)
      .max(300)
      .describe('a rule in words: "success rate drops >10% from baseline for >5 consecutive days"'),
    z
      .object({
        when: z.string().min(3).max(300),
        name: RuleName.optional(),
        alpha: Common.alpha,
        minSample: Common.minSample,
      })
      .strict()
      .describe("a rule in words with a name and test settings"),
    MetricRuleSchema,
    DriftRuleSchema,
    BiasRuleSchema,
  ])
  .openapi("MonitorRuleInput");
export type RuleInput = z.infer<typeof RuleInputSchema>;

export const BaselineSchema = z
  .discriminatedUnion("kind", [
    z
      .object({
        kind: z.literal("first-days"),
        days: z.number().int().min(1).max(90).default(7),
      })
      .strict()
      .describe("the version's first days in production (from its first move to the production alias)"),
    z
      .object({
        kind: z.literal("evaluation"),
        suite: z.string().min(1).max(200).optional().describe("the suite's name; default: any"),
      })
      .strict()
      .describe(
        "the version's approval-time evaluation: its latest completed run finished before it reached production (metric rules only)",
      ),
    z
      .object({
        kind: z.literal("window"),
        from: z.string().datetime({ offset: true }),
        to: z.string().datetime({ offset: true }),
      })
      .strict()
      .refine((w) => Date.parse(w.from) < Date.parse(w.to), {
        message: "from must be before to",
        path: ["to"],
      })
      .describe("a fixed reference window"),
  ])
  .openapi("MonitorBaseline");

export const MonitorConfigSchema = z
  .object({
    baseline: BaselineSchema.default({ kind: "first-days", days: 7 }).describe(
      "what each window is compared with: the version's first days in production (default 7), a fixed window, or its approval-time evaluation",
    ),
    rules: z
      .array(RuleInputSchema)
      .min(1)
      .max(50)
      .default([...DEFAULT_RULES])
      .describe(
        "the rules; left out: the default rules (success, errors, p95 latency, input and output tokens)",
      ),
    settleMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(60)
      .describe("a window is judged this long after it ends, so late feedback lands first"),
    enabled: z
      .boolean()
      .default(true)
      .describe("false pauses the monitor: no window is judged while it is off"),
  })
  .strict()
  .openapi("MonitorConfig");
export type MonitorConfig = z.infer<typeof MonitorConfigSchema>;

/** A config's rules as the engine takes them; a rule in words that cannot be read is a field error. */
export function compileRules(rules: readonly RuleInput[]): {
  rules: MonitorRule[];
  errors: { path: string; message: string }[];
} {
  const out: MonitorRule[] = [];
  const errors: { path: string; message: string }[] = [];
  rules.forEach((r, i) => {
    try {
      let rule: MonitorRule;
      if (typeof r === "string") rule = parseRuleText(r);
      else if ("when" in r) {
        const parsed = parseRuleText(r.when, r.name);
        rule = {
          ...parsed,
          ...(r.alpha !== undefined ? { alpha: r.alpha } : {}),
          ...(r.minSample !== undefined ? { minSample: r.minSample } : {}),
        };
      } else {
        const { name, alpha, minSample, ...rest } = r;
        rule = {
          ...rest,
          name: name ?? `${r.kind}-${i + 1}`,
          alpha: alpha ?? 0.05,
          minSample: minSample ?? 100,
        } as MonitorRule;
      }
      if (out.some((o) => o.name === rule.name))
        throw new RuleTextError(`duplicate rule name '${rule.name}'`);
      out.push(rule);
    } catch (err) {
      if (!(err instanceof RuleTextError)) throw err;
      errors.push({ path: `rules.${i}`, message: err.message });
    }
  });
  return { rules: out, errors };
}

export const WindowViewSchema = z
  .object({
    rule: z.string(),
    version: z.string(),
    windowStart: z.string(),
    windowEnd: z.string(),
    status: z.enum(["breach", "ok", "insufficient"]),
    value: z.number().nullable(),
    baseline: z.number().nullable(),
    threshold: z.number().nullable(),
    n: z.number().int(),
    p: z.number().nullable(),
    reason: z.string(),
  })
  .openapi("MonitorWindow");
export type WindowView = z.infer<typeof WindowViewSchema>;

export const RuleStatusSchema = z
  .object({
    name: z.string(),
    text: z.string().nullable(),
    kind: z.enum(["metric", "drift", "bias"]),
    metric: z.enum(METRICS).nullable().describe("what a metric rule watches (null for drift and bias rules)"),
    feature: z
      .string()
      .nullable()
      .describe("the request feature a drift rule watches (null for metric and bias rules)"),
    statistic: z.enum(DRIFT_STATISTICS).nullable().describe("a drift rule's statistic"),
    windows: z.number().int(),
    windowHours: z.number().int(),
    state: z.enum(["ok", "breaching", "firing", "pending"]),
    streak: z.number().int(),
    lastWindowEnd: z.string().nullable(),
    firedAt: z.string().nullable(),
    last: WindowViewSchema.nullable(),
  })
  .openapi("MonitorRuleStatus");

export const MonitorStatusSchema = z
  .object({
    model: z.string(),
    configuredFor: z.string().describe("the model's own monitor, or '*' (the workspace default)"),
    enabled: z.boolean(),
    version: z.string().nullable().describe("the production version watched"),
    baseline: z
      .object({ from: z.string(), to: z.string(), complete: z.boolean() })
      .nullable()
      .describe("the baseline window (null before the version reached production)"),
    rules: z.array(RuleStatusSchema),
    paths: RouterPathsSchema.extend({ from: z.string(), to: z.string() })
      .nullable()
      .describe(
        "a router version in production: success and cost per success by path over the last 7 days (null for any other version)",
      ),
  })
  .openapi("MonitorStatus");
export type MonitorStatus = z.infer<typeof MonitorStatusSchema>;

export const HistoryQuerySchema = z.object({
  rule: RuleName.optional(),
  from: z.string().datetime({ offset: true }).optional(),
  to: z.string().datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
export const HistorySchema = z
  .object({ model: z.string(), windows: z.array(WindowViewSchema) })
  .openapi("MonitorHistory");
