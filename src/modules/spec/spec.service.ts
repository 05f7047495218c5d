import { createHash } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import canonicalize from "canonicalize";
import { validatePlan } from "../../engines/rollout/index.ts";
import type { Plan } from "../../engines/rollout/types.ts";
import type { RequestContext } from "../../http/context.ts";
import type { Clock } from "../../lib/clock.ts";
import { AppError, conflict } from "../../lib/errors.ts";
import type { Db, Tx } from "../../store/db.ts";
import { readGates, readRules } from "../approvals/approvals.store.ts";
import type { ApprovalsService } from "../approvals/index.ts";
import { recordAudit } from "../audit/index.ts";
import { latestRevision } from "../cards/cards.store.ts";
import { type CardContent, type CardsService, cardHash, parseHfCard } from "../cards/index.ts";
import type { FlagsService } from "../flags/index.ts";
import type { RouteConfigService } from "../gateway/index.ts";
import type { MonitoringService } from "../monitoring/index.ts";
import {
  findVersion,
  type ModelPatch,
  modelRowByName,
  type RegistryService,
  readPolicy,
} from "../registry/index.ts";
import { savePlan, storedPlans } from "../rollouts/rollouts.store.ts";
import type { TrafficService } from "../traffic/index.ts";
import type { PlanItem, Spec } from "./spec.schemas.ts";

class DryRunRollback extends Error {}

/** Prefixes the field of a business error with where it sits in the spec: `models[0].versions[2].contract.output.x`. */
function at(path: string, err: unknown): never {
  if (err instanceof AppError) {
    const errors = err.errors.length
      ? err.errors.map((e) => ({ field: `${path}.${e.field}`, reason: e.reason }))
      : [{ field: path, reason: err.message }];
    throw new AppError(err.code, `${path}: ${err.message}`, { errors, details: err.details });
  }
  throw err;
}

const diff = (before: Record<string, unknown>, after: Record<string, unknown>) => {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const [k, to] of Object.entries(after)) {
    if (to !== undefined && !isDeepStrictEqual(before[k] ?? null, to ?? null))
      changes[k] = { from: before[k] ?? null, to };
  }
  return changes;
};

export function createSpecService(deps: {
  db: Db;
  clock: Clock;
  registry: RegistryService;
  cards: CardsService;
  approvals: ApprovalsService;
  routes: RouteConfigService;
  /** Traffic targets of containerised models (`trafficTargets:`). */
  traffic?: TrafficService;
  /** Monitors (`monitors:`). */
  monitoring?: Pick<MonitoringService, "configIn" | "setConfig">;
  /** Feature flags (`flags:`). */
  flags?: Pick<FlagsService, "putTx">;
}) {
  const { db, clock, registry, cards, approvals, routes } = deps;

  async function reconcile(tx: Tx, ctx: RequestContext, spec: Spec): Promise<PlanItem[]> {
    const plan: PlanItem[] = [];
    if (spec.registry) {
      const current = await readPolicy(tx);
      const next = {
        retention: spec.registry.retention ?? current.retention,
        requiredCardSections: spec.registry.requiredCardSections ?? current.requiredCardSections,
      };
      const changes = diff(current, next);
      if (Object.keys(changes).length) {
        await registry.setPolicy(ctx, next, tx);
        plan.push({ action: "update_policy", target: "registry", changes });
      }
    }
    if (spec.approvals) {
      const current = (await readRules(tx)) ?? [];
      const currentGates = await readGates(tx);
      const names = (xs: unknown[]) => xs.map((r) => (r as { name: string }).name);
      if (
        !isDeepStrictEqual(current, spec.approvals.rules) ||
        !isDeepStrictEqual(currentGates, spec.approvals.gates)
      ) {
        await approvals.setPolicy(ctx, spec.approvals, tx);
        plan.push({
          action: "update_approval_policy",
          target: "approvals",
          changes: {
            rules: { from: names(current), to: names(spec.approvals.rules) },
            gates: { from: names(currentGates), to: names(spec.approvals.gates) },
          },
        });
      }
    }
    for (const [i, m] of spec.models.entries()) {
      const path = `models[${i}]`;
      const existing = await modelRowByName(tx, m.name);
      const { versions, ...fields } = m;
      try {
        if (!existing) {
          await registry.createModel(
            ctx,
            {
              ...fields,
              description: fields.description ?? "",
              useCases: fields.useCases ?? [],
              tags: fields.tags ?? [],
            },
            tx,
          );
          plan.push({ action: "create_model", target: m.name });
        } else {
          const current = {
            owner: existing.owner,
            description: existing.description,
            useCases: existing.use_cases,
            riskTier: existing.risk_tier,
            tags: existing.tags,
            retention: existing.retention,
          };
          const changes = diff(current, { ...fields, name: undefined });
          if (Object.keys(changes).length) {
            const patch = Object.fromEntries(
              Object.entries(changes).map(([k, v]) => [k, v.to]),
            ) as ModelPatch;
            await registry.updateModel(ctx, m.name, patch, tx);
            plan.push({ action: "update_model", target: m.name, changes });
          }
        }
      } catch (err) {
        at(path, err);
      }
      for (const [j, v] of versions.entries()) {
        const vpath = `${path}.versions[${j}]`;
        const target = `${m.name}@${v.version}`;
        const { card, cardMarkdown, cardFile, ...versionInput } = v;
        if (cardFile !== undefined)
          throw new AppError(
            "invalid_input",
            `${vpath}.cardFile: the CLI inlines card files; send cardMarkdown`,
            {
              errors: [
                { field: `${vpath}.cardFile`, reason: "not resolved: send the card's text as cardMarkdown" },
              ],
            },
          );
        try {
          const content: CardContent | undefined =
            cardMarkdown !== undefined ? parseHfCard(cardMarkdown) : card;
          const registered = await findVersion(tx, m.name, v.version);
          if (!registered) {
            await registry.registerVersion(
              ctx,
              m.name,
              {
                ...versionInput,
                metrics: versionInput.metrics ?? {},
                limitations: versionInput.limitations ?? [],
                tags: versionInput.tags ?? [],
                card: content,
              },
              tx,
              "spec",
            );
            plan.push({ action: "register_version", target });
            continue;
          }
          const { pinnedDigest } = registry.normalisePinned({
            ...versionInput,
            metrics: {},
            limitations: [],
            tags: [],
          });
          if (pinnedDigest !== registered.pinnedDigest) {
            const pinnedNow = {
              provider: registered.provider,
              providerModelId: registered.providerModelId,
              endpoint: registered.endpoint,
              parameters: registered.parameters,
              artifact: registered.artifact,
              contract: registered.contract,
              changelog: registered.changelog,
            };
            const wanted = {
              ...versionInput,
              endpoint: versionInput.endpoint ?? null,
              artifact: versionInput.artifact ?? null,
              contract: versionInput.contract ?? null,
            };
            const fields = Object.keys(diff(pinnedNow, wanted)).filter((k) => k in pinnedNow);
            throw conflict(
              `${target} is registered and pinned; ${fields.join(", ") || "its pinned fields"} differ: register a new version instead`,
              (fields.length ? fields : ["version"]).map((f) => ({
                field: f,
                reason: "pinned field differs from the registered version",
              })),
            );
          }
          const changes = diff(registered as unknown as Record<string, unknown>, {
            metrics: versionInput.metrics,
            limitations: versionInput.limitations,
            tags: versionInput.tags,
          });
          if (Object.keys(changes).length) {
            await registry.updateVersion(
              ctx,
              m.name,
              v.version,
              Object.fromEntries(Object.entries(changes).map(([k, c]) => [k, c.to])),
              tx,
            );
            plan.push({ action: "update_version", target, changes });
          }
          if (content) {
            const latest = await latestRevision(tx, registered.id);
            if (latest?.contentHash !== cardHash(content)) {
              const saved = await cards.saveTx(tx, ctx, m.name, v.version, content, "spec");
              plan.push({
                action: "revise_card",
                target,
                changes: { revision: { from: latest?.revision ?? null, to: saved.revision } },
              });
            }
          }
        } catch (err) {
          at(vpath, err);
        }
      }
    }
    // Rollout plans: checked by the judge's own rules, saved by name; plans not named stay.
    const stored = await storedPlans(tx);
    for (const [name, body] of Object.entries(spec.rollouts?.plans ?? {})) {
      const next = { ...body, name } as Plan;
      const problem = validatePlan(next)[0];
      if (problem)
        throw new AppError("invalid_input", `rollouts.plans.${name}.${problem.field}: ${problem.reason}`, {
          errors: [{ field: `rollouts.plans.${name}.${problem.field}`, reason: problem.reason }],
        });
      const current = stored[name];
      if (current && isDeepStrictEqual(JSON.parse(JSON.stringify(current)), JSON.parse(JSON.stringify(next))))
        continue;
      await savePlan(tx, next, clock.now());
      plan.push({
        action: "update_rollout_plan",
        target: name,
        changes: { plan: { from: current ?? null, to: next } },
      });
    }
    // Flags after the models (a variant may name a version the models section just registered),
    // before the routes (a route may defer to a flag this spec creates).
    for (const [key, body] of Object.entries(spec.flags ?? {})) {
      try {
        if (!deps.flags) throw new AppError("invalid_input", "flags are not available here");
        const out = await deps.flags.putTx(tx, ctx, { key, ...body }, "upsert");
        // A governed flag's change waits for sign-offs: the apply records the request, not the flag.
        if (out.change === "pending")
          plan.push({
            action: "request_flag_change",
            target: key,
            changes: { changeRequest: { from: null, to: out.request.id } },
          });
        else if (out.change !== "unchanged")
          plan.push({
            action: out.change === "created" ? "create_flag" : "update_flag",
            target: key,
            changes: {
              revision: {
                from: out.change === "created" ? null : out.flag.revision - 1,
                to: out.flag.revision,
              },
            },
          });
      } catch (err) {
        at(`flags.${key}`, err);
      }
    }
    // Routes last: they name versions the models section may have just registered.
    for (const [name, cfg] of Object.entries(spec.routes ?? {})) {
      try {
        const current = await routes.getIn(tx, name);
        if (!isDeepStrictEqual(JSON.parse(JSON.stringify(current)), JSON.parse(JSON.stringify(cfg)))) {
          await routes.set(ctx, name, cfg, tx);
          plan.push({ action: "update_route", target: name, changes: { route: { from: current, to: cfg } } });
        }
      } catch (err) {
        at(`routes.${name}`, err);
      }
    }
    // Traffic targets name versions too; a target left out of the spec stays as it is.
    for (const [name, target] of Object.entries(spec.trafficTargets ?? {})) {
      try {
        if (!deps.traffic) throw new AppError("invalid_input", "traffic targets are not available here");
        const current = await deps.traffic.targetIn(tx, name);
        if (!isDeepStrictEqual(current, target)) {
          await deps.traffic.set(ctx, name, target, { tx, field: "" });
          plan.push({
            action: "update_traffic_target",
            target: name,
            changes: { trafficTarget: { from: current, to: target } },
          });
        }
      } catch (err) {
        at(`trafficTargets.${name}`, err);
      }
    }
    // Monitors last: a monitor names models the spec may have just created.
    for (const [name, cfg] of Object.entries(spec.monitors ?? {})) {
      try {
        if (!deps.monitoring) throw new AppError("invalid_input", "monitoring is not available here");
        const current = await deps.monitoring.configIn(tx, name);
        if (!isDeepStrictEqual(JSON.parse(JSON.stringify(current)), JSON.parse(JSON.stringify(cfg)))) {
          await deps.monitoring.setConfig(ctx, name, cfg, { tx, field: "" });
          plan.push({
            action: "update_monitor",
            target: name,
            changes: { monitor: { from: current, to: cfg } },
          });
        }
      } catch (err) {
        at(`monitors.${name}`, err);
      }
    }
    return plan;
  }

  return {
    /** Reconciles the spec in one transaction; a dry run executes the same code and rolls back. */
    async apply(ctx: RequestContext, spec: Spec, dryRun: boolean) {
      const specHash = `sha256:${createHash("sha256").update(canonicalize(spec)!).digest("hex")}`;
      let plan: PlanItem[] = [];
      try {
        await db.transaction(async (tx) => {
          plan = await reconcile(tx, ctx, spec);
          if (dryRun) throw new DryRunRollback();
          if (plan.length)
            await recordAudit(tx, ctx, clock.now(), {
              action: "spec.applied",
              subjectType: "spec",
              subjectId: specHash,
              after: { changes: plan },
            });
        });
      } catch (err) {
        if (!(err instanceof DryRunRollback)) throw err;
      }
      return { dryRun, applied: !dryRun && plan.length > 0, changes: plan, specHash };
    },
  };
}

export type SpecService = ReturnType<typeof createSpecService>;
