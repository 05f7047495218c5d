// The release gate on flag writes: a variant that names a model version (`model@1.2.0`, a
// router version included) or an alias (`model@canary`) must be servable as the gateway serves
// it: production or deprecated, or an approval in force. Checked in the write's transaction.

import { type ModelTarget, modelTargets } from "../../engines/flags/index.ts";
import { AppError } from "../../lib/errors.ts";
import type { Queryable } from "../../store/db.ts";
import { currentAliasTarget, findVersion, getVersionById, modelIdByName } from "../registry/index.ts";
import type { FlagInput } from "./flags.schemas.ts";

/** Whether a version outside production/deprecated has an approval in force (the approvals' gate). */
export type ServableGate = (q: Queryable, versionId: string) => Promise<{ ok: boolean }>;

type Version = NonNullable<Awaited<ReturnType<typeof getVersionById>>>;

/**
 * The version a variant names, as the gateway would resolve it now; `null` when the value is not
 * a model reference after all (`ops@example.com`); a string saying why when it names nothing.
 */
export async function resolveTarget(q: Queryable, t: ModelTarget): Promise<Version | string | null> {
  const named = `${t.model}@${t.ref}`;
  const modelId = await modelIdByName(q, t.model);
  // `ops@example.com` is a string, not a model; `typo@1.2.0` is a model that does not exist.
  if (!modelId) return t.kind === "alias" ? null : `${named}: no model named ${t.model}`;
  const version =
    t.kind === "version"
      ? await findVersion(q, t.model, t.ref)
      : await currentAliasTarget(q, modelId, t.ref).then((id) => (id ? getVersionById(q, id) : null));
  if (version) return version;
  return t.kind === "version"
    ? `${named}: no such version`
    : `${named}: the alias ${t.ref} points at no version`;
}

/** Throws 422 naming the first variant whose model version is not servable. */
export async function checkReleaseGate(q: Queryable, flag: FlagInput, servable: ServableGate): Promise<void> {
  for (const t of modelTargets(flag)) {
    const field = `variants.${t.variant}`;
    const refuse = (reason: string) => {
      throw new AppError("unprocessable", `${field}: ${reason}`, { errors: [{ field, reason }] });
    };
    const version = await resolveTarget(q, t);
    if (version === null) continue;
    if (typeof version === "string") return refuse(version);
    const status = version.status;
    if (status === "production" || status === "deprecated") continue;
    if (!(await servable(q, version.id)).ok)
      refuse(
        `${t.model}@${t.ref}${t.kind === "alias" ? ` (${version.version})` : ""} is ${status} without an approval in force: the gateway would not serve it`,
      );
  }
}

/** The models whose gateway route defers to this flag (model_routes.flag). */
export async function routedModels(q: Queryable, key: string): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    "SELECT m.name FROM model_routes r JOIN models m ON m.id = r.model_id WHERE r.flag = $1 ORDER BY m.name",
    [key],
  );
  return rows.map((r) => r.name);
}

/**
 * A flag a model's route defers to stays a string flag whose every variant names a version or
 * alias of that model, whatever later writes do (the route's own check runs only when the route
 * is set): otherwise a flag edit could send the model's traffic to another model.
 */
export async function checkRouteUse(q: Queryable, flag: FlagInput): Promise<void> {
  for (const model of await routedModels(q, flag.key)) {
    if (flag.type !== "string")
      throw new AppError(
        "unprocessable",
        `type: the route of ${model} defers to this flag: it stays a string flag`,
        {
          errors: [{ field: "type", reason: `the route of ${model} defers to this flag` }],
        },
      );
    for (const [name, value] of Object.entries(flag.variants)) {
      const v = value as string;
      const at = v.indexOf("@");
      if (at < 0 || v.slice(0, at) !== model || at === v.length - 1) {
        const field = `variants.${name}`;
        const reason = `the route of ${model} defers to this flag: its variants name ${model}@<version|alias>, not "${v}"`;
        throw new AppError("unprocessable", `${field}: ${reason}`, { errors: [{ field, reason }] });
      }
    }
  }
}

/** A flag a model's route defers to is not deleted from under it (the route is changed first). */
export async function checkNoRouteUse(q: Queryable, key: string): Promise<void> {
  const models = await routedModels(q, key);
  if (models.length)
    throw new AppError(
      "conflict",
      `the route of ${models.join(", ")} defers to flag ${key}: change the route first`,
      { errors: [{ field: "key", reason: `used by the route of ${models.join(", ")}` }] },
    );
}
