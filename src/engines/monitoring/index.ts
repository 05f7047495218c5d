/**
 * Monitoring rules as statistical procedures, pure: a rule in words or as data, each window's
 * one-sided test against the baseline, and the run of breaching windows that makes it fire.
 */

export { binnedMoments, NUMERIC_BIN_BOUNDS } from "./bins.ts";
export {
  DEFAULT_RULES,
  featureName,
  parseRuleText,
  RULE_DEFAULTS,
  RuleTextError,
  slug,
} from "./rule-text.ts";
export { advance, INITIAL_STATE, type RuleEvent, type RuleState } from "./streak.ts";
export * from "./types.ts";
export { alignBins, homogeneity, metricEstimate, testDriftWindow, testMetricWindow } from "./window-test.ts";
