/**
 * Calibrating and training routers from data (issue 18). Both register a NEW router version, in
 * development like any version, so it goes through its card, approvals and a canary before it
 * serves: `calibrate` reads the suite's per-case results on each tier alone (the tiers' latest
 * completed runs of the suite), keeps the policy and moves the threshold to the cheapest point
 * of the cost-quality curve that meets a success target; `train` labels each case of a suite by
 * the cheapest tier that succeeded on it, or each request of the log by its feedback
 * (feedback-labels.ts), fits the hashed n-gram classifier, and, from a suite, optionally
 * calibrates its threshold on cross-fitted scores. The version, its card and the audit event
 * are written in one transaction.
 */
import {
  CalibrationError,
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
import { calibratable, calibrationCases, type EvalsService, scoreOf, tierRuns } from "../evals/index.ts";
import { compileRouter, routerInput } from "../gateway/index.ts";
import { findVersion, type RegistryService, VersionCreateSchema } from "../registry/index.ts";
import { appendTo, brief, type CalibrationSummary, calibrationNote, summary } from "./calibration-summary.ts";
import { checkEnough, describeTally, type Example, feedbackExamples } from "./feedback-examples.ts";
import { SKIP_REASONS, type SkipReason } from "./feedback-labels.ts";

export const DEFAULT_FEEDBACK_WINDOW_MS = 30 * 86_400_000;
export const DEFAULT_MIN_PER_LABEL = 20;

/** Why `target` is refused with `fromFeedback` (docs/routing.md says the same). */
const NO_FEEDBACK_CALIBRATION =
  "a threshold is calibrated on each example's outcome on both tiers alone, and feedback gives one tier's (a request is answered by one tier, or by a cascade that stops at the first passing answer): train from feedback without a target, then calibrate the new version on a suite (modelgov router calibrate <model@version> --suite <file> --target <rate>)";

const words = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");

export interface CalibrateInput {
  suiteHash: string;
  target: number;
  relativeToStrong?: boolean;
  /** The new version's number. */
  as: string;
}

export interface TrainInput {
  /** The suite whose tiers' runs label the cases; or `fromFeedback`. */
  suiteHash?: string | undefined;
  /** Label requests of the log over a window by their feedback (ISO times; until defaults to now, since to 30 days before). */
  fromFeedback?:
    | { since?: string | undefined; until?: string | undefined; minPerLabel?: number | undefined }
    | undefined;
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

  /** A suite's cases, each labelled by the cheapest tier that succeeded on it (the cheapest when none did). */
  async function fromSuite(
    model: string,
    tiers: readonly { name: string; target: string }[],
    router: ReturnType<typeof compileRouter>,
    suiteHash: string | undefined,
  ) {
    if (!suiteHash)
      throw invalid("suiteHash", "name a suite (suiteHash) or train from feedback (fromFeedback)");
    const suite = await suiteOrThrow(suiteHash);
    const runs = await runsOrThrow(router, suite);
    const byTier = runs.map((r) => new Map(r.cases.map((c) => [c.caseId, c])));
    const examples: Example[] = [];
    for (const c of suite.cases) {
      const results = byTier.map((m) => m.get(c.id));
      if (results.some((r) => !r)) continue;
      const cheapest = results.findIndex((r) => r!.passed);
      const text = routerInput({ model, messages: c.input.messages.map((m) => ({ ...m })) }).text;
      examples.push({ id: c.id, text, label: tiers[Math.max(0, cheapest)]!.name });
    }
    const ran = runs.map((r) => `${r.tier} ${r.version} run \`${r.run!.id}\``).join(", ");
    return {
      source: "suite" as const,
      examples,
      suite,
      runs,
      field: "suiteHash",
      describe: `on suite ${suite.name}, ${examples.length} cases run on every tier`,
      note: (counts: Record<string, number>) =>
        `Classifier trained by modelgov on suite **${suite.name}** (\`${suite.hash.slice(0, 19)}…\`): ${examples.length} cases run on every tier alone (${ran}), each labelled by the cheapest tier that succeeded (${words(counts)}).`,
      audit: { suite: suite.name, suiteHash: suite.hash },
      extra: {},
    };
  }

  /** The log's requests over the window that feedback judged, labelled (feedback-labels.ts). */
  async function fromFeedback(
    model: string,
    tiers: readonly { name: string; target: string }[],
    f: NonNullable<TrainInput["fromFeedback"]>,
  ) {
    const until = f.until ? new Date(f.until) : clock.now();
    const since = f.since ? new Date(f.since) : new Date(until.getTime() - DEFAULT_FEEDBACK_WINDOW_MS);
    if (!(since < until))
      throw invalid(
        "fromFeedback.since",
        `${since.toISOString()} is not before until (${until.toISOString()})`,
      );
    const { examples, tally } = await feedbackExamples(db, { model, tiers, since, until });
    checkEnough(tally, f.minPerLabel ?? DEFAULT_MIN_PER_LABEL);
    const read = describeTally(tally);
    return {
      source: "feedback" as const,
      examples,
      suite: null,
      runs: null,
      field: "fromFeedback",
      describe: read,
      note: () =>
        `Classifier trained by modelgov from live feedback: ${read}. Each request labelled by the cheapest tier not known to fail on it (an answer with success feedback: its tier, when every cheaper tier escalated or there is none; with failure: the next tier), ambiguous ones skipped (docs/routing.md). Not calibrated: feedback gives each request's outcome on one tier only; calibrate the new version on a suite.`,
      audit: { source: "feedback", feedback: tally },
      extra: {
        window: tally.window,
        read: tally.read,
        skipped: (Object.keys(SKIP_REASONS) as SkipReason[])
          .filter((reason) => tally.skipped[reason])
          .map((reason) => ({ reason, requests: tally.skipped[reason]!, why: SKIP_REASONS[reason] })),
        capped: tally.capped,
      },
    };
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
     * A new trained router: each example labelled by the tier it should have gone to (from a
     * suite's runs on each tier alone, or from live feedback in the request log), a hashed
     * n-gram logistic regression fitted to the labels, and, from a suite with a target, its
     * threshold calibrated on 2-fold cross-fitted scores (each half scored by a model trained
     * on the other, so the threshold is not fitted to the classifier's own training cases).
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
      if (input.fromFeedback && input.target !== undefined) throw invalid("target", NO_FEEDBACK_CALIBRATION);
      const src = input.fromFeedback
        ? await fromFeedback(model, tiers, input.fromFeedback)
        : await fromSuite(model, tiers, compileRouter(skeleton.data), input.suiteHash);
      const { examples } = src;
      const l2 = input.l2 ?? 1;
      const fit = (xs: typeof examples) => {
        try {
          return trainHashedLogistic(xs, { l2 });
        } catch (e) {
          if (e instanceof TrainingError)
            throw invalid(
              src.field,
              `${e.message}: ${src.describe}, labelled ${[...new Set(examples.map((x) => x.label))].join(", ") || "none"}`,
            );
          throw e;
        }
      };
      const { model: classifier, report } = fit(examples);
      const classifierPolicy: Record<string, unknown> = { kind: "trained", model: classifier };
      let calibration: CalibrationSummary | null = null;
      if (input.target !== undefined && src.runs) {
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
        const cases = calibrationCases(scores, src.runs[0]!.cases, src.runs[1]!.cases);
        const opts = { target: input.target, relativeToStrong: input.relativeToStrong ?? false };
        calibration = summary(src.suite, src.runs, calibrate(cases, opts), cases.length, opts);
        classifierPolicy.threshold = calibration.threshold;
      }
      const parameters = { strategy: "route", tiers, classifier: classifierPolicy };
      const counts = Object.fromEntries(
        tiers.map((t) => [t.name, examples.filter((x) => x.label === t.name).length]),
      );
      const note = [
        src.note(counts),
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
            ...src.audit,
            cases: examples.length,
            labels: counts,
            training: report,
            ...(calibration ? { calibration: brief(calibration) } : {}),
          },
        },
      );
      return {
        version: created,
        training: { source: src.source, cases: examples.length, labels: counts, ...src.extra, ...report },
        calibration,
      };
    },
  };
}

export type RoutersService = ReturnType<typeof createRoutersService>;
