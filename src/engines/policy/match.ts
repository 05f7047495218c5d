/**
 * Which models a policy applies to: the selector shared by approval rules and release gates,
 * in a file of its own so that neither imports the other for it.
 */

export interface RuleMatch {
  models?: string[];
  riskTiers?: string[];
  useCases?: string[];
}

export interface ModelFacts {
  name: string;
  riskTier: string;
  useCases: string[];
}

/** Fields AND together; values within a field OR. An empty match selects every model. */
export function ruleMatches(rule: { match: RuleMatch }, m: ModelFacts): boolean {
  const { models, riskTiers, useCases } = rule.match;
  if (models?.length && !models.includes(m.name)) return false;
  if (riskTiers?.length && !riskTiers.includes(m.riskTier)) return false;
  if (useCases?.length && !useCases.some((u) => m.useCases.includes(u))) return false;
  return true;
}
