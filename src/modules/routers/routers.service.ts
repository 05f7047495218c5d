/**
 * Calibrating and training routers from evaluations (issue 18). Both read the suite's per-case
 * results on each tier alone (the tiers' latest completed runs of the suite) and register a NEW
 * router version, in development like any version, so it goes through its card, approvals and a
 * canary before it serves: `calibrate` keeps the policy and moves the threshold to the cheapest
 * point of the cost-quality curve that meets a success target; `train` labels each case by the
 * cheapest tier that succeeded on it, fits the hashed n-gram classifier, and optionally
 * calibrates its threshold on cross-fitted scores. The version, its card and the audit event
 * are written in one transaction.
 */
import {
  type Calibration,
  CalibrationError,
  type CurvePoint,
  calibrateThreshold,
  predictHashedLogistic,
  TrainingError,
  trainHashedLogistic,
} from "../../engines/routing/index.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, invalid, notFound } from "../../lib/errors.ts";
import { RouterPolicySchema } from "../../providers/router/registration.ts";
import type { Db } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import type { CardContent, CardsService } from "../cards/index.ts";
import {
  calibratable,
  calibrationCases,
  type EvalsService,
  type JsonPoint,
  jsonPoint,
  scoreOf,
  type TierRun,
  tierRuns,
} from "../evals/index.ts";
import { compileRouter, routerInput } from "../gateway/index.ts";
import { findVersion, type RegistryService, VersionCreateSchema } from "../registry/index.ts";

export interface CalibrateInput {
  suiteHash: string;
  target: number;
  relativeToStrong?: boolean;
  /** The new version's number. */
  as: string;
}

export interface TrainInput {
  suiteHash: string;
  as: string;
  /** The tiers, cheapest first; else those of `from`. */
  tiers?: { name: string; target: string }[];
  /** A router version of the model whose tiers, card, contract and tags the new one starts from. */
  from?: string;
  /** Calibrate the threshold too (two tiers only). */
  target?: number;
  relativeToStrong?: boolean;
  l2?: number;
}

export interface CalibrationSummary {
  suite: string;
  suiteHash: string;
  cases: number;
  target: number;
  relativeToStrong: boolean;
  /** The success rate the point had to reach. */
  required: number;
  threshold: number;
  point: JsonPoint;
  cheapOnly: JsonPoint;
  strongOnly: JsonPoint;
  curve: JsonPoint[];
  /** The tier runs it read. */
  runs: { tier: string; version: string | null; runId: string }[];
}

/** A calibration without its curve, for the audit log. */
const brief = ({ curve, ...rest }: CalibrationSummary) => ({ ...rest, curvePoints: curve.length });
const clamp01 = (t: number) => Math.min(1, Math.max(0, t));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function summary(
  suite: { name: string; hash: string },
  runs: TierRun[],
  cal: Calibration,
  cases: number,
  opts: { target: number; relativeToStrong?: boolean },
): CalibrationSummary {
  return {
    suite: suite.name,
    suiteHash: suite.hash,
    cases,
    target: opts.target,
    relativeToStrong: !!opts.relativeToStrong,
    required: cal.target,
    threshold: clamp01(cal.threshold),
    point: jsonPoint(cal.point),
    cheapOnly: jsonPoint(cal.cheapOnly),
    strongOnly: jsonPoint(cal.strongOnly),
    curve: cal.curve.map(jsonPoint),
    runs: runs.map((r) => ({ tier: r.tier, version: r.version, runId: r.run!.id })),
  };
}

/** The card's words for a calibration: the suite, the target and the point chosen. */
function calibrationNote(s: CalibrationSummary, from: string): string {
  const p = s.point as CurvePoint & JsonPoint;
  return [
    `Threshold ${s.threshold.toFixed(4)} calibrated by modelgov from ${from} on suite **${s.suite}** (\`${s.suiteHash.slice(0, 19)}…\`, ${s.cases} cases run on both tiers alone: ${s.runs.map((r) => `${r.tier} ${r.version} run \`${r.runId}\``).join(", ")}).`,
    `Target: success ${s.relativeToStrong ? `${pct(s.target)} of always-strong's (${pct(s.required)})` : pct(s.required)}; the chosen point sends ${pct(p.strongShare)} of the cases to the strong tier, success ${pct(p.successRate)} at $${p.costPerCaseUsd.toFixed(6)} a case (always-cheap ${pct(s.cheapOnly.successRate)} at $${s.cheapOnly.costPerCaseUsd.toFixed(6)}, always-strong ${pct(s.strongOnly.successRate)} at $${s.strongOnly.costPerCaseUsd.toFixed(6)}).`,
    "Measured on the suite's cases themselves: evaluate the new version on a held-out suite before approving it.",
  ].join(" ");
}

const appendTo = (
  card: CardContent,
  key: "evaluation_data" | "training_data",
  text: string,
): CardContent => ({
  ...card,
  sections: { ...card.sections, [key]: card.sections[key] ? `${card.sections[key]}\n\n${text}` : text },
});

export function createRoutersService(deps: {
  db: Db;
  clock: Clock;
  registry: RegistryService;
  evals: EvalsService;
  cards: CardsService;
}) {
  const { db, clock } = deps;

  async function routerVersion(model: string, version: string, field: string) {
    const v = await findVersion(db, model, version);
    if (!v) throw notFound(`version '${version}' of model '${model}'`);
    if (v.provider !== "router")
      throw invalid(field, `${model}@${version} is a ${v.provider} version, not a router`);
    return v;
  }

  async function suiteOrThrow(hash: string) {
    const suite = await deps.evals.suiteOf(hash);
    if (!suite)
      throw invalid(
        "suiteHash",
        "no suite with this hash on the server: evaluate it on the tiers first (modelgov eval run <tier model@version> --suite <file>)",
      );
    return suite;
  }

  /** Each tier's latest completed run of the suite; refuses naming the tier without one. */
  async function runsOrThrow(
    router: ReturnType<typeof compileRouter>,
    suite: { name: string; hash: string },
  ) {
    const runs = await tierRuns(db, router, suite.hash);
    for (const [i, r] of runs.entries())
      if (!r.run)
        throw invalid(
          "suiteHash",
          r.versionId
            ? `no completed run of suite ${suite.name} on tier ${r.tier} (${r.version}): modelgov eval run ${r.version} --suite <file>`
            : `tier ${r.tier} (${router.tiers[i]!.target}) names no version`,
        );
    return runs;
  }

  function calibrate(
    cases: Parameters<typeof calibrateThreshold>[0],
    o: { target: number; relativeToStrong?: boolean },
  ) {
    try {
      return calibrateThreshold(cases, o);
    } catch (e) {
      if (e instanceof CalibrationError) throw invalid("target", e.message);
      throw e;
    }
  }

  async function cardOf(model: string, version: string): Promise<CardContent> {
    try {
      return (await deps.cards.get(model, version)).content;
    } catch (e) {
      if (e instanceof AppError && e.code === "not_found")
        return { metadata: {}, sections: {}, extraSections: [] };
      throw e;
    }
  }

  /** Registers the new router version with its card and the audit event, in one transaction. */
  async function register(
    ctx: RequestContext,
    model: string,
    input: {
      as: string;
      providerModelId: string;
      parameters: Record<string, unknown>;
      changelog: string;
      card: CardContent;
      base?: { contract: unknown; tags: string[]; limitations: string[] };
    },
    audit: { action: string; after: Record<string, unknown> },
  ) {
    const create = VersionCreateSchema.parse({
      version: input.as,
      provider: "router",
      providerModelId: input.providerModelId,
      parameters: input.parameters,
      changelog: input.changelog,
      card: input.card,
      ...(input.base?.contract ? { contract: input.base.contract } : {}),
      tags: input.base?.tags ?? [],
      limitations: input.base?.limitations ?? [],
    });
    return db.transaction(async (tx) => {
      const version = await deps.registry.registerVersion(ctx, model, create, tx);
      await recordAudit(tx, ctx, clock.now(), {
        action: audit.action,
        subjectType: "model_version",
        subjectId: version.id,
        after: { version: `${model}@${input.as}`, ...audit.after },
      });
      return version;
    });
  }

  return {
    /**
     * A new version of a two-tier complexity or trained router with the cheapest threshold
     * whose success on the suite meets the target (exact on the suite: each case's score and
     * each tier's own result on it).
     */
    async calibrate(ctx: RequestContext, model: string, version: string, input: CalibrateInput) {
      const v = await routerVersion(model, version, "version");
      const router = compileRouter(v.parameters);
      const can = calibratable(router);
      if ("reason" in can) throw invalid("version", `${model}@${version}: ${can.reason}`);
      const suite = await suiteOrThrow(input.suiteHash);
      const runs = await runsOrThrow(router, suite);
      const scores = new Map<string, number>();
      for (const c of suite.cases) scores.set(c.id, scoreOf(router, c.input.messages)!);
      const cases = calibrationCases(scores, runs[0]!.cases, runs[1]!.cases);
      if (cases.length === 0)
        throw invalid("suiteHash", `no case of suite ${suite.name} was run on both tiers`);
      const cal = calibrate(cases, input);
      const s = summary(suite, runs, cal, cases.length, input);
      const policy = structuredClone(v.parameters) as Record<string, unknown> & {
        classifier: Record<string, unknown>;
      };
      if (policy.classifier.kind === "complexity") policy.classifier.thresholds = [s.threshold];
      else policy.classifier.threshold = s.threshold;
      const note = calibrationNote(s, `${model}@${version}`);
      const created = await register(
        ctx,
        model,
        {
          as: input.as,
          providerModelId: v.providerModelId,
          parameters: policy,
          changelog: note,
          card: appendTo(await cardOf(model, version), "evaluation_data", note),
          base: { contract: v.contract, tags: v.tags, limitations: v.limitations },
        },
        {
          action: "router.calibrated",
          after: { from: `${model}@${version}`, calibration: brief(s) },
        },
      );
      return { version: created, calibration: s };
    },

    /**
     * A new trained router: each case of the suite labelled by the cheapest tier that succeeded
     * on it (the cheapest when none did), a hashed n-gram logistic regression fitted to the
     * labels, and, with a target, its threshold calibrated on 2-fold cross-fitted scores (each
     * half scored by a model trained on the other, so the threshold is not fitted to the
     * classifier's own training cases).
     */
    async train(ctx: RequestContext, model: string, input: TrainInput) {
      const from = input.from ? await routerVersion(model, input.from, "from") : null;
      const tiers = input.tiers ?? (from?.parameters.tiers as TrainInput["tiers"]);
      if (!tiers) throw invalid("tiers", "name the tiers (cheapest first) or a router version to start from");
      // The tiers checked as a policy's are (names, targets, at least two).
      const skeleton = RouterPolicySchema.safeParse({ strategy: "cascade", tiers });
      if (!skeleton.success) {
        const i = skeleton.error.issues[0]!;
        throw invalid(["tiers", ...i.path.slice(1).map(String)].join("."), i.message);
      }
      const router = compileRouter(skeleton.data);
      const suite = await suiteOrThrow(input.suiteHash);
      const runs = await runsOrThrow(router, suite);
      const byTier = runs.map((r) => new Map(r.cases.map((c) => [c.caseId, c])));
      const examples: { id: string; text: string; label: string }[] = [];
      for (const c of suite.cases) {
        const results = byTier.map((m) => m.get(c.id));
        if (results.some((r) => !r)) continue;
        const cheapest = results.findIndex((r) => r!.passed);
        const text = routerInput({ model, messages: c.input.messages.map((m) => ({ ...m })) }).text;
        examples.push({ id: c.id, text, label: tiers[Math.max(0, cheapest)]!.name });
      }
      const l2 = input.l2 ?? 1;
      const fit = (xs: typeof examples) => {
        try {
          return trainHashedLogistic(xs, { l2 });
        } catch (e) {
          if (e instanceof TrainingError)
            throw invalid(
              "suiteHash",
              `${e.message}: on suite ${suite.name}, ${examples.length} cases run on every tier, labelled ${[...new Set(examples.map((x) => x.label))].join(", ") || "none"}`,
            );
          throw e;
        }
      };
      const { model: classifier, report } = fit(examples);
      const classifierPolicy: Record<string, unknown> = { kind: "trained", model: classifier };
      let calibration: CalibrationSummary | null = null;
      if (input.target !== undefined) {
        if (tiers.length !== 2 || classifier.classes.length !== 2)
          throw invalid("target", "calibrating a threshold needs two tiers, both labels present");
        const strong = tiers[1]!.name;
        const half = Math.floor(examples.length / 2);
        const folds = [examples.slice(0, half), examples.slice(half)];
        const scores = new Map<string, number>();
        for (const [i, fold] of folds.entries()) {
          const other = fit(folds[1 - i]!).model;
          for (const x of fold)
            scores.set(x.id, predictHashedLogistic(other, x.text).probabilities[strong] ?? 0);
        }
        const cases = calibrationCases(scores, runs[0]!.cases, runs[1]!.cases);
        const cal = calibrate(cases, {
          target: input.target,
          relativeToStrong: input.relativeToStrong ?? false,
        });
        calibration = summary(suite, runs, cal, cases.length, {
          target: input.target,
          relativeToStrong: input.relativeToStrong ?? false,
        });
        classifierPolicy.threshold = calibration.threshold;
      }
      const parameters = { strategy: "route", tiers, classifier: classifierPolicy };
      const counts = Object.fromEntries(
        tiers.map((t) => [t.name, examples.filter((x) => x.label === t.name).length]),
      );
      const note = [
        `Classifier trained by modelgov on suite **${suite.name}** (\`${suite.hash.slice(0, 19)}…\`): ${examples.length} cases run on every tier alone (${runs.map((r) => `${r.tier} ${r.version} run \`${r.run!.id}\``).join(", ")}), each labelled by the cheapest tier that succeeded (${Object.entries(
          counts,
        )
          .map(([k, n]) => `${k} ${n}`)
          .join(", ")}).`,
        `Hashed word uni- and bigrams, logistic regression, L2 ${l2}; ${report.iterations} iterations, ${report.converged ? "converged" : "NOT converged"}.`,
        calibration
          ? calibrationNote(calibration, "its 2-fold cross-fitted scores")
          : "Threshold: none (the most probable tier).",
      ].join(" ");
      const base = from
        ? { contract: from.contract, tags: from.tags, limitations: from.limitations }
        : undefined;
      const created = await register(
        ctx,
        model,
        {
          as: input.as,
          providerModelId: from?.providerModelId ?? `trained-${input.as}`,
          parameters,
          changelog: note,
          card: appendTo(
            from ? await cardOf(model, from.version) : { metadata: {}, sections: {}, extraSections: [] },
            "training_data",
            note,
          ),
          ...(base ? { base } : {}),
        },
        {
          action: "router.trained",
          after: {
            ...(from ? { from: `${model}@${from.version}` } : {}),
            suite: suite.name,
            suiteHash: suite.hash,
            cases: examples.length,
            labels: counts,
            training: report,
            ...(calibration ? { calibration: brief(calibration) } : {}),
          },
        },
      );
      return {
        version: created,
        training: { cases: examples.length, labels: counts, ...report },
        calibration,
      };
    },
  };
}

export type RoutersService = ReturnType<typeof createRoutersService>;
