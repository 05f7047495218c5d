import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { RequestContext } from "../../http/context.ts";
import { BUILT_IN_ROLES, STANDARD_STAKEHOLDER_ROLES } from "../../http/permissions.ts";
import type { Clock } from "../../lib/clock.ts";
import { conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import type { Db, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import type { Token, TokenCreate } from "./identity.schemas.ts";

export interface Principal {
  tokenId: string;
  name: string;
  roles: string[];
}

type Row = Record<string, unknown>;
const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : null);
const toToken = (r: Row): Token => ({
  id: r.id as string,
  name: r.name as string,
  roles: r.roles as string[],
  prefix: r.prefix as string,
  createdBy: r.created_by as string,
  createdAt: iso(r.created_at)!,
  expiresAt: iso(r.expires_at),
  revokedAt: iso(r.revoked_at),
  revokedBy: (r.revoked_by as string | null) ?? null,
});

export const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");
const generate = () => `mgv_${randomBytes(32).toString("base64url")}`;

export function createIdentityService({
  db,
  clock,
  declaredRoles = async () => [],
}: {
  db: Db;
  clock: Clock;
  /** Stakeholder roles the approval policy names (besides the built-in and standard ones). */
  declaredRoles?: () => Promise<string[]>;
}) {
  /** Roles are a closed set: built in, standard stakeholders, and those the policy declares. */
  async function checkRoles(roles: readonly string[]): Promise<void> {
    const known = new Set([...BUILT_IN_ROLES, ...STANDARD_STAKEHOLDER_ROLES, ...(await declaredRoles())]);
    roles.forEach((role, i) => {
      if (!known.has(role))
        throw invalid(
          `body.roles.${i}`,
          `unknown role '${role}'; known roles: ${[...known].sort().join(", ")} (an approval policy rule declares others)`,
        );
    });
  }

  async function insert(q: Tx, ctx: RequestContext, input: TokenCreate, secret: string): Promise<Token> {
    const rows = await q.query<Row>(
      `INSERT INTO api_tokens (id, name, roles, token_hash, prefix, created_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [
        newId("tok"),
        input.name,
        input.roles,
        hashToken(secret),
        `${secret.slice(0, 10)}…`,
        ctx.actor,
        clock.now().toISOString(),
        input.expiresAt ?? null,
      ],
    );
    const token = toToken(rows[0]!);
    // The audit event never holds the secret or its hash.
    await recordAudit(q, ctx, clock.now(), {
      action: "token.created",
      subjectType: "token",
      subjectId: token.id,
      after: token,
    });
    return token;
  }

  return {
    async create(ctx: RequestContext, input: TokenCreate): Promise<Token & { token: string }> {
      if (input.expiresAt && new Date(input.expiresAt) <= clock.now())
        throw invalid("body.expiresAt", "must be in the future");
      await checkRoles(input.roles);
      const secret = generate();
      const token = await db.transaction((tx) => insert(tx, ctx, input, secret));
      return { ...token, token: secret };
    },

    async list(): Promise<Token[]> {
      return (await db.query<Row>("SELECT * FROM api_tokens ORDER BY created_at, id")).map(toToken);
    },

    async revoke(ctx: RequestContext, id: string): Promise<Token> {
      return db.transaction(async (tx) => {
        const before = (await tx.query<Row>("SELECT * FROM api_tokens WHERE id = $1 FOR UPDATE", [id]))[0];
        if (!before) throw notFound(`token '${id}'`);
        if (before.revoked_at)
          throw conflict(`token '${id}' is already revoked`, [{ field: "id", reason: "already revoked" }]);
        const rows = await tx.query<Row>(
          "UPDATE api_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1 RETURNING *",
          [id, clock.now().toISOString(), ctx.actor],
        );
        const after = toToken(rows[0]!);
        await recordAudit(tx, ctx, clock.now(), {
          action: "token.revoked",
          subjectType: "token",
          subjectId: id,
          before: toToken(before),
          after,
        });
        return after;
      });
    },

    /** The principal a bearer token stands for, or null when it is unknown, revoked or expired. */
    async authenticate(secret: string): Promise<Principal | null> {
      if (!secret.startsWith("mgv_") && secret.length < 16) return null;
      const digest = hashToken(secret);
      const rows = await db.query<Row>("SELECT * FROM api_tokens WHERE token_hash = $1", [digest]);
      const r = rows[0];
      if (!r || !timingSafeEqual(Buffer.from(r.token_hash as string), Buffer.from(digest))) return null;
      if (r.revoked_at) return null;
      if (r.expires_at && (r.expires_at as Date) <= clock.now()) return null;
      return { tokenId: r.id as string, name: r.name as string, roles: r.roles as string[] };
    },

    /**
     * First start: make sure an admin can get in. With `fixed` (MODELGOV_ADMIN_TOKEN) that
     * token is registered; otherwise a new admin token is created when no live admin token
     * exists. Returns the secret when one was created, so the caller can write it down.
     */
    async bootstrapAdmin(fixed?: string): Promise<{ created: boolean; token?: string }> {
      const ctx: RequestContext = { actor: "modelgov", requestId: "bootstrap", roles: ["admin"] };
      return db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(7070002)");
        if (fixed) {
          const known = await tx.query("SELECT 1 FROM api_tokens WHERE token_hash = $1", [hashToken(fixed)]);
          if (known.length) return { created: false };
          await insert(tx, ctx, { name: "admin", roles: ["admin"] }, fixed);
          return { created: true, token: fixed };
        }
        const live = await tx.query(
          "SELECT 1 FROM api_tokens WHERE 'admin' = ANY(roles) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
          [clock.now().toISOString()],
        );
        if (live.length) return { created: false };
        const secret = generate();
        await insert(tx, ctx, { name: "admin", roles: ["admin"] }, secret);
        return { created: true, token: secret };
      });
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;
