/**
 * Calls one registered version directly, for evaluation: no routing, no split, no breaker,
 * no request-log row (an evaluation is not live traffic, and must not count in rollouts or
 * bias drift). Through the same provider adapters, egress guard and provider keys as the
 * gateway, so a version is evaluated exactly as it would be served.
 */
import type { SignalLike } from "../../lib/light-abort.ts";
import type { Adapters } from "../../providers/index.ts";
import type { UpstreamTarget } from "../../providers/types.ts";
import type { Queryable } from "../../store/db.ts";
import {
  type Ask,
  type CompiledRouter,
  classify,
  compileRouter,
  DEFAULT_TIMEOUTS,
  emptyRow,
  routerInput,
  runCascade,
  runEnsemble,
  type Step,
  type Timeouts,
  within,
} from "../gateway/index.ts";
import { describeSwitch, engagedSwitches, type KillSwitch } from "../kill-switches/index.ts";
import type { Message } from "./suite.ts";

export interface InvokeContext {
  requestId: string;
  signal: SignalLike;
  /** The case's group attributes (the simulator's per-group quality reads them). */
  groups?: Record<string, string>;
  /** The expected answer, when the case has one (only the simulator reads it). */
  reference?: string;
}

export interface InvokeResult {
  text: string;
  toolCalls: { name: string; arguments: string }[];
  tokensIn: number;
  tokensOut: number;
  /** Upstream milliseconds, as the adapter measured them. */
  upstreamMs: number;
  costUsd: number;
  /**
   * A router version's case: the tier that answered and why, the version of its model, and
   * every tier called (a cascade's or an ensemble's; the tokens and cost above are their sums).
   */
  route?: {
    tier: string;
    why: string;
    versionId: string;
    /** A two-tier complexity or trained router's score, unrounded (calibration reads it). */
    score?: number;
    tiers?: { tier: string; outcome: string }[];
  };
}

export interface EvalInvoker {
  call(versionId: string, messages: Message[], ctx: InvokeContext): Promise<InvokeResult>;
}

interface Target {
  target: UpstreamTarget;
  price: { inputPer1kUsd: number; outputPer1kUsd: number };
  /** A router version: its compiled policy (the target is then never called itself). */
  router?: CompiledRouter;
}

const CACHE_MS = 10_000;
/** Engaged kill switches are re-read at most this often: a switch reaches evaluations within a second too. */
const SWITCHES_MS = 500;

export function createEvalInvoker(deps: {
  db: Queryable;
  adapters: Adapters;
  /** The provider key for a version (the gateway's rule: parameters.apiKeyEnv, else the provider's default). */
  apiKeyFor: (v: { provider: string; parameters: Record<string, unknown> }) => string | undefined;
}): EvalInvoker {
  const cache = new Map<string, { at: number; value: Promise<Target> }>();
  let switches: { at: number; value: Promise<(KillSwitch & { key: string })[]> } | null = null;

  /**
   * A killed version is not called by evaluations either (docs/kill-switches.md): a switch
   * pulled because a provider leaks data or burns money means everywhere. The case fails
   * with the switch's reason, the provider is never reached.
   */
  async function refuseKilled(t: UpstreamTarget): Promise<void> {
    if (!switches || Date.now() - switches.at > SWITCHES_MS) {
      const value = engagedSwitches(deps.db);
      value.catch(() => {
        switches = null;
      });
      switches = { at: Date.now(), value };
    }
    const sw = (await switches.value).find(
      (s) =>
        (s.scope === "version" && s.key === t.versionId) || (s.scope === "provider" && s.key === t.provider),
    );
    if (sw) throw new Error(`${t.label} is switched off by ${describeSwitch(sw)}; not called`);
  }

  async function load(versionId: string): Promise<Target> {
    const rows = await deps.db.query<Record<string, unknown>>(
      `SELECT v.id, v.version, v.provider, v.provider_model_id, v.endpoint, v.parameters, m.name,
              r.prices, r.timeouts
         FROM model_versions v JOIN models m ON m.id = v.model_id
         LEFT JOIN model_routes r ON r.model_id = m.id
        WHERE v.id = $1`,
      [versionId],
    );
    const v = rows[0];
    if (!v) throw new Error(`version ${versionId} not found`);
    const parameters = v.parameters as Record<string, unknown>;
    const provider = v.provider as UpstreamTarget["provider"];
    const timeouts: Timeouts = { ...DEFAULT_TIMEOUTS, ...((v.timeouts as Partial<Timeouts> | null) ?? {}) };
    const totalMs = typeof parameters.timeout_ms === "number" ? parameters.timeout_ms : timeouts.totalMs;
    const prices = (v.prices as Record<string, Target["price"]> | null) ?? {};
    const router = (v.provider as string) === "router" ? compileRouter(parameters) : undefined;
    return {
      ...(router ? { router } : {}),
      target: {
        versionId,
        label: `${v.name}@${v.version}`,
        provider,
        providerModelId: v.provider_model_id as string,
        endpoint: (v.endpoint as string | null) ?? null,
        apiKey: deps.apiKeyFor({ provider, parameters }),
        parameters,
        // A plain answer comes whole: the total timeout bounds its first byte too.
        timeouts: { ...timeouts, totalMs, firstByteMs: totalMs },
      },
      price: prices[v.version as string] ?? { inputPer1kUsd: 0, outputPer1kUsd: 0 },
    };
  }

  function targetOf(versionId: string): Promise<Target> {
    const hit = cache.get(versionId);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
    const value = load(versionId);
    value.catch(() => cache.delete(versionId));
    cache.set(versionId, { at: Date.now(), value });
    return value;
  }

  /**
   * The version a router's tier names, as the gateway would serve it to the router: the
   * production alias (or the alias named), or the pinned version.
   */
  async function tierVersion(target: string): Promise<string> {
    const at = target.indexOf("@");
    const name = at < 0 ? target : target.slice(0, at);
    const selector = at < 0 ? "production" : target.slice(at + 1);
    const rows = await deps.db.query<{ id: string }>(
      /^\d+\.\d+\.\d+/.test(selector)
        ? `SELECT v.id FROM model_versions v JOIN models m ON m.id = v.model_id
            WHERE m.name = $1 AND v.version = $2 AND v.status <> 'retired'`
        : `SELECT a.version_id AS id FROM aliases a JOIN models m ON m.id = a.model_id
            WHERE m.name = $1 AND a.alias = $2`,
      [name, selector],
    );
    if (!rows[0]) throw new Error(`the router's tier ${target} names no version`);
    return rows[0].id;
  }

  /** One tier's answer: the result and the raw choices (the checks read them), or the error. */
  async function tierCall(target: string, messages: Message[], ctx: InvokeContext, n: number) {
    const id = await tierVersion(target);
    if ((await targetOf(id)).router) throw new Error(`${target} is a router; routers do not nest`);
    try {
      const { result, choices } = await invoke(id, messages, { ...ctx, requestId: `${ctx.requestId}.t${n}` });
      return { id, result, choices };
    } catch (err) {
      return { id, error: err as Error };
    }
  }

  const sum = (
    rs: { tokensIn: number; tokensOut: number; costUsd: number; upstreamMs: number | null }[],
  ) => ({
    tokensIn: rs.reduce((a, r) => a + r.tokensIn, 0),
    tokensOut: rs.reduce((a, r) => a + r.tokensOut, 0),
    costUsd: rs.reduce((a, r) => a + r.costUsd, 0),
    upstreamMs: rs.reduce((a, r) => a + (r.upstreamMs ?? 0), 0),
  });

  /** A version's answer as a step of a router's route (its row: tokens, cost, outcome). */
  function stepOf(
    tier: string,
    id: string,
    got: { result: InvokeResult; choices: unknown },
    label: string,
    role?: "classifier" | "judge",
  ): Step<{ id: string; result: InvokeResult }> {
    const r = got.result;
    return {
      label,
      choices: got.choices,
      x: { id, result: r },
      row: {
        tier,
        ...(role ? { role } : {}),
        versionId: id,
        version: label.slice(label.lastIndexOf("@") + 1),
        outcome: "served",
        reason: null,
        tokensIn: r.tokensIn,
        tokensOut: r.tokensOut,
        costUsd: r.costUsd,
        upstreamMs: r.upstreamMs,
      },
    };
  }

  /** A router's own call (its classifier, a judge), as the gateway's: the version its target names, within the time. */
  const ask =
    (messagesCtx: InvokeContext): Ask =>
    async (role, target, prompt, limits) => {
      let id: string;
      try {
        id = await tierVersion(target);
        if ((await targetOf(id)).router) throw new Error(`${target} is a router`);
      } catch (err) {
        return { row: emptyRow(role, "refused", (err as Error).message, role) };
      }
      const got = await within(
        invoke(
          id,
          prompt,
          { ...messagesCtx, requestId: `${messagesCtx.requestId}.${role}` },
          limits.maxTokens,
        ).catch((err: Error) => err),
        limits.timeoutMs,
      );
      if (got === "late")
        return { row: emptyRow(role, "failed", `no answer within ${limits.timeoutMs} ms`, role) };
      if (got instanceof Error) return { row: emptyRow(role, "failed", got.message, role) };
      return stepOf(role, id, got, (await targetOf(id)).target.label, role);
    };

  /**
   * A router version's case, as the gateway serves it: the classifier, the cascade's checks,
   * judge and cap, the ensemble's combination are routing/strategies.ts, the gateway's code.
   */
  async function routed(router: CompiledRouter, label: string, messages: Message[], ctx: InvokeContext) {
    const policy = router.policy;
    const input = routerInput({ model: label, messages: messages.map((m) => ({ ...m })) });
    if (policy.strategy === "route") {
      let choice = router.llm ? undefined : router.pick(input);
      const calls: Step[] = [];
      if (!choice) {
        const c = await classify(router, input.text, ask(ctx));
        // As at the gateway: a classifier that cannot serve refuses the request, as a tier would.
        if (c.step.row.outcome === "refused") throw new Error(`${label}'s classifier: ${c.step.row.reason}`);
        calls.push(c.step);
        choice = c.choice;
      }
      const got = await tierCall(choice.tier.target, messages, ctx, 1);
      if ("error" in got) throw got.error!;
      const score = choice.score !== undefined ? { score: choice.score } : {};
      return {
        ...got.result!,
        ...(calls.length ? sum([...calls.map((c) => c.row), got.result!]) : {}),
        route: { tier: choice.tier.name, why: choice.reason, versionId: got.id, ...score },
      };
    }
    const callTier = async (tier: { name: string; target: string }, i: number) => {
      const got = await tierCall(tier.target, messages, ctx, i + 1);
      if ("error" in got) return { row: emptyRow(tier.name, "failed", got.error!.message) };
      return stepOf(
        tier.name,
        got.id,
        got as { result: InvokeResult; choices: unknown },
        (await targetOf(got.id)).target.label,
      );
    };
    const strategy = {
      responseFormat: undefined,
      question: input.text,
      tokensIn: input.tokensIn,
      ask: ask(ctx),
      priceOf: async (tier: { target: string }) => (await targetOf(await tierVersion(tier.target))).price,
    };
    const run =
      policy.strategy === "cascade"
        ? await runCascade(router, callTier, strategy)
        : await runEnsemble(router, callTier, strategy);
    const chosen = run.chosen?.x;
    if (!chosen) throw new Error(`${label}: ${run.describe}`);
    const tiers = run.steps
      .filter((s) => !s.row.role)
      .map((s) => ({ tier: s.row.tier, outcome: s.row.outcome }));
    return {
      ...chosen.result,
      ...sum(run.steps.map((s) => s.row)),
      route: {
        tier: run.chosen!.row.tier,
        why: policy.strategy === "cascade" ? "cascade" : policy.combine!.by,
        versionId: chosen.id,
        tiers,
      },
    };
  }

  async function call(versionId: string, messages: Message[], ctx: InvokeContext): Promise<InvokeResult> {
    const { target, router } = await targetOf(versionId);
    await refuseKilled(target);
    // A router version is evaluated as it serves: the policy decides which tiers answer.
    if (router) return routed(router, target.label, messages, ctx);
    return (await invoke(versionId, messages, ctx)).result;
  }

  async function invoke(versionId: string, messages: Message[], ctx: InvokeContext, maxTokens?: number) {
    const { target, price } = await targetOf(versionId);
    await refuseKilled(target);
    {
      const adapter = deps.adapters[target.provider];
      const out = await adapter.complete(
        {
          model: target.providerModelId,
          messages: messages.map((m) => ({ ...m })),
          // A router's classifier or judge: a short answer, as the gateway asks it.
          ...(maxTokens ? { max_tokens: maxTokens, temperature: 0 } : {}),
        },
        target,
        {
          signal: ctx.signal,
          requestId: ctx.requestId,
          ...(ctx.groups ? { groups: ctx.groups } : {}),
          ...(ctx.reference !== undefined ? { reference: ctx.reference } : {}),
        },
      );
      const message = (out.response.choices[0] as { message?: Record<string, unknown> } | undefined)?.message;
      const content = message?.content;
      const text =
        typeof content === "string"
          ? content
          : Array.isArray(content)
            ? content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("")
            : "";
      const calls = Array.isArray(message?.tool_calls)
        ? (message.tool_calls as Record<string, unknown>[])
        : [];
      const toolCalls = calls.map((c) => {
        const f = (c.function ?? {}) as { name?: unknown; arguments?: unknown };
        return { name: String(f.name ?? ""), arguments: String(f.arguments ?? "") };
      });
      const { inputTokens, outputTokens } = out.usage;
      const result: InvokeResult = {
        text,
        toolCalls,
        tokensIn: inputTokens,
        tokensOut: outputTokens,
        upstreamMs: out.upstreamMs,
        costUsd: (inputTokens / 1000) * price.inputPer1kUsd + (outputTokens / 1000) * price.outputPer1kUsd,
      };
      return { result, choices: out.response.choices };
    }
  }

  return { call };
}
