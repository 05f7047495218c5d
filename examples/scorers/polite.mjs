// An example custom scorer (docs/evals.md, "Custom scorers"). Install it by copying it into
// the server's scorer directory (MODELGOV_EVAL_SCORERS_DIR) and name it in a suite:
//   scorers: [{ kind: custom, module: ./polite.mjs }]
// It gets one case ({ caseId, output, expect, input, attributes }) and returns
// { score: 0..1, passed?, reason? }; `passed` defaults to score === 1.

const COURTESY = /\b(please|thank(s| you)|sorry|apologi[sz]e|bitte|danke|entschuldig)/i;
const RUDE = /\b(stupid|idiot|shut up|dumm|halt den mund)\b/i;

/** Half for a courteous phrase, half for no rude one; `expect.polite: false` turns the check off. */
export default function polite({ output, expect }) {
  if (expect.polite === false) return { score: 1, passed: true, reason: "politeness not required" };
  const courteous = COURTESY.test(output);
  const rude = RUDE.exec(output);
  const score = (courteous ? 0.5 : 0) + (rude ? 0 : 0.5);
  const missing = [courteous ? null : "no courteous phrase", rude ? `rude: "${rude[0]}"` : null];
  return {
    score,
    passed: score === 1,
    reason: score === 1 ? "courteous, nothing rude" : missing.filter(Boolean).join("; "),
  };
}
