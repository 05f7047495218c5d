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
  type CompiledRouter,
  compileRouter,
  DEFAULT_TIMEOUTS,
  routerInput,
  type Timeouts,
} from "../gateway/index.ts";
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
  /** A router version's case: the tier it chose, and the version of the tier's model that answered. */
  route?: { tier: string; why: string; versionId: string };
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

export function createEvalInvoker(deps: {
  db: Queryable;
  adapters: Adapters;
  /** The provider key for a version (the gateway's rule: parameters.apiKeyEnv, else the provider's default). */
  apiKeyFor: (v: { provider: string; parameters: Record<string, unknown> }) => string | undefined;
}): EvalInvoker {
  const cache = new Map<string, { at: number; value: Promise<Target> }>();

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

  async function call(versionId: string, messages: Message[], ctx: InvokeContext): Promise<InvokeResult> {
    const { target, price, router } = await targetOf(versionId);
    if (router) {
      // A router version is evaluated as it serves: the policy picks the tier from the case.
      if (router.policy.strategy !== "route")
        throw new Error(
          `${target.label} is a ${router.policy.strategy}; evaluating one is not supported yet`,
        );
      const choice = router.pick(
        routerInput({ model: target.label, messages: messages.map((m) => ({ ...m })) }),
      );
      const tierId = await tierVersion(choice.tier.target);
      if ((await targetOf(tierId)).router)
        throw new Error(`${choice.tier.target} is a router; routers do not nest`);
      const out = await call(tierId, messages, ctx);
      return { ...out, route: { tier: choice.tier.name, why: choice.reason, versionId: tierId } };
    }
    {
      const adapter = deps.adapters[target.provider];
      const out = await adapter.complete(
        { model: target.providerModelId, messages: messages.map((m) => ({ ...m })) },
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
      return {
        text,
        toolCalls,
        tokensIn: inputTokens,
        tokensOut: outputTokens,
        upstreamMs: out.upstreamMs,
        costUsd: (inputTokens / 1000) * price.inputPer1kUsd + (outputTokens / 1000) * price.outputPer1kUsd,
      };
    }
  }

  return { call };
}
