import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { notFound } from "../../lib/errors.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { findVersion, lockModelByName, readPolicy } from "../registry/index.ts";
import { type CardContent, type CardValidation, validateCard } from "./card-sections.ts";
import {
  appendRevision,
  type CardRevision,
  cardHash,
  getRevision,
  latestRevision,
  listRevisions,
} from "./cards.store.ts";
import { parseHfCard, renderHfCard } from "./hf-format.ts";

export interface CardView extends CardRevision {
  model: string;
  version: string;
  validation: CardValidation;
}

/** Called in the same transaction when a version's card gets a new revision (approvals void theirs). */
export type CardRevisedHook = (
  tx: Tx,
  ctx: RequestContext,
  versionId: string,
  revision: number,
) => Promise<void>;

export function createCardsService({
  db,
  clock,
  onRevised,
}: {
  db: Db;
  clock: Clock;
  onRevised?: CardRevisedHook;
}) {
  async function versionOrThrow(q: Queryable, model: string, version: string) {
    const v = await findVersion(q, model, version);
    if (!v) throw notFound(`version '${version}' of model '${model}'`);
    return v;
  }

  async function view(q: Queryable, model: string, version: string, rev: CardRevision): Promise<CardView> {
    const policy = await readPolicy(q);
    return { ...rev, model, version, validation: validateCard(rev.content, policy.requiredCardSections) };
  }

  async function revisionOrThrow(q: Queryable, model: string, version: string, revision?: number) {
    const v = await versionOrThrow(q, model, version);
    const rev = revision ? await getRevision(q, v.id, revision) : await latestRevision(q, v.id);
    if (!rev)
      throw notFound(
        revision ? `card revision ${revision} of ${model}@${version}` : `card of ${model}@${version}`,
      );
    return rev;
  }

  /**
   * Archives `content` as the next revision. Re-submitting the latest content is not an
   * edit: it returns the latest revision with `changed: false` (this keeps `apply` idempotent).
   */
  async function saveTx(
    tx: Tx,
    ctx: RequestContext,
    model: string,
    version: string,
    content: CardContent,
    source: CardRevision["source"],
  ): Promise<CardView & { changed: boolean }> {
    await lockModelByName(tx, model);
    const v = await versionOrThrow(tx, model, version);
    const latest = await latestRevision(tx, v.id);
    if (latest && latest.contentHash === cardHash(content))
      return { ...(await view(tx, model, version, latest)), changed: false };
    const rev = await appendRevision(tx, {
      versionId: v.id,
      content,
      source,
      actor: ctx.actor,
      at: clock.now().toISOString(),
    });
    await recordAudit(tx, ctx, clock.now(), {
      action: "card.revised",
      subjectType: "model_version",
      subjectId: v.id,
      before: latest ? { revision: latest.revision, contentHash: latest.contentHash } : null,
      after: { revision: rev.revision, contentHash: rev.contentHash, source },
    });
    await onRevised?.(tx, ctx, v.id, rev.revision);
    return { ...(await view(tx, model, version, rev)), changed: true };
  }

  return {
    saveTx,
    save: (
      ctx: RequestContext,
      model: string,
      version: string,
      content: CardContent,
      source: CardRevision["source"] = "api",
    ) => db.transaction((tx) => saveTx(tx, ctx, model, version, content, source)),
    importHuggingFace: (ctx: RequestContext, model: string, version: string, markdown: string) => {
      const content = parseHfCard(markdown);
      return db.transaction((tx) => saveTx(tx, ctx, model, version, content, "huggingface"));
    },
    async get(model: string, version: string, revision?: number): Promise<CardView> {
      return view(db, model, version, await revisionOrThrow(db, model, version, revision));
    },
    async exportHuggingFace(model: string, version: string, revision?: number): Promise<string> {
      return renderHfCard((await revisionOrThrow(db, model, version, revision)).content);
    },
    async revisions(model: string, version: string) {
      const v = await versionOrThrow(db, model, version);
      return listRevisions(db, v.id);
    },
    /** Validation of the latest card against the policy's required sections; no card means all are absent. */
    async validate(model: string, version: string): Promise<CardValidation & { revision: number | null }> {
      const v = await versionOrThrow(db, model, version);
      const latest = await latestRevision(db, v.id);
      const policy = await readPolicy(db);
      const content: CardContent = latest?.content ?? { metadata: {}, sections: {}, extraSections: [] };
      return { ...validateCard(content, policy.requiredCardSections), revision: latest?.revision ?? null };
    },
  };
}

export type CardsService = ReturnType<typeof createCardsService>;
