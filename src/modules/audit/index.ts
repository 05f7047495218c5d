export { auditRoutes } from "./audit.routes.ts";
export type { AuditQuerySchema } from "./audit.schemas.ts";
export { type AuditOptions, type AuditService, createAuditService } from "./audit.service.ts";
export {
  type AuditEvent,
  type AuditInput,
  listAudit,
  readHead,
  recordAudit,
  STATE_CHANNEL,
} from "./audit.store.ts";
export {
  type BrokenLink,
  type ChainedEvent,
  type Checkpoint,
  computeHash,
  GENESIS_HASH,
  keyIdOf,
  type VerifyResult,
  verifyChain,
} from "./chain.ts";
export {
  type Checkpointer,
  type CheckpointOutcome,
  createCheckpointer,
  generateSigningKey,
  loadSigningKey,
  readCheckpointFile,
  type SigningKey,
  signCheckpoint,
} from "./checkpoints.ts";
export {
  type ParsedCheckpoints,
  type ParsedExport,
  parseCheckpoints,
  parseExport,
} from "./export-format.ts";
