import {
  type ComplexityWeights,
  compileCondition,
  complexityScore,
  complexitySignals,
  DEFAULT_COMPLEXITY_WEIGHTS,
  predictHashedLogistic,
  type Test,
} from "../../../engines/routing/index.ts";
import { type RouterPolicy, RouterPolicySchema } from "../../../providers/router/registration.ts";

/**
 * A router version's policy, compiled once when the routing snapshot loads (conditions and
 * patterns compiled, weights merged), then run per request on the gateway's hot path with no
 * I/O: `pick` names the tier a `route` policy sends the request to, and why.
 */

/** What a router reads of a request. */
export interface RouterInput {
  /** The last user message's text (its first 4,096 characters). */
  text: string;
  /** Input tokens, estimated from the messages' characters. */
  tokensIn: number;
  /** User turns. */
  turns: number;
  toolsOffered: number;
  metadata: Readonly<Record<string, unknown>>;
  params: Readonly<Record<string, unknown>>;
  features: Readonly<Record<string, unknown>>;
}

export interface Tier {
  name: string;
  target: string;
}

export interface RouteChoice {
  tier: Tier;
  /** `rules:2`, `rules:default`, `complexity:0.73`, `trained:strong p=0.81`. */
  reason: string;
  /**
   * What a threshold is compared with, unrounded: the complexity score, or a two-class trained
   * router's probability of its later tier. Calibration reads it (evaluation cases record it).
   */
  score?: number;
}

export interface CompiledRouter {
  policy: RouterPolicy;
  tiers: Tier[];
  /** The tier of a `route` policy for this request. Cascades and ensembles call `tiers` in order. */
  pick(input: RouterInput): RouteChoice;
  /**
   * An LLM classifier: the tier is asked of a model (routing/strategies.ts `classify`), off the
   * synchronous path the other classifiers take; `pick` then answers the default tier.
   */
  llm?: Extract<NonNullable<RouterPolicy["classifier"]>, { kind: "llm" }>;
}

export class RouterPolicyError extends Error {}

/** Compiles a stored policy; a policy that no longer validates is an error naming why. */
export function compileRouter(parameters: unknown): CompiledRouter {
  const parsed = RouterPolicySchema.safeParse(parameters);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new RouterPolicyError(
      `the routing policy is invalid at ${i.path.join(".") || "(root)"}: ${i.message}`,
    );
  }
  const policy = parsed.data;
  const tiers = policy.tiers.map((t) => ({ name: t.name, target: t.target }));
  const byName = new Map(tiers.map((t) => [t.name, t]));
  const c = policy.classifier;
  let pick: (input: RouterInput) => RouteChoice;
  if (!c) {
    pick = () => ({ tier: tiers[0]!, reason: policy.strategy });
  } else if (c.kind === "rules") {
    const rules = c.rules.map((r) => ({ test: compileCondition(r.when) as Test, tier: byName.get(r.tier)! }));
    const fallback = byName.get(c.default)!;
    pick = (input) => {
      for (let i = 0; i < rules.length; i++)
        if (rules[i]!.test(input)) return { tier: rules[i]!.tier, reason: `rules:${i}` };
      return { tier: fallback, reason: "rules:default" };
    };
  } else if (c.kind === "complexity") {
    const weights: ComplexityWeights = { ...DEFAULT_COMPLEXITY_WEIGHTS, ...(c.weights ?? {}) };
    const bounds = c.thresholds;
    pick = (input) => {
      const score = complexityScore(complexitySignals(input), weights);
      let band = 0;
      while (band < bounds.length && score >= bounds[band]!) band++;
      return { tier: tiers[band]!, reason: `complexity:${score.toFixed(3)}`, score };
    };
  } else if (c.kind === "llm") {
    const fallback = byName.get(c.default)!;
    pick = () => ({ tier: fallback, reason: "llm:default (not asked)" });
  } else {
    const model = c.model;
    // With a threshold, the two classes in the policy's tier order: the later one (the stronger,
    // dearer tier) when its probability reaches the threshold.
    const [weak, strong] = tiers.filter((t) => model.classes.includes(t.name));
    const threshold = c.threshold;
    pick = (input) => {
      const p = predictHashedLogistic(model, input.text);
      const label =
        threshold === undefined
          ? p.label
          : p.probabilities[strong!.name]! >= threshold
            ? strong!.name
            : weak!.name;
      return {
        tier: byName.get(label)!,
        reason: `trained:${label} p=${p.probabilities[label]!.toFixed(3)}`,
        ...(model.classes.length === 2 ? { score: p.probabilities[strong!.name]! } : {}),
      };
    };
  }
  return { policy, tiers, pick, ...(c?.kind === "llm" ? { llm: c } : {}) };
}
