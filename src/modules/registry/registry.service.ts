import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import semver from "semver";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict, invalid, notFound } from "../../lib/errors.ts";
import { newId } from "../../lib/ids.ts";
import { PROVIDERS } from "../../providers/registrations.ts";
import type { Db, Queryable, Tx } from "../../store/db.ts";
import { recordAudit } from "../audit/index.ts";
import { appendRevision } from "../cards/cards.store.ts";
import { checkContractCompat } from "./contract-compat.ts";
import { createLifecycle, type EnteredProduction, type ProductionGate } from "./lifecycle.service.ts";
import { type RegistryPolicy, readPolicy, writePolicy } from "./policy.ts";
import type {
  Model,
  ModelCreate,
  ModelPatch,
  ModelQuery,
  RecommendQuery,
  Version,
  VersionCreate,
  VersionPatch,
  VersionQuery,
} from "./registry.schemas.ts";
import * as store from "./registry.store.ts";

/**
 * What the retraining module does when a version names a task in `retrainedFrom` (main.ts
 * wires it; the registry imports nothing of that module). Both run in the registration's
 * transaction, so a refused task leaves no version behind.
 */
export interface RetrainedCandidateHooks {
  /** Before the version is written: throws when this model's version cannot answer the task. */
  check(tx: Tx, model: { id: string; name: string }, taskId: string): Promise<void>;
  /** After: the task records its candidate (and its audit event). */
  registered(tx: Tx, ctx: RequestContext, version: Version): Promise<void>;
}

export interface RegistryDeps {
  db: Db;
  clock: Clock;
  productionGate: ProductionGate;
  /** Unset: a version naming `retrainedFrom` is refused (nothing tracks retraining tasks). */
  retrainedCandidate?: RetrainedCandidateHooks;
  /** Called in the transaction that moves a version into production (rollout promotion, switch, manual). */
  enteredProduction?: EnteredProduction;
  /**
   * Called in the transaction that changes a version's tags or moves an alias: a segment of
   * traffic may require a tag (issue 19), so a flag sending the segment there (by version or
   * by alias) refuses the change by throwing. `what` and `field` word the refusal.
   */
  segmentsAffected?: (tx: Tx, model: string, what: string, field: string) => Promise<void>;
}

/** Fields a version is pinned to; their digest is part of the version's identity. */
export function pinnedDigest(v: {
  provider: string;
  providerModelId: string;
  endpoint: string | null;
  parameters: Record<string, unknown>;
  artifact?: unknown;
  contract?: unknown;
  changelog: string;
}): string {
  const pinned = {
    provider: v.provider,
    providerModelId: v.providerModelId,
    endpoint: v.endpoint,
    parameters: v.parameters,
    artifact: v.artifact ?? null,
    contract: v.contract ?? null,
    changelog: v.changelog,
  };
  return `sha256:${createHash("sha256").update(canonicalize(pinned)!).digest("hex")}`;
}

/** Metrics where less is better; `recommend` sorts them ascending unless told otherwise. */
const LOWER_IS_BETTER = /latency|cost|error|loss|toxicity|ttft|duration|price/i;

export function createRegistryService(deps: RegistryDeps) {
  const { db, clock } = deps;
  const lifecycle = createLifecycle(deps);
  /** Runs on the caller's transaction when given one (spec apply), else in a transaction of its own. */
  const inTx = <T>(q: Tx | undefined, fn: (tx: Tx) => Promise<T>) => (q ? fn(q) : db.transaction(fn));

  async function modelRowOrThrow(q: Queryable, name: string, forUpdate = false) {
    const m = await store.findModelRow(q, name, forUpdate);
    if (!m) throw notFound(`model '${name}'`);
    return m;
  }

  async function versionOrThrow(q: Queryable, model: string, version: string): Promise<Version> {
    const v = await store.getVersion(q, model, version);
    if (!v) {
      if (!(await store.findModelRow(q, model))) throw notFound(`model '${model}'`);
      throw notFound(`version '${version}' of model '${model}'`);
    }
    return v;
  }

  function validateProvider(input: VersionCreate) {
    const reg = PROVIDERS[input.provider]!;
    if (reg.endpoint === "required" && !input.endpoint)
      throw invalid("endpoint", `provider '${input.provider}' needs an endpoint (base URL)`);
    if (reg.endpoint === "forbidden" && input.endpoint)
      throw invalid("endpoint", `provider '${input.provider}' takes no endpoint`);
    const parsed = reg.parameters.safeParse(input.parameters);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({
        field: ["parameters", ...i.path.map(String)].join("."),
        reason: i.message,
      }));
      throw new AppError("invalid_input", `parameters do not fit provider '${input.provider}'`, { errors });
    }
    return parsed.data;
  }

  async function createModel(ctx: RequestContext, input: ModelCreate, q?: Tx): Promise<Model> {
    return inTx(q, async (tx) => {
      if (await store.findModelRow(tx, input.name))
        throw conflict(`model '${input.name}' already exists`, [{ field: "name", reason: "already exists" }]);
      const at = clock.now().toISOString();
      const row: store.ModelRow = {
        id: newId("mdl"),
        name: input.name,
        owner: input.owner,
        description: input.description,
        useCases: input.useCases,
        riskTier: input.riskTier,
        tags: input.tags,
        retention: input.retention ?? null,
        createdBy: ctx.actor,
        createdAt: at,
        updatedAt: at,
      };
      await store.insertModel(tx, row);
      await recordAudit(tx, ctx, clock.now(), {
        action: "model.created",
        subjectType: "model",
        subjectId: row.id,
        after: row,
      });
      return (await store.getModel(tx, input.name))!;
    });
  }

  async function updateModel(ctx: RequestContext, name: string, patch: ModelPatch, q?: Tx): Promise<Model> {
    return inTx(q, async (tx) => {
      const before = await modelRowOrThrow(tx, name, true);
      const after: store.ModelRow = {
        ...before,
        ...patch,
        updatedAt: clock.now().toISOString(),
      } as store.ModelRow;
      await store.updateModelRow(tx, after);
      await recordAudit(tx, ctx, clock.now(), {
        action: "model.updated",
        subjectType: "model",
        subjectId: before.id,
        before,
        after,
      });
      return (await store.getModel(tx, name))!;
    });
  }

  async function registerVersion(
    ctx: RequestContext,
    modelName: string,
    input: VersionCreate,
    q?: Tx,
    cardSource: "api" | "spec" | "demo" = "api",
  ): Promise<Version> {
    const parameters = validateProvider(input);
    return inTx(q, async (tx) => {
      const model = await modelRowOrThrow(tx, modelName, true);
      const parsed = semver.parse(input.version)!;
      const existing = await store.versionsOfModel(tx, model.id);
      const same = existing.find((v) => semver.compare(v.version, input.version) === 0);
      if (same)
        throw conflict(`version ${input.version} of '${modelName}' already exists (as ${same.version})`, [
          { field: "version", reason: "already registered" },
        ]);
      // Semver has teeth: within a major, a new minor/patch must keep the nearest lower release's
      // contract (a prerelease promises nothing, so it is not what the next version answers to).
      const previous = existing
        .filter(
          (v) =>
            semver.major(v.version) === parsed.major &&
            semver.lt(v.version, input.version) &&
            semver.prerelease(v.version) === null,
        )
        .sort((a, b) => semver.rcompare(a.version, b.version))[0];
      if (previous && parsed.major !== 0) {
        const compat = checkContractCompat(previous.contract as never, input.contract as never);
        if (!compat.compatible)
          throw conflict(
            `version ${input.version} breaks the contract of ${previous.version}: a breaking change needs a new major version`,
            compat.problems.map((p) => ({
              field: `contract.${p.field}`,
              reason: `${p.change}: ${p.detail}`,
            })),
            { previousVersion: previous.version, incompatibleFields: compat.problems.map((p) => p.field) },
          );
      }
      let retrainedFromVersionId: string | null = null;
      if (input.retrainedFrom) {
        const from = existing.find((v) => v.version === input.retrainedFrom!.version);
        if (!from)
          throw invalid(
            "body.retrainedFrom.version",
            `version ${input.retrainedFrom.version} of '${modelName}' is not registered`,
          );
        if (!deps.retrainedCandidate)
          throw invalid("body.retrainedFrom.task", "this server does not track retraining tasks");
        await deps.retrainedCandidate.check(tx, { id: model.id, name: model.name }, input.retrainedFrom.task);
        retrainedFromVersionId = from.id;
      }
      const at = clock.now().toISOString();
      const endpoint = input.endpoint ?? null;
      const row: store.VersionInsert = {
        id: newId("ver"),
        modelId: model.id,
        version: input.version,
        major: parsed.major,
        minor: parsed.minor,
        patch: parsed.patch,
        prerelease: parsed.prerelease.join("."),
        provider: input.provider,
        providerModelId: input.providerModelId,
        endpoint,
        parameters,
        artifact: input.artifact ?? null,
        contract: input.contract ?? null,
        changelog: input.changelog,
        pinnedDigest: pinnedDigest({ ...input, endpoint, parameters }),
        metrics: input.metrics,
        limitations: input.limitations,
        tags: input.tags,
        status: "development",
        createdBy: ctx.actor,
        at,
        retrainedFromVersionId,
        retrainingTaskId: input.retrainedFrom ? input.retrainedFrom.task : null,
      };
      await store.insertVersion(tx, row);
      await tx.query(
        `INSERT INTO version_status_history (id, version_id, from_status, to_status, reason, actor, at)
         VALUES ($1, $2, NULL, 'development', 'registered', $3, $4)`,
        [newId("vsh"), row.id, ctx.actor, at],
      );
      const version = (await store.getVersionById(tx, row.id))!;
      await recordAudit(tx, ctx, clock.now(), {
        action: "version.registered",
        subjectType: "model_version",
        subjectId: row.id,
        after: version,
      });
      if (input.retrainedFrom) await deps.retrainedCandidate!.registered(tx, ctx, version);
      if (input.card) {
        const rev = await appendRevision(tx, {
          versionId: row.id,
          content: input.card,
          source: cardSource,
          actor: ctx.actor,
          at,
        });
        await recordAudit(tx, ctx, clock.now(), {
          action: "card.revised",
          subjectType: "model_version",
          subjectId: row.id,
          after: { revision: rev.revision, contentHash: rev.contentHash },
        });
      }
      return version;
    });
  }

  async function updateVersion(
    ctx: RequestContext,
    model: string,
    version: string,
    patch: VersionPatch,
    q?: Tx,
  ) {
    return inTx(q, async (tx) => {
      await modelRowOrThrow(tx, model, true);
      const before = await versionOrThrow(tx, model, version);
      const next = {
        metrics: patch.metrics ?? before.metrics,
        limitations: patch.limitations ?? before.limitations,
        tags: patch.tags ?? before.tags,
      };
      await store.updateVersionMutable(tx, before.id, { ...next, at: clock.now().toISOString() });
      if (next.tags.join() !== before.tags.join())
        await deps.segmentsAffected?.(tx, model, "these tags", "body.tags");
      await recordAudit(tx, ctx, clock.now(), {
        action: "version.updated",
        subjectType: "model_version",
        subjectId: before.id,
        before: { metrics: before.metrics, limitations: before.limitations, tags: before.tags },
        after: next,
      });
      return (await store.getVersionById(tx, before.id))!;
    });
  }

  async function listVersions(query: VersionQuery) {
    let after: [string, string] | undefined;
    if (query.cursor) {
      const parts = store.decodeCursor(query.cursor);
      if (parts?.length !== 2 || typeof parts[0] !== "string" || typeof parts[1] !== "string")
        throw invalid("query.cursor", "not a cursor this server issued");
      after = [parts[0], parts[1]];
    }
    const r = await store.listVersions(db, { ...query, after });
    return { items: r.items, nextCursor: r.next };
  }

  /** The production versions of models serving a use case, best first by a named metric. */
  async function recommend(query: RecommendQuery) {
    const order = query.order ?? (LOWER_IS_BETTER.test(query.metric) ? "asc" : "desc");
    const rows = await db.query<{ id: string; value: number }>(
      `SELECT v.id, (v.metrics ->> $2)::double precision AS value
         FROM model_versions v JOIN models m ON m.id = v.model_id
        WHERE v.status = 'production' AND $1 = ANY(m.use_cases) AND v.metrics ? $2
        ORDER BY value ${order === "asc" ? "ASC" : "DESC"}, v.promoted_at DESC, v.id
        LIMIT $3`,
      [query.useCase, query.metric, query.limit],
    );
    const versions = await store.versionsByIds(
      db,
      rows.map((r) => r.id),
    );
    const items = rows.map((r, i) => ({
      rank: i + 1,
      metric: query.metric,
      value: r.value,
      serving: versions[i]!.aliases.includes("production"),
      version: versions[i]!,
    }));
    return { useCase: query.useCase, metric: query.metric, order, items };
  }

  async function setPolicy(ctx: RequestContext, policy: RegistryPolicy, q?: Tx) {
    return inTx(q, async (tx) => {
      const before = await readPolicy(tx);
      await writePolicy(tx, policy, clock.now().toISOString());
      await recordAudit(tx, ctx, clock.now(), {
        action: "registry_policy.updated",
        subjectType: "registry_policy",
        subjectId: "default",
        before,
        after: policy,
      });
      return policy;
    });
  }

  return {
    createModel,
    updateModel,
    getModel: async (name: string) =>
      (await store.getModel(db, name)) ?? Promise.reject(notFound(`model '${name}'`)),
    listModels: async (query: ModelQuery) => {
      const r = await store.listModels(db, query);
      return { items: r.items, nextCursor: r.next };
    },
    registerVersion,
    updateVersion,
    /** Pins and parameters as registration would store them; `apply` compares them with what is registered. */
    normalisePinned: (input: VersionCreate) => {
      const parameters = validateProvider(input);
      return {
        parameters,
        pinnedDigest: pinnedDigest({ ...input, endpoint: input.endpoint ?? null, parameters }),
      };
    },
    getVersion: (model: string, version: string) => versionOrThrow(db, model, version),
    listVersions,
    recommend,
    getPolicy: () => readPolicy(db),
    setPolicy,
    ...lifecycle,
  };
}

export type RegistryService = ReturnType<typeof createRegistryService>;
