import { Agent, type Dispatcher } from "undici";
import { type Clock, systemClock } from "../lib/clock.ts";
import { createAnthropicAdapter } from "./anthropic/adapter.ts";
import { createOpenAIAdapter } from "./openai-compatible/adapter.ts";
import { createSimulatorAdapter } from "./simulator/adapter.ts";
import type { ProviderAdapter, UpstreamTarget } from "./types.ts";

export interface AdapterDeps {
  /**
   * Carries every upstream HTTP call (the egress guard wraps or replaces it). Default: one
   * keep-alive Agent shared by the adapters created here.
   */
  dispatcher?: Dispatcher;
  clock?: Clock;
  /** Seeds simulator calls of versions registered without a seed. */
  random?: () => number;
}

export type Adapters = Record<UpstreamTarget["provider"], ProviderAdapter>;

export function createAdapters(deps: AdapterDeps = {}): Adapters {
  const clock = deps.clock ?? systemClock;
  const dispatcher = deps.dispatcher ?? new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
  const http = { dispatcher, clock };
  return {
    openai: createOpenAIAdapter(http, "openai"),
    "openai-compatible": createOpenAIAdapter(http, "openai-compatible"),
    anthropic: createAnthropicAdapter(http),
    simulator: createSimulatorAdapter({ clock, random: deps.random ?? Math.random }),
  };
}

export { createAnthropicAdapter } from "./anthropic/adapter.ts";
export { anthropicSse, OPENAI_SSE_DONE, openAISse, parseSse, type SseEvent } from "./http/sse.ts";
export type { HttpDeps } from "./http/upstream.ts";
export { createOpenAIAdapter } from "./openai-compatible/adapter.ts";
export { createSimulatorAdapter } from "./simulator/adapter.ts";
export * from "./translate/index.ts";
export * from "./types.ts";
