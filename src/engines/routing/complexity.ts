// A request's complexity from cheap signals of its text and shape, no model call: what
// LiteLLM's complexity router and RouteLLM's baselines use to send simple questions to a
// cheap model and hard ones to a strong one. The score is a logistic function of the signals
// with fixed, documented weights; a router picks the tier by comparing it with a threshold
// that calibration sets on a suite (the weights only need to order requests well).

export interface ComplexityInput {
  /** The last user message (what the router reads). */
  text: string;
  /** Input tokens of the whole request (counted or estimated). */
  tokensIn: number;
  /** User turns in the conversation. */
  turns: number;
  /** Tools offered to the model. */
  toolsOffered: number;
}

export interface ComplexitySignals {
  /** log2(1 + input tokens) */
  size: number;
  /** log2(1 + user turns) */
  turns: number;
  /** 1 when the text holds code (a fence, or several lines that read as code) */
  code: number;
  /** 1 when it holds mathematics (LaTeX, an equation, several operators between numbers) */
  maths: number;
  /** questions asked, capped at 4 */
  questions: number;
  /** words that ask for reasoning (why, prove, derive, compare, trade-offs, step by step …), capped at 4 */
  reasoning: number;
  /** constraints and parts (numbered items, "must", "at least", "without", …), capped at 6 */
  constraints: number;
  /** 1 when tools are offered */
  tools: number;
}

export type ComplexityWeights = Readonly<Record<keyof ComplexitySignals | "bias", number>>;

/**
 * The default weights, set by hand: a one-line question scores under 0.2, a multi-part
 * reasoning task with code over 0.8 (complexity.test.ts). They are deliberately coarse:
 * calibration on a suite moves the threshold, not the weights; a router that needs a finer
 * order trains a classifier instead (hashed-logistic.ts).
 */
export const DEFAULT_COMPLEXITY_WEIGHTS: ComplexityWeights = {
  bias: -5,
  size: 0.45,
  turns: 0.3,
  code: 1.2,
  maths: 1.2,
  questions: 0.35,
  reasoning: 0.7,
  constraints: 0.3,
  tools: 0.5,
};

const FENCE = /```|~~~/;
const CODE_LINE =
  /^\s*(?:def |class |function |const |let |var |import |from \S+ import|return\b|#include|public |private |SELECT\b|for\s*\(|if\s*\(|while\s*\()|[;{}]\s*$/im;
const CODE_LINES =
  /^\s*(?:def |class |function |const |let |var |import |return\b|#include|public |private |SELECT\b|for\s*\(|if\s*\(|while\s*\(|.*[;{}]\s*$)/gim;
const LATEX = /\\(?:frac|sum|int|sqrt|lim|prod|partial|alpha|beta|theta|mathbb)\b|\$[^$\n]+\$/;
const EQUATION = /\d\s*[-+*/^=<>]\s*(?=\(?[\d.a-z])/gi;
const REASONING =
  /\b(?:why|prove|proof|derive|explain|justify|compare|contrast|trade-?offs?|analy[sz]e|evaluate|critique|design|architect|optimi[sz]e|step[- ]by[- ]step|reason|implications?|edge cases?|what if)\b/gi;
const CONSTRAINT =
  /(?:^\s*(?:\d+[.)]|[-*•])\s)|\b(?:must|should not|without|at least|at most|no more than|exactly|only if|unless|ensure|constraints?|requirements?)\b/gim;

const count = (re: RegExp, text: string, cap: number) => {
  re.lastIndex = 0;
  let n = 0;
  while (n < cap && re.exec(text) !== null) n++;
  return n;
};

/** The signals of one request. Linear in the text; the patterns stop at their caps. */
export function complexitySignals(input: ComplexityInput): ComplexitySignals {
  const t = input.text;
  const code = FENCE.test(t) || (CODE_LINE.test(t) && count(CODE_LINES, t, 3) >= 3) ? 1 : 0;
  const maths = LATEX.test(t) || count(EQUATION, t, 3) >= 3 ? 1 : 0;
  let questions = 0;
  for (let i = 0; i < t.length && questions < 4; i++) if (t.charCodeAt(i) === 63 /* ? */) questions++;
  return {
    size: Math.log2(1 + Math.max(0, input.tokensIn)),
    turns: Math.log2(1 + Math.max(0, input.turns)),
    code,
    maths,
    questions,
    reasoning: count(REASONING, t, 4),
    constraints: count(CONSTRAINT, t, 6),
    tools: input.toolsOffered > 0 ? 1 : 0,
  };
}

/** The score in (0, 1): logistic(bias + Σ weight × signal). */
export function complexityScore(
  signals: ComplexitySignals,
  weights: ComplexityWeights = DEFAULT_COMPLEXITY_WEIGHTS,
): number {
  let z = weights.bias;
  for (const k of Object.keys(signals) as (keyof ComplexitySignals)[]) z += (weights[k] ?? 0) * signals[k];
  return 1 / (1 + Math.exp(-z));
}
