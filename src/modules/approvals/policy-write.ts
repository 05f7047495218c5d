// What a policy write changes, and whether it may: rules and gates compared by name, and a
// write that removes any refused unless the caller confirmed it. Pure: the service runs it
// inside its transaction.

import { isDeepStrictEqual } from "node:util";
import { AppError, invalid } from "../../lib/errors.ts";
import type { ApprovalPolicy, PolicyChange } from "./approvals.schemas.ts";

/** Rules or gates compared by name: added, removed, or changed in any field. */
function diffByName<T extends { name: string }>(
  kind: PolicyChange["kind"],
  before: readonly T[],
  after: readonly T[],
) {
  const out: PolicyChange[] = [];
  const old = new Map(before.map((x) => [x.name, x]));
  const now = new Map(after.map((x) => [x.name, x]));
  for (const [name, x] of now) {
    const was = old.get(name);
    if (!was) out.push({ kind, name, change: "added" });
    else if (!isDeepStrictEqual(was, x)) out.push({ kind, name, change: "changed" });
  }
  for (const name of old.keys()) if (!now.has(name)) out.push({ kind, name, change: "removed" });
  return out;
}

/** A write: the rules, and whichever of the other parts it replaces (left out: those in force stay). */
export type PolicyWrite = { rules: ApprovalPolicy["rules"] } & Partial<Omit<ApprovalPolicy, "rules">>;

/**
 * The policy a write leads to (gates left out keep those in force) and its changes; throws
 * a 412 naming every removed rule or gate unless `allowRemovals`.
 */
export function planPolicyWrite(
  current: ApprovalPolicy,
  input: PolicyWrite,
  allowRemovals: boolean,
): { next: ApprovalPolicy; changes: PolicyChange[] } {
  const next: ApprovalPolicy = {
    rules: input.rules,
    gates: input.gates ?? current.gates,
    segments: input.segments ?? current.segments,
    flagChanges: input.flagChanges ?? current.flagChanges,
  };
  const changes = [
    ...diffByName("rule", current.rules, next.rules),
    ...diffByName("gate", current.gates, next.gates),
    ...diffByName("segment", current.segments, next.segments),
    ...diffByName("flagChange", current.flagChanges, next.flagChanges),
  ];
  const removed = changes.filter((c) => c.change === "removed");
  if (removed.length > 0 && !allowRemovals)
    throw new AppError(
      "precondition_failed",
      `this write removes ${removed.map((c) => `${c.kind} '${c.name}'`).join(", ")}; look at the changes (dry run) and confirm with allowRemovals (CLI: --allow-removals)`,
      {
        errors: removed.map((c) => ({ field: `body.${c.kind}s`, reason: `removes ${c.kind} '${c.name}'` })),
        details: { changes },
      },
    );
  return { next, changes };
}

/** A segment names release gates of the policy it is part of (400 naming the one missing). */
export function checkSegmentGates(p: ApprovalPolicy): void {
  const gates = new Set(p.gates.map((g) => g.name));
  for (const [i, s] of p.segments.entries())
    for (const [j, g] of (s.require.gates ?? []).entries())
      if (!gates.has(g))
        throw invalid(`body.segments.${i}.require.gates.${j}`, `no release gate named '${g}'`);
}
