import { parseJsonOutput, schemaProblems, validateJson } from "../../../engines/scoring/index.ts";
import type { RouterPolicy } from "../../../providers/router/registration.ts";
import { answerOfChoices, asksForJson, isRefusal, validity } from "../features/derive.ts";

/*
 * The checks a cascade escalates on and what an ensemble's answers vote for: one statement,
 * used by the gateway (http/chat/multi.ts) and by evaluations of router versions (evals'
 * invoker), so a router is evaluated as it serves.
 */

const DEFAULT_CHECKS: NonNullable<RouterPolicy["escalateWhen"]> = {
  refusal: true,
  invalidJson: true,
  finishReasons: ["length", "content_filter"],
  error: true,
};

/** Why a cascade would not keep this answer (its choices), or null when it passes the checks. */
export function shortfall(policy: RouterPolicy, responseFormat: unknown, choices: unknown): string | null {
  const checks = policy.escalateWhen ?? DEFAULT_CHECKS;
  const facts = answerOfChoices(choices);
  const refused = isRefusal(facts);
  if (checks.refusal && refused) return "refusal";
  if (checks.invalidJson && asksForJson(responseFormat) && validity(responseFormat, facts, refused) === false)
    return "invalid JSON";
  if (checks.jsonSchema && !refused) {
    const json = parseJsonOutput(facts.text, {});
    if (!json.ok) return "not JSON (jsonSchema)";
    // Refused at registration; one stored before (a draft-07 `$schema` the old subset ignored)
    // is a check that cannot be made, and that does not pass.
    const broken = schemaProblems(checks.jsonSchema)[0];
    if (broken) return `JSON schema does not compile: ${broken}`;
    const problems = validateJson(json.value, checks.jsonSchema);
    if (problems.length) return `JSON schema: ${problems[0]}`;
  }
  if (facts.finishReason && checks.finishReasons.includes(facts.finishReason))
    return `finish_reason ${facts.finishReason}`;
  return null;
}

/** Whether a failed tier (its fallback chain too) makes a cascade go on to the next tier. */
export const escalatesOnError = (policy: RouterPolicy) => (policy.escalateWhen ?? DEFAULT_CHECKS).error;

/** A JSON pointer into a value (RFC 6901). */
function pointer(value: unknown, ptr: string): unknown {
  let v = value;
  for (const raw of ptr.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** What an answer votes for: a field of its JSON, or its text trimmed and lower-cased; null: no vote. */
export function ballot(choices: unknown, field: string | undefined): string | null {
  const text = answerOfChoices(choices).text;
  if (!field) return text.trim().toLowerCase() || null;
  try {
    const v = pointer(JSON.parse(text), field);
    return v === undefined ? null : JSON.stringify(v);
  } catch {
    return null;
  }
}
