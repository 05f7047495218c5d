import { type Command, InvalidArgumentError, Option } from "commander";
import type { Client } from "../../client/index.ts";

// The demos load their suites and cards only when run: every other command starts faster.
const evalDemo = () => import("../../demo/eval.ts");
const rolloutDemo = () => import("../../demo/rollout.ts");
const monitorDemo = () => import("../../demo/monitor.ts");
const routingDemo = () => import("../../demo/routing.ts");

import type { Io } from "../output.ts";
import { describeComparison, describeRun } from "./evals.ts";

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
    .description(
      "demonstrations: rollout and eval on the demo workspace (a server started with the demo); monitor in this process",
    );
  demo
    .command("rollout")
    .description(
      "two canaries on the simulator: a candidate worse for one group rolls back by itself, a healthy one promotes",
    )
    .option("--concurrency <n>", "concurrent callers through the gateway", "40")
    .option("--timeout <seconds>", "give up on a rollout that has not ended after this long", "180")
    .addOption(
      new Option("--only <outcome>", "run only the candidate expected to end so").choices([
        "rolled_back",
        "promoted",
      ]),
    )
    .action(async (o) => {
      const { CANDIDATES: all, runRolloutDemo } = await rolloutDemo();
      const CANDIDATES = all.filter((c) => !o.only || c.expect === o.only);
      const results = await runRolloutDemo({
        candidates: CANDIDATES,
        client: ctx.client(),
        baseUrl: ctx.baseUrl(),
        ...(ctx.fetch ? { fetch: ctx.fetch } : {}),
        out: (line) => (ctx.json() ? undefined : ctx.io.out(line)),
        concurrency: Number(o.concurrency) || 40,
        timeoutMs: (Number(o.timeout) || 180) * 1000,
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
          ok
            ? `\ndemo: ${CANDIDATES.length === 1 ? "the rollout" : "both rollouts"} ended as expected`
            : "\ndemo: a rollout did not end as expected",
        );
      if (!ok) ctx.fail(1);
    });

  demo
    .command("eval")
    .description(
      "evaluate the production version and the release candidate 2.0.0 on the demo suite: the planted group disparity is found and the release gate blocks approval",
    )
    .action(async () => {
      const { DEMO_EVAL, runEvalDemo } = await evalDemo();
      const r = await runEvalDemo(ctx.client(), (line) => (ctx.json() ? undefined : ctx.io.err(line)));
      const found = r.candidate.report?.gates.fairness?.passed === false;
      const ok = found && r.baseline.report?.gates.fairness?.passed === true && r.blocked?.status === 412;
      if (ctx.json()) ctx.io.out(JSON.stringify(r, null, 2));
      else {
        for (const run of [r.baseline, r.candidate]) ctx.io.out(`\n${describeRun(run).join("\n")}`);
        ctx.io.out(
          `\n${describeComparison({ ...r.comparison, flips: r.comparison.flips.slice(0, 5) }).join("\n")}`,
        );
        ctx.io.out(
          r.blocked
            ? `\napproval request for ${DEMO_EVAL.candidate}: refused (HTTP ${r.blocked.status})\n${r.blocked.errors.map((e) => `  ${e.field}: ${e.reason}`).join("\n")}`
            : `\napproval request for ${DEMO_EVAL.candidate}: accepted (the gate did not block it)`,
        );
        ctx.io.out(
          ok
            ? "\ndemo: the evaluation found the planted disparity and the release gate blocked approval"
            : "\ndemo: the evaluation did not behave as expected",
        );
      }
      if (!ok) ctx.fail(1);
    });

  demo
    .command("monitor")
    .description(
      "weeks of traffic on a fake clock, in this process (no server): success decays and input drifts, the monitor fires on the expected day, the retraining task it opens is carried through to a promoted retrained version",
    )
    .option(
      "--days <n>",
      "days of traffic (at least 13: a 7-day baseline, the decay from day 10, a 3-day rule)",
      "14",
    )
    .action(async (o) => {
      const days = Number(o.days);
      if (!Number.isInteger(days) || days < 13 || days > 90) {
        throw new InvalidArgumentError("--days: a whole number from 13 to 90");
      }
      const { runMonitorDemo } = await monitorDemo();
      const r = await runMonitorDemo({ days, out: (line) => (ctx.json() ? undefined : ctx.io.out(line)) });
      if (ctx.json()) {
        const { tookMs: _took, ...shown } = r;
        ctx.io.out(JSON.stringify(shown, null, 2));
      } else
        ctx.io.out(
          r.ok
            ? `\ndemo: the rule fired on day ${r.fired?.day} as expected; task ${r.task?.id} closed with ${r.candidate.version} promoted (${(r.tookMs / 1000).toFixed(1)} s)`
            : `\ndemo: not as expected:\n  ${r.failures.join("\n  ")}`,
        );
      if (!r.ok) ctx.fail(1);
    });

  demo
    .command("routing")
    .description(
      "a cheap and a strong simulated model, a suite of tickets of known difficulty, in this process (no server): a trained router calibrated to keep 97.5% of the strong model's success, and a cascade, served as versions through the gateway; each must reach 95% of strong-only success at no more than 60% of its cost",
    )
    .option("--cases <n>", "tickets in the suite: half calibrates, half measures (even, 100 to 10000)", "600")
    .action(async (o) => {
      const cases = Number(o.cases);
      if (!Number.isInteger(cases) || cases < 100 || cases > 10_000 || cases % 2 !== 0) {
        throw new InvalidArgumentError("--cases: an even whole number from 100 to 10000");
      }
      const { runRoutingDemo } = await routingDemo();
      const r = await runRoutingDemo({ cases, out: (line) => (ctx.json() ? undefined : ctx.io.out(line)) });
      if (ctx.json()) {
        const { tookMs: _took, ...shown } = r;
        ctx.io.out(JSON.stringify(shown, null, 2));
      } else
        ctx.io.out(
          r.ok
            ? `\ndemo: the router and the cascade each kept at least 95% of the strong model's success at no more than 60% of its cost (${(r.tookMs / 1000).toFixed(1)} s)`
            : `\ndemo: not as expected:\n  ${r.failures.join("\n  ")}`,
        );
      if (!r.ok) ctx.fail(1);
    });
}
