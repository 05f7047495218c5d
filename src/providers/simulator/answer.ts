import { approxTokens, messageChars } from "../shared/tokens.ts";
import type { ChatChunk, ChatRequest, ChatResponse, Json } from "../types.ts";
import type { SimulatorParameters } from "./registration.ts";

export interface SimulatedOutcome {
  success: boolean;
  /** The success probability that applied (overall, or the group's). */
  probability: number;
  /** The `attribute:value` whose quality applied, when one did. */
  group?: string;
  latencyMs: number;
}

/** Everything one simulated call answers, decided before any waiting starts. */
export interface Plan {
  id: string;
  created: number;
  model: string;
  outcome: SimulatedOutcome;
  text: string | null;
  toolCall: { id: string; name: string; arguments: string } | undefined;
  finishReason: "stop" | "length" | "tool_calls";
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/**
 * The success probability for a caller: a group's quality overrides the overall one; when
 * several of the caller's groups have their own, the lowest applies (the simulation should
 * expose a disadvantaged group, not hide it behind another attribute).
 */
export function qualityFor(
  quality: SimulatorParameters["quality"],
  groups: Record<string, string> | undefined,
): { probability: number; group?: string } {
  let best: { probability: number; group?: string } | undefined;
  for (const [attr, value] of Object.entries(groups ?? {})) {
    const key = `${attr}:${value}`;
    const p = quality.byGroup?.[key];
    if (p !== undefined && (best === undefined || p < best.probability))
      best = { probability: p, group: key };
  }
  return best ?? { probability: quality.success ?? 0.9 };
}

export function planAnswer(
  req: ChatRequest,
  params: SimulatorParameters,
  outcome: SimulatedOutcome,
  meta: { id: string; created: number; model: string },
  /** The answer a correct model gives (an evaluation case's expectation): a success answers it. */
  reference?: string,
): Plan {
  const last = req.messages[req.messages.length - 1];
  const tools = Array.isArray(req.tools) ? (req.tools as Json[]) : [];
  const tool =
    last?.role === "tool" || req.tool_choice === "none" ? undefined : chooseTool(tools, req.tool_choice);
  const limit = Number(req.max_completion_tokens ?? req.max_tokens ?? Number.POSITIVE_INFINITY);
  const output = Math.min(params.tokens.output, limit);
  const prompt = params.tokens.input ?? approxTokens(messageChars(req.messages));
  const usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };

  if (tool) {
    const toolCall = {
      id: `call_sim_${meta.id.slice(-12)}`,
      name: String(tool.name),
      arguments: JSON.stringify(placeholderArguments(tool.parameters)),
    };
    return { ...meta, outcome, text: null, toolCall, finishReason: "tool_calls", usage };
  }
  const words =
    outcome.success && reference !== undefined
      ? reference.split(" ")
      : !outcome.success && params.poorAnswer === "refusal"
        ? ["I'm", "sorry,", "I", "can't", "help", "with", "that."]
        : answerWords(outcome.success, lastUserText(req.messages));
  const truncated = output < params.tokens.output;
  // A cut-short answer is visibly cut: as many words as tokens allowed, at least one.
  const text = (truncated ? words.slice(0, Math.max(1, output)) : words).join(" ");
  return { ...meta, outcome, text, toolCall: undefined, finishReason: truncated ? "length" : "stop", usage };
}

function chooseTool(tools: Json[], choice: unknown): Json | undefined {
  const functions = tools.flatMap((t) => (t.type === "function" && t.function ? [t.function as Json] : []));
  const forced = (choice as { function?: { name?: string } } | undefined)?.function?.name;
  return forced ? functions.find((f) => f.name === forced) : functions[0];
}

/** Arguments a schema accepts: required-looking placeholders for each declared property. */
export function placeholderArguments(schema: unknown): Json {
  const props = (schema as { properties?: Record<string, { type?: string; enum?: unknown[] }> } | undefined)
    ?.properties;
  const out: Json = {};
  for (const [name, p] of Object.entries(props ?? {})) {
    if (p.enum && p.enum.length > 0) out[name] = p.enum[0];
    else if (p.type === "number" || p.type === "integer") out[name] = 1;
    else if (p.type === "boolean") out[name] = true;
    else if (p.type === "array") out[name] = [];
    else if (p.type === "object") out[name] = {};
    else out[name] = "simulated";
  }
  return out;
}

function lastUserText(messages: Json[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== "user" && m?.role !== "tool") continue;
    if (typeof m.content === "string") return m.content;
    if (Array.isArray(m.content)) {
      return (m.content as Json[]).flatMap((p) => (typeof p.text === "string" ? [p.text] : [])).join(" ");
    }
  }
  return "";
}

function answerWords(success: boolean, question: string): string[] {
  const topic = question.replace(/\s+/g, " ").trim().slice(0, 60);
  const head = success
    ? ["SIM-OK", "A", "helpful", "and", "correct", "answer"]
    : ["SIM-POOR", "An", "unhelpful", "answer"];
  return [...head, "to:", topic ? `"${topic}".` : "(no question)."];
}

export function responseOf(plan: Plan): ChatResponse {
  const message: Json = { role: "assistant", content: plan.text, refusal: null };
  if (plan.toolCall) {
    const { id, name, arguments: args } = plan.toolCall;
    message.tool_calls = [{ id, type: "function", function: { name, arguments: args } }];
  }
  return {
    id: plan.id,
    object: "chat.completion",
    created: plan.created,
    model: plan.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: plan.finishReason }],
    usage: plan.usage,
    modelgov: { simulated: plan.outcome },
  };
}

/**
 * The answer as OpenAI streams it: a role chunk, the content (a few words per chunk) or the
 * tool call (name first, arguments in fragments), the finish chunk and the usage chunk.
 * `paced` marks the chunks that take time to generate; the others follow at once.
 */
export function chunksOf(plan: Plan): Array<{ chunk: ChatChunk; paced: boolean }> {
  const chunk = (delta: Json, finish: string | null = null): ChatChunk => ({
    id: plan.id,
    object: "chat.completion.chunk",
    created: plan.created,
    model: plan.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const out = [{ chunk: chunk({ role: "assistant", content: "" }), paced: true }];
  if (plan.toolCall) {
    const { id, name, arguments: args } = plan.toolCall;
    out.push({
      chunk: chunk({ tool_calls: [{ index: 0, id, type: "function", function: { name, arguments: "" } }] }),
      paced: true,
    });
    const step = Math.max(1, Math.ceil(args.length / 3));
    for (let i = 0; i < args.length; i += step) {
      out.push({
        chunk: chunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(i, i + step) } }] }),
        paced: true,
      });
    }
  } else {
    const words = (plan.text ?? "").split(" ");
    for (let i = 0; i < words.length; i += 2) {
      const piece = words.slice(i, i + 2).join(" ");
      out.push({ chunk: chunk({ content: i === 0 ? piece : ` ${piece}` }), paced: true });
    }
  }
  out.push({ chunk: chunk({}, plan.finishReason), paced: false });
  out.push({
    chunk: { ...chunk({}), choices: [], usage: plan.usage, modelgov: { simulated: plan.outcome } },
    paced: false,
  });
  return out;
}
