import { Agent } from "undici";
import { createAdapters } from "../providers/index.ts";
import type { Json, ProviderAdapter, UpstreamTarget } from "../providers/types.ts";
import { startFakeAnthropic } from "./fake-anthropic.ts";
import { startFakeOpenAI } from "./fake-openai.ts";
import type { FakeUpstream } from "./fake-server.ts";
import { unusedPort } from "./webhook-receiver.ts";

/**
 * How the contract suite drives one adapter: where it sends ordinary calls and how to make
 * its upstream fail, stall or redirect. A harness leaves out what its adapter cannot meet
 * (the simulator has no network to refuse or redirect), and the suite defines those checks
 * only for the harnesses that declare them.
 */
export interface Harness {
  name: string;
  adapter: ProviderAdapter;
  start(): Promise<void>;
  stop(): Promise<void>;
  reset(): void;
  /** Upstream statuses this harness can produce on demand (the suite defines status tests for these only). */
  statuses: readonly number[];
  target(timeouts?: Partial<UpstreamTarget["timeouts"]>): UpstreamTarget;
  /** A target whose next call fails with `status`, or undefined when the adapter can't be made to. */
  failing(status: number, retryAfter?: string): UpstreamTarget | undefined;
  /** A target that accepts the call and never answers. */
  silent(timeouts: Partial<UpstreamTarget["timeouts"]>): UpstreamTarget;
  /** A target that starts a stream, then goes quiet for much longer than 50 ms. */
  stalling(timeouts: Partial<UpstreamTarget["timeouts"]>): UpstreamTarget;
  /** A target that answers after about `ms`. */
  slow(ms: number, timeouts?: Partial<UpstreamTarget["timeouts"]>): UpstreamTarget;
  refused?(): Promise<UpstreamTarget>;
  redirecting?(): { target: UpstreamTarget; followed(): number };
}

const TIMEOUTS = { totalMs: 5_000, firstByteMs: 3_000, idleMs: 3_000 };

function baseTarget(
  provider: UpstreamTarget["provider"],
  endpoint: string | null,
  parameters: Json,
  timeouts: Partial<UpstreamTarget["timeouts"]> = {},
): UpstreamTarget {
  return {
    versionId: `ver_${provider}`,
    label: `${provider}-model@1.0.0`,
    provider,
    providerModelId: provider === "anthropic" ? "claude-sonnet-4-5" : "gpt-4o-mini",
    endpoint,
    apiKey: "sk-test",
    parameters,
    timeouts: { ...TIMEOUTS, ...timeouts },
  };
}

function httpHarness(
  name: string,
  provider: "openai-compatible" | "anthropic",
  startFake: () => Promise<FakeUpstream>,
): Harness {
  let fake: FakeUpstream | undefined;
  const dispatcher = new Agent();
  const adapters = createAdapters({ dispatcher });
  const up = () => {
    if (!fake) throw new Error("harness not started");
    return fake;
  };
  const target = (timeouts: Partial<UpstreamTarget["timeouts"]> = {}) =>
    baseTarget(provider, up().url, { temperature: 0.5 }, timeouts);
  return {
    name,
    statuses: [429, 500, 503],
    adapter: adapters[provider],
    async start() {
      fake = await startFake();
    },
    async stop() {
      await fake?.close();
      await dispatcher.close();
    },
    reset: () => up().reset(),
    target,
    failing(status, retryAfter) {
      up().failNext(1, status, retryAfter === undefined ? {} : { retryAfter });
      return target();
    },
    silent(timeouts) {
      up().knobs.hang = "headers";
      return target(timeouts);
    },
    stalling(timeouts) {
      up().knobs.hang = "mid-stream";
      return target(timeouts);
    },
    slow(ms, timeouts) {
      up().knobs.latencyMs = ms;
      return target(timeouts);
    },
    async refused() {
      const port = await unusedPort();
      return baseTarget(provider, `http://127.0.0.1:${port}${provider === "anthropic" ? "" : "/v1"}`, {});
    },
    redirecting() {
      const f = up();
      f.redirectNext(1);
      return { target: target(), followed: () => f.redirectHits };
    },
  };
}

function simulatorHarness(): Harness {
  const adapter = createAdapters({ random: () => 0.5 }).simulator;
  const instant = { latencyMs: { p50: 0, p95: 0 }, seed: 7 };
  const sim = (parameters: Json, timeouts?: Partial<UpstreamTarget["timeouts"]>) =>
    baseTarget("simulator", null, parameters, timeouts);
  return {
    name: "simulator (in-process)",
    adapter,
    statuses: [503],
    start: async () => {},
    stop: async () => {},
    reset: () => {},
    target: (timeouts) => sim(instant, timeouts),
    // The simulator's only failure is a 503.
    failing: (status) => (status === 503 ? sim({ ...instant, errorRate: 1 }) : undefined),
    silent: (timeouts) => sim({ latencyMs: { p50: 60_000, p95: 60_000 }, seed: 7 }, timeouts),
    // First chunk after 300 ms, then a gap of over 100 ms between chunks.
    stalling: (timeouts) => sim({ latencyMs: { p50: 1_000, p95: 1_000 }, seed: 7 }, timeouts),
    slow: (ms, timeouts) => sim({ latencyMs: { p50: ms, p95: ms }, seed: 7 }, timeouts),
  };
}

export function harnesses(): Harness[] {
  return [
    httpHarness("openai-compatible against fake-openai", "openai-compatible", startFakeOpenAI),
    httpHarness("anthropic against fake-anthropic", "anthropic", startFakeAnthropic),
    simulatorHarness(),
  ];
}
