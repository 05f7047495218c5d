import type { Command } from "commander";
import type { Client } from "../../client/index.ts";
import { CANDIDATES, runRolloutDemo } from "../../demo-rollout.ts";
import type { Io } from "../output.ts";

type Ctx = {
  client: () => Client;
  io: Io;
  json: () => boolean;
  fail: (code: number) => void;
  baseUrl: () => string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
};

/** `demo rollout`: two canaries on the demo workspace, through the gateway and the controller. */
export function registerDemoCommands(program: Command, ctx: Ctx) {
  const demo = program
    .command("demo")
    .description("demonstrations on the demo workspace (a server started with the demo)");
  demo
    .command("rollout")
    .description(
      "two canaries on the simulator: a candidate worse for one group rolls back by itself, a healthy one promotes",
    )
    .option("--concurrency <n>", "concurrent callers through the gateway", "40")
    .action(async (o) => {
      const results = await runRolloutDemo({
        client: ctx.client(),
        baseUrl: ctx.baseUrl(),
        ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
        out: (line) => (ctx.json() ? undefined : ctx.io.out(line)),
        concurrency: Number(o.concurrency) || 40,
      });
      const ok = results.every((r, i) => r.status === CANDIDATES[i]!.expect);
      if (ctx.json())
        ctx.io.out(
          JSON.stringify(
            results.map((r) => ({
              version: r.candidate,
              status: r.status,
              reasons: r.decisions[0]?.reasons ?? [],
            })),
            null,
            2,
          ),
        );
      else
        ctx.io.out(
          ok ? "\ndemo: both rollouts ended as expected" : "\ndemo: a rollout did not end as expected",
        );
      if (!ok) ctx.fail(1);
    });
}
