import { z } from "zod";
import { ConditionError, compileCondition } from "../../engines/routing/index.ts";
import {
  checkLlmParts,
  JsonSchemaCheck,
  JudgePick,
  LlmClassifier,
  MaxCostUsd,
  ScoreJudge,
} from "./llm-policy.ts";
import { Target, TierName } from "./names.ts";

/**
 * Parameters of a router version (provider `router`): a routing policy instead of a provider
 * model. Its tiers name other models (`support-small`, `support-small@canary`,
 * `support-large@2.1.0`); a classifier picks the tier per request (`route`), or the tiers are
 * tried cheapest first with escalation on a failed check (`cascade`). The policy, and any
 * trained parameters in it, are part of the version's pinned digest, so a new policy is a new
 * version: evaluated, approved, canaried and A/B tested like any other (docs/routing.md).
 */

const ConditionSchema = z.record(z.string(), z.unknown()).superRefine((c, ctx) => {
  try {
    compileCondition(c);
  } catch (e) {
    if (!(e instanceof ConditionError)) throw e;
    ctx.addIssue({ code: "custom", message: e.message, path: e.at ? e.at.split(".") : [] });
  }
});

const RulesClassifier = z
  .object({
    kind: z.literal("rules"),
    rules: z
      .array(z.object({ when: ConditionSchema, tier: TierName }).strict())
      .min(1)
      .max(200)
      .describe("conditions over metadata.*, params.*, features.*; the first that holds picks its tier"),
    default: TierName.describe("the tier when no rule holds"),
  })
  .strict();

const ComplexityClassifier = z
  .object({
    kind: z.literal("complexity"),
    thresholds: z
      .array(z.number().min(0).max(1))
      .min(1)
      .max(7)
      .describe(
        "ascending score bounds between the tiers in order: [0.4] sends scores >= 0.4 to the second tier; [0.4, 0.8] makes three bands",
      ),
    weights: z
      .record(z.string(), z.number())
      .optional()
      .describe(
        "override the complexity signals' weights (bias, size, turns, code, maths, questions, reasoning, constraints, tools)",
      ),
  })
  .strict();

const TrainedClassifier = z
  .object({
    kind: z.literal("trained"),
    model: z
      .object({
        kind: z.literal("hashed-logistic"),
        classes: z.array(TierName).min(2).max(8),
        buckets: z
          .number()
          .int()
          .min(2)
          .max(2 ** 24),
        ngrams: z.union([z.literal(1), z.literal(2)]),
        l2: z.number().positive(),
        bias: z.array(z.number()),
        weights: z.record(z.string().regex(/^\d+$/), z.array(z.number())),
      })
      .strict()
      .describe("a hashed n-gram logistic regression whose classes are tier names (`modelgov router train`)"),
    threshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        "two classes only: the later of the two tiers (in the policy's order) when its probability is at least this (calibrated); unset: the most probable class",
      ),
  })
  .strict();

export const RouterPolicySchema = z
  .object({
    strategy: z
      .enum(["route", "cascade", "ensemble"])
      .default("route")
      .describe(
        "route: a classifier picks one tier; cascade: tiers in order, escalating when a check fails; ensemble: every tier at once, the answers combined",
      ),
    tiers: z
      .array(
        z
          .object({
            name: TierName.describe("the tier's name: what rules, classes and the log call it"),
            target: Target.describe(
              "the model it calls: `model` (its production alias), `model@alias` or `model@1.2.0`",
            ),
          })
          .strict(),
      )
      .min(1)
      .max(8)
      .describe("the tiers, cheapest first: a name and the model they call (never another router)"),
    classifier: z
      .discriminatedUnion("kind", [RulesClassifier, ComplexityClassifier, TrainedClassifier, LlmClassifier])
      .optional()
      .describe(
        "how `route` picks the tier: `{ kind: rules, rules: [{ when, tier }], default }`, `{ kind: complexity, thresholds: [0.5], weights? }`, `{ kind: trained, model, threshold? }` or `{ kind: llm, target, rubric, default }` (docs/routing.md)",
      ),
    escalateWhen: z
      .object({
        refusal: z.boolean().default(true).describe("the answer refuses"),
        invalidJson: z
          .boolean()
          .default(true)
          .describe("JSON was asked for (response_format) and the answer is not JSON"),
        finishReasons: z
          .array(z.string().max(40))
          .max(10)
          .default(["length", "content_filter"])
          .describe("the answer stopped for one of these reasons"),
        error: z.boolean().default(true).describe("the tier failed (its fallback chain too)"),
        jsonSchema: JsonSchemaCheck.optional(),
        judge: ScoreJudge.optional(),
      })
      .strict()
      .optional()
      .describe("cascade: when an answer from a tier is not good enough and the next tier is called"),
    combine: z
      .object({
        by: z
          .enum(["majority", "first-valid", "judge"])
          .describe(
            "majority: the most common answer (by `field`, else the whole text trimmed and lower-cased), ties to the earlier tier; first-valid: the first tier in order whose answer passes the checks; judge: a judge model picks the best valid answer (first valid when it fails)",
          ),
        field: z
          .string()
          .regex(/^(\/[^/]*)+$/, "a JSON pointer into a JSON answer, e.g. /label")
          .optional()
          .describe("majority over this field of JSON answers (answers that are not JSON do not vote)"),
        maxLatencyMs: z
          .number()
          .int()
          .min(1)
          .max(600_000)
          .optional()
          .describe(
            "combine the answers in by then; a later one is recorded as failed (the provider may still bill it: the log cannot count what it never saw)",
          ),
        ...JudgePick,
      })
      .strict()
      .optional()
      .describe("ensemble: how the tiers' answers become one"),
    maxCostUsd: MaxCostUsd,
  })
  .strict()
  .superRefine((p, ctx) => {
    const names = p.tiers.map((t) => t.name);
    const seen = new Set<string>();
    for (const [i, n] of names.entries()) {
      if (seen.has(n))
        ctx.addIssue({ code: "custom", message: `tier "${n}" is named twice`, path: ["tiers", i, "name"] });
      seen.add(n);
    }
    const known = (tier: string, path: (string | number)[]) => {
      if (!seen.has(tier))
        ctx.addIssue({ code: "custom", message: `no tier named "${tier}" (${names.join(", ")})`, path });
    };
    const c = p.classifier;
    if (p.strategy === "route" && !c)
      ctx.addIssue({ code: "custom", message: "route needs a classifier", path: ["classifier"] });
    if (p.strategy !== "route") {
      if (c)
        ctx.addIssue({
          code: "custom",
          message: `a ${p.strategy} has no classifier: it calls the tiers`,
          path: ["classifier"],
        });
      if (p.tiers.length < 2)
        ctx.addIssue({
          code: "custom",
          message: `a ${p.strategy} needs at least two tiers`,
          path: ["tiers"],
        });
    }
    if (p.escalateWhen && p.strategy !== "cascade")
      ctx.addIssue({ code: "custom", message: "escalateWhen applies to a cascade", path: ["escalateWhen"] });
    if (p.strategy === "ensemble" && !p.combine)
      ctx.addIssue({
        code: "custom",
        message: "an ensemble needs combine (majority, first-valid or judge)",
        path: ["combine"],
      });
    if (p.combine && p.strategy !== "ensemble")
      ctx.addIssue({ code: "custom", message: "combine applies to an ensemble", path: ["combine"] });
    checkLlmParts(p, ctx);
    if (c?.kind === "rules") {
      for (const [i, r] of c.rules.entries()) known(r.tier, ["classifier", "rules", i, "tier"]);
      known(c.default, ["classifier", "default"]);
    } else if (c?.kind === "complexity") {
      if (c.thresholds.length !== p.tiers.length - 1)
        ctx.addIssue({
          code: "custom",
          message: `${p.tiers.length} tiers need ${p.tiers.length - 1} threshold(s)`,
          path: ["classifier", "thresholds"],
        });
      for (let i = 1; i < c.thresholds.length; i++)
        if (!(c.thresholds[i]! > c.thresholds[i - 1]!))
          ctx.addIssue({
            code: "custom",
            message: "thresholds must ascend",
            path: ["classifier", "thresholds", i],
          });
    } else if (c?.kind === "llm") {
      known(c.default, ["classifier", "default"]);
    } else if (c?.kind === "trained") {
      for (const [i, k] of c.model.classes.entries()) known(k, ["classifier", "model", "classes", i]);
      if (c.model.bias.length !== c.model.classes.length)
        ctx.addIssue({
          code: "custom",
          message: "one bias per class",
          path: ["classifier", "model", "bias"],
        });
      for (const [b, w] of Object.entries(c.model.weights))
        if (w.length !== c.model.classes.length) {
          ctx.addIssue({
            code: "custom",
            message: "one weight per class",
            path: ["classifier", "model", "weights", b],
          });
          break;
        }
      if (c.threshold !== undefined && c.model.classes.length !== 2)
        ctx.addIssue({
          code: "custom",
          message: "a threshold needs exactly two classes",
          path: ["classifier", "threshold"],
        });
    }
  });

export type RouterPolicy = z.infer<typeof RouterPolicySchema>;
