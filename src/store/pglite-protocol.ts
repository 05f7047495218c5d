/** Messages between the main thread (pglite-client.ts) and the PGlite thread (pglite-worker.ts). */

export type WorkerRequest = { id: number } & (
  | { op: "query"; sql: string; params: unknown[] | undefined; tx: number | undefined }
  | { op: "exec"; sql: string; tx: number | undefined }
  | { op: "copy"; sql: string; data: string; tx?: number | undefined }
  | { op: "begin" }
  | { op: "commit"; tx: number }
  | { op: "rollback"; tx: number }
  | { op: "listen"; channel: string; lid: number }
  | { op: "unlisten"; lid: number }
  | { op: "dump"; path: string }
  | { op: "close" }
);

export interface SerialisedError {
  name: string;
  message: string;
  /** The database error's own fields: code, constraint, detail, … */
  fields: Record<string, unknown>;
}

export type WorkerReply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerialisedError }
  | { notify: number; payload: string }
  | { ready: true };
