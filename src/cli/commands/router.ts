import { type Command, InvalidArgumentError } from "commander";
import type { Client, EvalRunView } from "../../client/index.ts";
import { parseWindow } from "../../lib/window.ts";
import type { CalibrationSummary } from "../../modules/routers/index.ts";
import type { Io } from "../output.ts";
import { parseRef } from "./evals.ts";

type Ctx = { client: () => Client; io: Io; json: () => boolean; fail: (code: number) => void };
type Routing = NonNullable<EvalRunView["routing"]>;

const pct = (x: number | null | undefined) => (x == null ? "-" : `${(x * 100).toFixed(1)}%`);
const usd = (x: number | null | undefined) => (x == null ? "-" : `$${x.toFixed(6)}`);

/** A router run's routing section in words: per tier, overall, the tiers alone, the curve's points. */
export function describeRouting(r: Routing): string[] {
  const row = (
    name: string,
    f: {
      cases: number;
      passed: number;
      successRate: number | null;
      costPerCaseUsd: number | null;
      costPerSuccessUsd: number | null;
    },
    extra = "",
  ) =>
    `  ${name.padEnd(22)} ${String(f.cases).padStart(5)} ${`${f.passed}`.padStart(6)} ${pct(f.successRate).padStart(7)} ${usd(f.costPerCaseUsd).padStart(11)} ${usd(f.costPerSuccessUsd).padStart(11)}${extra}`;
  const lines = [
    `routing (${r.strategy}${r.classifier ? `, ${r.classifier}` : ""}${r.threshold !== null ? `, threshold ${r.threshold.toFixed(4)}` : ""}):`,
    `  ${"".padEnd(22)} ${"cases".padStart(5)} ${"passed".padStart(6)} ${"success".padStart(7)} ${"cost/case".padStart(11)} ${"cost/success".padStart(11)}`,
  ];
  for (const t of r.tiers)
    lines.push(row(`tier ${t.tier}`, t, t.calls !== t.cases ? `  (called on ${t.calls})` : ""));
  lines.push(row("router overall", r.overall, r.unanswered ? `  (${r.unanswered} unanswered)` : ""));
  for (const [i, b] of r.baselines.entries()) {
    const name =
      i === 0 ? "always-cheap" : i === r.baselines.length - 1 ? "always-strong" : `always-${b.tier}`;
    lines.push(
      b.runId ? row(`${name} ${b.version}`, b, `  (${b.runId})`) : `  ${name.padEnd(22)} ${b.missing}`,
    );
  }
  if (r.versusStrong)
    lines.push(
      `  the router keeps ${pct(r.versusStrong.successShare)} of always-strong's success at ${pct(r.versusStrong.costShare)} of its cost`,
    );
  if (r.curve) {
    lines.push(`cost-quality curve over the threshold (${r.curve.cases} cases run on both tiers):`);
    const cur = r.curve.current;
    for (const p of r.curve.points)
      lines.push(
        `  threshold ${p.threshold === null ? (p.strongShare === 0 ? "none (all cheap)" : "0 (all strong)") : p.threshold.toFixed(4)}`.padEnd(
          34,
        ) +
          `strong ${pct(p.strongShare).padStart(6)}  success ${pct(p.successRate).padStart(6)}  ${usd(p.costPerCaseUsd)} a case`,
      );
    if (cur)
      lines.push(
        `  the router's threshold ${cur.threshold?.toFixed(4)}: strong ${pct(cur.strongShare)}, success ${pct(cur.successRate)}, ${usd(cur.costPerCaseUsd)} a case`,
      );
  }
  for (const n of r.notes) lines.push(`  ${n}`);
  return lines;
}

function describeCalibration(c: CalibrationSummary): string[] {
  return [
    `calibrated on suite ${c.suite} (${c.cases} cases; ${c.runs.map((r) => `${r.tier} ${r.version} ${r.runId}`).join(", ")})`,
    `target success ${c.relativeToStrong ? `${pct(c.target)} of always-strong's = ${pct(c.required)}` : pct(c.required)}: threshold ${c.threshold.toFixed(4)}, strong ${pct(c.point.strongShare)}, success ${pct(c.point.successRate)} at ${usd(c.point.costPerCaseUsd)} a case`,
    `  always-cheap ${pct(c.cheapOnly.successRate)} at ${usd(c.cheapOnly.costPerCaseUsd)}; always-strong ${pct(c.strongOnly.successRate)} at ${usd(c.strongOnly.costPerCaseUsd)}`,
  ];
}

const numberArg = (name: string) => (v: string) => {
  const x = Number(v);
  if (!(x > 0 && x <= 1)) throw new InvalidArgumentError(`${name}: a number in (0, 1]`);
  return x;
};

/** `cheap=model-a,strong=model-b@2.0.0` → tiers in that order. */
export function parseTiers(s: string): { name: string; target: string }[] {
  return s.split(",").map((part) => {
    const m = /^\s*([^=\s]+)=(\S+)\s*$/.exec(part);
    if (!m)
      throw new InvalidArgumentError(
        `--tiers: expected name=model[@version],… cheapest first, got '${part}'`,
      );
    return { name: m[1]!, target: m[2]! };
  });
}

/** `--since 7d` (that long before now) or an ISO time, as an ISO time. */
const timeArg = (name: string) => (v: string) => {
  const ms = parseWindow(v);
  if (ms !== null) return new Date(Date.now() - ms).toISOString();
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t))
    throw new InvalidArgumentError(`${name}: an ISO time (2026-03-01T00:00:00Z) or how far back (7d, 24h)`);
  return new Date(t).toISOString();
};

/** A suite file's hash (what the server knows it by), or a hash given as is. */
async function suiteHashOf(suite: string): Promise<string> {
  if (/^sha256:[a-f0-9]{64}$/.test(suite)) return suite;
  const { loadSuite } = await import("../../modules/evals/index.ts");
  return (await loadSuite(suite)).hash;
}

export function registerRouterCommands(program: Command, ctx: Ctx) {
  const router = program
    .command("router")
    .description("routers from data: calibrate a router's threshold, train its classifier (docs/routing.md)");

  router
    .command("calibrate <model@version>")
    .description(
      "register a new version of a two-tier complexity or trained router whose threshold is the cheapest meeting a success target on a suite (each tier must have a completed run of it)",
    )
    .requiredOption("--suite <file|hash>", "the suite (its YAML file, or its sha256: hash)")
    .requiredOption("--target <rate>", "the success rate to reach, in (0, 1]", numberArg("--target"))
    .option("--relative-to-strong", "the target is a share of always-strong's success (0.95: 95% of it)")
    .requiredOption("--as <version>", "the new version's number (registered in development)")
    .action(async (ref: string, o) => {
      const { model, version } = parseRef(ref);
      const out = await ctx.client().routers.calibrate(model, version, {
        suiteHash: await suiteHashOf(o.suite),
        target: o.target,
        relativeToStrong: !!o.relativeToStrong,
        as: o.as,
      });
      if (ctx.json()) return ctx.io.out(JSON.stringify(out, null, 2));
      ctx.io.out(
        [
          `registered ${model}@${out.version.version} (development) from ${ref}`,
          ...describeCalibration(out.calibration),
          `next: evaluate it on a held-out suite, then request its approval (modelgov approvals request ${model}@${out.version.version})`,
        ].join("\n"),
      );
    });

  router
    .command("train <model>")
    .description(
      "register a new trained router version: each case of a suite labelled by the cheapest tier that succeeded on it (from each tier's completed run of the suite), or each request of the log by its feedback (--from-feedback)",
    )
    .option("--suite <file|hash>", "the suite (its YAML file, or its sha256: hash)")
    .option(
      "--from-feedback",
      "label the requests of the model and its tiers' models over a window by their latest feedback instead (docs/routing.md)",
    )
    .option(
      "--since <ISO|7d>",
      "with --from-feedback: the window's start, a time or how far back (default 30d)",
      timeArg("--since"),
    )
    .option("--until <ISO|7d>", "with --from-feedback: the window's end (default now)", timeArg("--until"))
    .option(
      "--min-per-label <n>",
      "with --from-feedback: the fewest labelled examples a tier needs (default 20)",
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1)
          throw new InvalidArgumentError("--min-per-label: a whole number from 1");
        return n;
      },
    )
    .requiredOption("--as <version>", "the new version's number (registered in development)")
    .option(
      "--tiers <name=model,…>",
      "the tiers, cheapest first (cheap=support-small,strong=support-large@2.1.0)",
      parseTiers,
    )
    .option(
      "--from <version>",
      "a router version of the model to start from (its tiers, card, contract, tags)",
    )
    .option(
      "--target <rate>",
      "also calibrate the threshold to this success rate (two tiers; a suite only)",
      numberArg("--target"),
    )
    .option("--relative-to-strong", "the target is a share of always-strong's success")
    .option(
      "--l2 <penalty>",
      "the logistic regression's L2 penalty (default 1; smaller for small suites)",
      Number,
    )
    .action(async (model: string, o) => {
      if (!o.suite === !o.fromFeedback)
        throw new Error("name a suite (--suite) or train from feedback (--from-feedback), one of the two");
      if (!o.fromFeedback && (o.since || o.until || o.minPerLabel !== undefined))
        throw new Error("--since, --until and --min-per-label go with --from-feedback");
      const out = await ctx.client().routers.train(model, {
        ...(o.suite
          ? { suiteHash: await suiteHashOf(o.suite) }
          : {
              fromFeedback: {
                ...(o.since ? { since: o.since } : {}),
                ...(o.until ? { until: o.until } : {}),
                ...(o.minPerLabel !== undefined ? { minPerLabel: o.minPerLabel } : {}),
              },
            }),
        as: o.as,
        ...(o.tiers ? { tiers: o.tiers } : {}),
        ...(o.from ? { from: o.from } : {}),
        ...(o.target !== undefined ? { target: o.target, relativeToStrong: !!o.relativeToStrong } : {}),
        ...(o.l2 !== undefined ? { l2: o.l2 } : {}),
      });
      if (ctx.json()) return ctx.io.out(JSON.stringify(out, null, 2));
      const t = out.training;
      const labels = Object.entries(t.labels)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ");
      const fit = `${t.iterations} iterations, ${t.converged ? "converged" : "NOT converged"}`;
      ctx.io.out(
        [
          `registered ${model}@${out.version.version} (development): a trained router`,
          ...(t.source === "feedback" && t.window
            ? [
                `trained on ${t.cases} requests labelled by feedback (${labels}), ${fit}`,
                `window ${t.window.since} to ${t.window.until}; read ${Object.entries(t.read ?? {})
                  .map(([k, n]) => `${k} ${n}`)
                  .join(", ")}`,
                ...(t.skipped ?? []).map((x) => `  skipped ${x.requests}: ${x.why}`),
                "no threshold: the most probable tier (calibrate the new version on a suite: modelgov router calibrate)",
              ]
            : [
                `trained on ${t.cases} cases (${labels}), ${fit}`,
                ...(out.calibration
                  ? describeCalibration(out.calibration)
                  : ["no threshold: the most probable tier (--target to calibrate)"]),
              ]),
        ].join("\n"),
      );
    });
}
