// The release gate per segment (issue 19, point 4): the approval policy names segments of
// traffic (a condition over the evaluation context) and what a version served to each must have
// (tags, passing release gates, sign-offs). A flag write or enable is refused, naming the rule
// or the default that would send a segment to a version lacking them. Which variants reach a
// segment is the flags engine's sound analysis (engines/flags/segments.ts): in doubt, a variant
// reaches.

import { modelTargets, variantsReaching } from "../../engines/flags/index.ts";
import {
  judgeBenchmark,
  judgeFairness,
  type ReleaseGate,
  type RunFacts,
} from "../../engines/policy/gates.ts";
import { AppError } from "../../lib/errors.ts";
import type { Queryable } from "../../store/db.ts";
import type { Segment } from "../approvals/index.ts";
import type { FlagInput } from "./flags.schemas.ts";
import { resolveTarget } from "./release-gate.ts";
import { toDefinition } from "./to-definition.ts";

/** What the segment gate reads of the policy, the approvals and the evaluation runs. */
export interface SegmentFacts {
  policy(q: Queryable): Promise<{ segments: Segment[]; gates: ReleaseGate[] }>;
  /** Approving sign-offs per role on the version's latest approved request; null without one. */
  signedRoles(q: Queryable, versionId: string): Promise<Record<string, number> | null>;
  latestRun(
    q: Queryable,
    versionId: string,
    suite?: string,
  ): Promise<{ runId: string; facts: RunFacts } | null>;
}

type Version = { id: string; version: string; tags: string[] };

/** What the version lacks for the segment, in words (empty: it may be served there). */
async function lacks(
  q: Queryable,
  v: Version,
  segment: Segment,
  gates: readonly ReleaseGate[],
  facts: SegmentFacts,
): Promise<string[]> {
  const out: string[] = [];
  const { tags, roles } = segment.require;
  const missing = (tags ?? []).filter((t) => !v.tags.includes(t));
  if (missing.length) out.push(`lacks the tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")}`);
  for (const name of segment.require.gates ?? []) {
    const gate = gates.find((g) => g.name === name);
    if (!gate) {
      out.push(`the release gate ${name} is not in the policy`);
      continue;
    }
    const run = await facts.latestRun(q, v.id, gate.suite);
    if (!run) {
      out.push(
        `has no completed evaluation run${gate.suite ? ` of suite ${gate.suite}` : ""} for the gate ${name}`,
      );
      continue;
    }
    const verdicts = [
      judgeBenchmark([gate], run.facts),
      ...(gate.fairness ? [judgeFairness([gate], run.facts)] : []),
    ];
    const failures = verdicts.flatMap((x) => x.failures.map((f) => f.reason));
    if (failures.length) out.push(`fails the gate ${name} on run ${run.runId}: ${failures.join("; ")}`);
  }
  if (roles) {
    const signed = await facts.signedRoles(q, v.id);
    for (const [role, n] of Object.entries(roles)) {
      const got = signed?.[role] ?? 0;
      if (got < n)
        out.push(
          signed
            ? `its approval carries ${got} of the ${n} ${role} sign-off(s) the segment needs`
            : `has no approval with the ${n} ${role} sign-off(s) the segment needs`,
        );
    }
  }
  return out;
}

/** Throws 422 naming every rule or default that sends a segment to a version it may not reach. */
export async function checkSegments(q: Queryable, flag: FlagInput, facts: SegmentFacts): Promise<void> {
  const { segments, gates } = await facts.policy(q);
  if (!segments.length) return;
  const targets = new Map(modelTargets(flag).map((t) => [t.variant, t]));
  if (!targets.size) return;
  const def = toDefinition(flag);
  const errors: { field: string; reason: string }[] = [];
  const versions = new Map<string, Awaited<ReturnType<typeof resolveTarget>>>();
  for (const segment of segments) {
    for (const reach of variantsReaching(def, segment.when)) {
      const t = targets.get(reach.variant);
      if (!t) continue;
      if (!versions.has(t.variant)) versions.set(t.variant, await resolveTarget(q, t));
      const v = versions.get(t.variant);
      if (!v || typeof v === "string") continue; // the release gate names these
      const problems = await lacks(q, v, segment, gates, facts);
      if (problems.length)
        errors.push({
          field: reach.via,
          reason: `sends segment ${segment.name} to variant ${reach.variant} (${t.model}@${v.version}), which ${problems.join("; ")}`,
        });
    }
  }
  const unique = errors.filter(
    (e, i) => errors.findIndex((x) => x.field === e.field && x.reason === e.reason) === i,
  );
  if (unique.length)
    throw new AppError("unprocessable", `${unique[0]!.field}: ${unique[0]!.reason}`, { errors: unique });
}
