import type { Clock } from "../../lib/clock.ts";
import { createLogger, type Logger } from "../../lib/logger.ts";
import type { Db, Queryable } from "../../store/db.ts";
import type { AuditQuery, PublicKeyInfo } from "./audit.schemas.ts";
import { readChainPage, readHead, searchAudit } from "./audit.store.ts";
import { type ChainedEvent, type Checkpoint, createChainVerifier, type VerifyResult } from "./chain.ts";
import {
  createCheckpointer,
  generateSigningKey,
  readCheckpointFile,
  type SigningKey,
} from "./checkpoints.ts";
import { checkpointLine, eventLine, headerLine } from "./export-format.ts";

const PAGE = 500;

export interface AuditOptions {
  /** The checkpoint signing key; a fresh one when not given (tests). main.ts loads the real one. */
  key?: SigningKey | undefined;
  /** Where checkpoints are appended; verify and export read it back. None: no file. */
  checkpointFile?: string | undefined;
  webhookUrl?: string | undefined;
  /** Writes each checkpoint line (main.ts: stdout, when MODELGOV_AUDIT_CHECKPOINT_STDOUT is on). */
  stdout?: ((line: string) => void) | undefined;
  intervalMs?: number | undefined;
  /** Also checkpoint once this many events were appended since the last; 0 or unset: off. */
  everyEvents?: number | undefined;
  logger?: Logger | undefined;
}

export function createAuditService({ db, clock, ...opts }: AuditOptions & { db: Db; clock: Clock }) {
  const key = opts.key ?? generateSigningKey();
  const checkpointFile = opts.checkpointFile;
  const checkpointer = createCheckpointer({
    db,
    clock,
    key,
    file: checkpointFile,
    webhookUrl: opts.webhookUrl,
    stdout: opts.stdout,
    intervalMs: opts.intervalMs ?? 1_000,
    everyEvents: opts.everyEvents,
    logger: opts.logger ?? createLogger("silent"),
  });

  /** The chain up to `upTo`, page by page, so neither verify nor export holds the whole log. */
  async function* chain(q: Queryable, upTo: number): AsyncGenerator<ChainedEvent> {
    let after: ChainedEvent | undefined;
    for (;;) {
      const page = await readChainPage(q, after ?? null, upTo, PAGE);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1];
    }
  }

  /**
   * Read before the head: every checkpoint then signs a head at or below the one read,
   * so a checkpoint written meanwhile cannot look like a cut-off tail.
   */
  const fileCheckpoints = (): Checkpoint[] =>
    checkpointFile ? readCheckpointFile(checkpointFile).checkpoints : [];

  return {
    checkpointer,

    async events(q: AuditQuery): Promise<{ items: ChainedEvent[]; nextCursor: string | null }> {
      const rows = await searchAudit(db, {
        ...q,
        afterPosition: q.cursor === undefined ? undefined : Number(q.cursor),
        limit: q.limit + 1,
      });
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && last ? String(last.position) : null };
    },

    /**
     * Recomputes the whole chain, checks it ends at the recorded head and holds every
     * checkpoint in the file. One repeatable-read snapshot: a row beyond the head there is
     * not a write racing with us (appends move the head in the same commit) but a forgery.
     */
    async verify(): Promise<VerifyResult> {
      const checkpoints = fileCheckpoints();
      return db.transaction(async (tx) => {
        await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        const head = await readHead(tx);
        const v = createChainVerifier({ checkpoints, publicKey: key.publicKey });
        for await (const e of chain(tx, Number.MAX_SAFE_INTEGER)) v.push(e);
        return v.finish(head);
      });
    },

    /** The JSONL archive (format: export-format.ts), as lines to stream. */
    async *exportLines(): AsyncGenerator<string> {
      const checkpoints = fileCheckpoints();
      const head = await readHead(db);
      yield headerLine({
        exportedAt: clock.now().toISOString(),
        head: { position: head.position, hash: head.hash },
        publicKey: key.publicKeyPem,
        keyId: key.keyId,
      });
      // Bounded by the head read above: events committed meanwhile belong to the next export.
      for await (const e of chain(db, head.position)) yield eventLine(e);
      for (const c of checkpoints) yield checkpointLine(c);
    },

    publicKey(): PublicKeyInfo {
      return { algorithm: "ed25519", keyId: key.keyId, publicKey: key.publicKeyPem };
    },

    checkpoint: () => checkpointer.checkpointNow(),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
