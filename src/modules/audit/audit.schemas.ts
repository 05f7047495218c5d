import { z } from "@hono/zod-openapi";

const Time = z.string().datetime({ offset: true });

export const AuditQuerySchema = z.object({
  subjectType: z.string().max(100).optional(),
  subjectId: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  action: z
    .string()
    .max(100)
    .optional()
    .describe("an action (`version.status_changed`) or a prefix (`version.*`)"),
  since: Time.optional().describe("events at or after this time"),
  until: Time.optional().describe("events before this time"),
  order: z.enum(["asc", "desc"]).default("asc").describe("by position: oldest first (asc) or newest first"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, "a cursor from a previous page")
    .optional(),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

export const AuditEventSchema = z
  .object({
    id: z.string(),
    position: z.number().int().describe("place in the hash chain: 1, 2, 3, ... without gaps"),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    subjectType: z.string(),
    subjectId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    reason: z.string(),
    requestId: z.string().nullable(),
    prevHash: z.string(),
    hash: z.string().describe("SHA-256 (hex) over the canonical JSON of the event and prevHash"),
  })
  .openapi("AuditEvent");

export const AuditPageSchema = z
  .object({ items: z.array(AuditEventSchema), nextCursor: z.string().nullable() })
  .openapi("AuditEventPage");

export const CheckpointSchema = z
  .object({
    position: z.number().int(),
    hash: z.string(),
    at: z.string(),
    signature: z
      .string()
      .describe("base64 Ed25519 signature over the canonical JSON of {position, hash, at}"),
    keyId: z.string(),
  })
  .openapi("AuditCheckpoint");

const Head = z.object({ position: z.number().int(), hash: z.string() });

export const VerifyResultSchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().describe("events read"),
    head: Head.describe("the last event that still links correctly (position 0: genesis)"),
    checkpoints: z.object({
      checked: z.number().int().describe("checkpoints whose signature and hash held"),
      latest: z.number().int().nullable(),
    }),
    firstBroken: z
      .object({
        position: z.number().int(),
        eventId: z.string().nullable(),
        reason: z.enum([
          "position_gap",
          "prev_hash_mismatch",
          "hash_mismatch",
          "head_mismatch",
          "checkpoint_missing",
          "checkpoint_mismatch",
          "bad_signature",
        ]),
        detail: z.string(),
      })
      .optional(),
  })
  .openapi("AuditVerifyResult");

const Delivery = z.enum(["written", "unchanged", "failed", "off"]);

export const CheckpointOutcomeSchema = z
  .object({
    checkpoint: CheckpointSchema.nullable().describe("null while the log is empty"),
    file: Delivery,
    webhook: Delivery,
    stdout: Delivery,
  })
  .openapi("AuditCheckpointOutcome");

export const PublicKeySchema = z
  .object({
    algorithm: z.literal("ed25519"),
    keyId: z.string(),
    publicKey: z.string().describe("SPKI PEM"),
  })
  .openapi("AuditPublicKey");
export type PublicKeyInfo = z.infer<typeof PublicKeySchema>;
