import type { Requirements } from "../../engines/policy/approval-policy.ts";
import { AppError } from "../../lib/errors.ts";
import type { Evidence } from "./approvals.schemas.ts";

/**
 * A failing release gate refuses the approval request itself, with the failing numbers: the
 * version's latest evaluation evidence, judged by the gates this request would be made under.
 * Null when nothing blocks.
 */
export function refusedByGates(
  evidence: readonly Evidence[],
  req: Requirements,
  label: string,
): AppError | null {
  const blocked = evidence.filter(
    (e) =>
      req.evidence.includes(e.kind as never) &&
      (e.kind === "benchmark-passed" || e.kind === "fairness-passed") &&
      e.passed === false &&
      (e.details?.gatesHash ?? null) === (req.gatesHash ?? null),
  );
  if (!blocked.length) return null;
  return new AppError(
    "precondition_failed",
    `the release gates block approval of ${label}: ${blocked.map((e) => e.summary).join("; ")}`,
    {
      errors: blocked.flatMap((e) =>
        ((e.details?.failures as { reason: string }[] | undefined) ?? [{ reason: e.summary }]).map((f) => ({
          field: `evidence.${e.kind}`,
          reason: f.reason,
        })),
      ),
    },
  );
}
