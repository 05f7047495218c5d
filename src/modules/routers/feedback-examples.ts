/**
 * Training examples from the request log (issue 18): the requests of a router model and of
 * its tiers' models over a window whose latest feedback judged them, labelled by
 * feedback-labels.ts, with the text of those whose body the body policy kept. Read newest
 * first, a page at a time; at most MAX_EXAMPLES are kept (the newest).
 */
import { invalid } from "../../lib/errors.ts";
import type { Db } from "../../store/db.ts";
import { routerInput } from "../gateway/index.ts";
import { findVersion, versionsByIds } from "../registry/index.ts";
import { judgedRequestsPage, sampledMessages } from "../request-log/index.ts";
import {
  judge,
  type LabelContext,
  SKIP_REASONS,
  type SkipReason,
  type TrainingTier,
} from "./feedback-labels.ts";

export const MAX_EXAMPLES = 50_000;
const PAGE = 2_000;

export interface FeedbackTally {
  window: { since: string; until: string };
  /** The models whose requests were read: the router model and the tiers' models. */
  models: string[];
  /** Requests with feedback read, by where they came from. */
  read: { route: number; cascade: number; ensemble: number; direct: number };
  labels: Record<string, number>;
  skipped: Partial<Record<SkipReason, number>>;
  /** True when the newest MAX_EXAMPLES were kept and older requests were not read. */
  capped: boolean;
}

export interface Example {
  id: string;
  text: string;
  label: string;
}

/** The tiers as the labelling matches answers to them: model, and the version a pinned one names. */
async function trainingTiers(db: Db, tiers: readonly { name: string; target: string }[]) {
  const out: TrainingTier[] = [];
  for (const [i, t] of tiers.entries()) {
    const at = t.target.indexOf("@");
    const model = at < 0 ? t.target : t.target.slice(0, at);
    const selector = at < 0 ? null : t.target.slice(at + 1);
    let versionId: string | null = null;
    if (selector && /^\d+\.\d+\.\d+/.test(selector)) {
      const v = await findVersion(db, model, selector);
      if (!v) throw invalid(`tiers.${i}.target`, `${t.target}: no such version`);
      versionId = v.id;
    }
    out.push({ name: t.name, model, versionId });
  }
  return out;
}

/** Reads and labels the window's judged requests; the examples and what was read and skipped. */
export async function feedbackExamples(
  db: Db,
  o: { model: string; tiers: readonly { name: string; target: string }[]; since: Date; until: Date },
): Promise<{ examples: Example[]; tally: FeedbackTally }> {
  const tiers = await trainingTiers(db, o.tiers);
  const models = [...new Set([o.model, ...tiers.map((t) => t.model)])];
  const routers = new Map<string, { strategy: string }>();
  const modelOf = new Map<string, string>();
  const ctx: LabelContext = { tiers, routers, modelOf };
  const tally: FeedbackTally = {
    window: { since: o.since.toISOString(), until: o.until.toISOString() },
    models,
    read: { route: 0, cascade: 0, ensemble: 0, direct: 0 },
    labels: Object.fromEntries(tiers.map((t) => [t.name, 0])),
    skipped: {},
    capped: false,
  };
  const skip = (r: SkipReason) => {
    tally.skipped[r] = (tally.skipped[r] ?? 0) + 1;
  };
  const examples: Example[] = [];
  let before: { at: Date; id: string } | null = null;
  for (;;) {
    const page = await judgedRequestsPage(db, { models, from: o.since, to: o.until }, before, PAGE);
    // The versions this page names that were not seen yet: their model, and whether a router.
    const unseen = new Set<string>();
    for (const r of page)
      for (const id of [r.routedVersionId, r.versionId, ...(r.routePath ?? []).map((m) => m.versionId)])
        if (id && !modelOf.has(id)) unseen.add(id);
    for (const v of await versionsByIds(db, [...unseen])) {
      modelOf.set(v.id, v.model);
      if (v.provider === "router")
        routers.set(v.id, {
          strategy: String((v.parameters as { strategy?: unknown }).strategy ?? "route"),
        });
    }
    for (const r of page) {
      const j = judge(r, ctx);
      tally.read[j.source]++;
      if ("skip" in j) {
        skip(j.skip);
        continue;
      }
      const messages = sampledMessages(r.sampledBody);
      if (!messages) {
        skip(r.sampledBody ? "no-text" : "no-body");
        continue;
      }
      const text = routerInput({ model: o.model, messages }).text;
      if (!text.trim()) {
        skip("no-text");
        continue;
      }
      examples.push({ id: r.id, text, label: j.label });
      tally.labels[j.label]!++;
      if (examples.length >= MAX_EXAMPLES) {
        tally.capped = true;
        return { examples, tally };
      }
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE) return { examples, tally };
    before = { at: last.at, id: last.id };
  }
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What was read, in words: the window, the requests by source, the labels, the skips and why. */
export function describeTally(t: FeedbackTally): string {
  const read = Object.values(t.read).reduce((a, b) => a + b, 0);
  const sources = Object.entries(t.read)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === "direct" ? "to a tier model directly" : `through a ${k} router`}`);
  const skipped = (Object.keys(SKIP_REASONS) as SkipReason[])
    .filter((k) => t.skipped[k])
    .map((k) => `${t.skipped[k]} ${SKIP_REASONS[k]}`);
  return [
    `${plural(read, "request")} of ${t.models.join(", ")} judged by feedback between ${t.window.since} and ${t.window.until}${sources.length ? ` (${sources.join(", ")})` : ""}`,
    `labelled ${Object.entries(t.labels)
      .map(([k, n]) => `${k} ${n}`)
      .join(", ")}`,
    skipped.length ? `skipped ${skipped.join("; ")}` : "none skipped",
    ...(t.capped ? [`only the newest ${MAX_EXAMPLES} examples read`] : []),
  ].join("; ");
}

/** Refuses, naming the field, a window that cannot train: nothing read, no bodies, too few per label. */
export function checkEnough(t: FeedbackTally, minPerLabel: number): void {
  const read = Object.values(t.read).reduce((a, b) => a + b, 0);
  const labelled = Object.values(t.labels).reduce((a, b) => a + b, 0);
  if (read === 0)
    throw invalid(
      "fromFeedback",
      `no request of ${t.models.join(", ")} between ${t.window.since} and ${t.window.until} has feedback: widen the window (since, until) or send feedback (POST /v1/feedback)`,
    );
  const bodiless = t.skipped["no-body"] ?? 0;
  if (labelled === 0 && bodiless > 0)
    throw invalid(
      "fromFeedback",
      `none of the ${bodiless} labelled requests kept its body, so there is no text to train on: the gateway keeps bodies for a sampled share (MODELGOV_GATEWAY_BODIES=sample:<rate>); ${describeTally(t)}`,
    );
  const short = Object.entries(t.labels).filter(([, n]) => n < minPerLabel);
  if (short.length)
    throw invalid(
      "fromFeedback",
      `too few labelled examples: ${short.map(([k, n]) => `${k} ${n}`).join(", ")}, at least ${minPerLabel} a tier needed (minPerLabel); widen the window or lower minPerLabel; ${describeTally(t)}`,
    );
}
