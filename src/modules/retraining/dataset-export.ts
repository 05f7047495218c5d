/**
 * The dataset export: the failing slice of a task's evidence windows, read from the request
 * log page by page and written as lines (dataset.ts) as the client takes them.
 */
import type { Db } from "../../store/db.ts";
import {
  failingSliceCounts,
  failingSlicePage,
  type SliceCounts,
  type SliceRow,
} from "../request-log/index.ts";
import { exportLines, type Range, rangesOf } from "./dataset.ts";
import { type Moves, toView } from "./moves.ts";
import type { DatasetQuery } from "./retraining.schemas.ts";
import * as store from "./retraining.store.ts";

export function createDatasetExport({ db, moves, slicePage }: { db: Db; moves: Moves; slicePage: number }) {
  const { taskOrThrow } = moves;

  /**
   * The failing slice of the task's evidence windows. The counts are read first (the route
   * sends them as headers); the lines are read page by page as the client takes them.
   */
  async function dataset(id: string, q: DatasetQuery) {
    const t = await taskOrThrow(db, id);
    const evidence: store.EvidenceRow[] = [];
    for await (const e of store.allEvidence(db, id)) evidence.push(e);
    const ranges: Range[] = rangesOf(evidence);
    const filter = { model: t.model, ranges, scoreBelow: q.scoreBelow };
    const counts: SliceCounts = await failingSliceCounts(db, filter);
    async function* rows(): AsyncGenerator<SliceRow> {
      let after: { at: Date; id: string } | null = null;
      for (;;) {
        const page = await failingSlicePage(db, filter, after, slicePage);
        yield* page;
        const last = page[page.length - 1];
        if (!last || page.length < slicePage) return;
        after = { at: last.at, id: last.id };
      }
    }
    const suiteName = `retraining-${t.id.replaceAll("_", "-")}`;
    const lines = exportLines(rows(), {
      format: q.format,
      include: q.format === "suite" ? "corrected" : q.include,
      suiteName,
      describe: (x) =>
        `The failing slice of retraining task ${t.id} (${t.model}, ${t.metric}): ${x.exported} cases, each expecting the answer a reviewer's feedback gave. Left out: ${counts.withoutBody} failing requests whose body the body policy did not keep, ${x.uncorrected} without a correction, ${x.unrepresentable} whose chat a suite cannot hold (tool calls, turns without text). Scored by exact match: edit the scorers (an llm_judge with a rubric, say) for free-text answers.`,
    });
    return {
      task: toView(t),
      counts,
      ranges: ranges.map((r) => ({
        versionId: r.versionId,
        from: r.from.toISOString(),
        to: r.to.toISOString(),
      })),
      filename: q.format === "suite" ? `${suiteName}.suite.json` : `${suiteName}.jsonl`,
      contentType: q.format === "suite" ? "application/json" : "application/jsonl",
      lines,
    };
  }

  return dataset;
}
